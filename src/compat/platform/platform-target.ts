/**
 * @module Which target serves a platform route, and the call through the pipeline: the body's
 * `model` (provider/model, a rotation id, or a bare model id of the default target's provider) or
 * aisbf.json `platform.<route>`; only candidates whose adapter has the method are tried.
 */
import type { Context } from 'hono';
import type { AppDeps, AppEnv } from '../../server/app-env.js';
import type { CallContext } from '../../providers/provider-adapter.js';
import type { Usage } from '../../providers/openai-types.js';
import type { Runtime } from '../../runtime.js';
import type { Candidate } from '../../routing/candidate.js';
import { adapterCan, type CapabilityMethod } from '../../routing/capability-filter.js';
import { candidatesForName } from '../../routing/target-candidates.js';
import { HttpError } from '../../errors/http-error.js';
import { providerModelRef, splitModelRef } from '../../config/model-ref.js';
import { runRequest, type CapabilityResult } from '../../pipeline/run-request.js';
import { requestMetaFromHttp } from '../../server/request-meta-from-http.js';

export type PlatformRoute = 'image' | 'edit_image' | 'llm' | 'tts' | 'stt' | 'embedding' | 'video' | 'image_to_video';

function defaultTarget(rt: Runtime, route: PlatformRoute): string | undefined {
  const p = rt.config.aisbf.platform;
  if (route === 'edit_image') return p.edit_image ?? p.image;
  if (route === 'image_to_video') return p.image_to_video ?? p.video;
  return p[route];
}

/**
 * `model` → a target name: a rotation id, `provider/model`, or a bare model id (the platform app
 * took Hugging Face ids such as `stabilityai/stable-diffusion-xl-base-1.0`) served by the provider of
 * the route's default target.
 */
export function platformTarget(rt: Runtime, route: PlatformRoute, model: string | null | undefined): string {
  const def = defaultTarget(rt, route);
  if (!model) {
    if (!def) throw new HttpError(400, `No model given and no default configured for this route: send "model" or set platform.${route} in aisbf.json`);
    return def;
  }
  if (rt.rotations.has(model)) return model;
  if (providerModelRef(rt.config.providers.providers, model)) return model;
  const defRef = def && !rt.rotations.has(def) ? splitModelRef(def) : undefined;
  if (defRef) return `${defRef.providerId}/${model}`;
  throw new HttpError(404, `Model '${model}' not found: use "provider/model" or a rotation id`);
}

/** Runs `call` on the route's target through the pipeline (failover, limits, accounting). */
export async function runPlatform<T>(
  c: Context<AppEnv>,
  deps: AppDeps,
  rt: Runtime,
  route: PlatformRoute,
  model: string | null | undefined,
  method: CapabilityMethod,
  call: (cand: Candidate, ctx: CallContext) => Promise<T>,
  usageOf?: (value: T) => Usage | undefined,
): Promise<CapabilityResult<T>> {
  const name = platformTarget(rt, route, model);
  const all = candidatesForName(rt, name);
  const able = all.filter((cand) => adapterCan(cand.adapter, method));
  if (!able.length) {
    throw new HttpError(400, `'${name}' cannot serve this route: ${all.map((x) => `${x.key} (${x.provider.type})`).join(', ')} ${all.length === 1 ? 'has' : 'have'} no ${method}`);
  }
  return runRequest(deps, requestMetaFromHttp(c, rt, 'platform'), {
    kind: 'capability',
    target: { name, candidates: able, rotationId: rt.rotations.has(name) ? name : undefined },
    call,
    usageOf,
    observer: c.get('reqLog'),
  });
}

/**
 * The Stable-Diffusion-style fields travel to adapters that read them (Hugging Face, Google); an
 * OpenAI-type upstream refuses fields it does not know, so they are left out there.
 */
export function extras<T extends Record<string, unknown>>(cand: Candidate, fields: T): Partial<T> {
  if (cand.provider.type === 'openai') return {};
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== null) (out as Record<string, unknown>)[k] = v;
  return out;
}
