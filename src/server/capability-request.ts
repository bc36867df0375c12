/**
 * @module What every capability route (embeddings, images, audio, videos) shares: registering one
 * handler on every base (`/api/rotations`, `/api/autoselect`, `/api/{id}`, `/v1`), resolving the
 * `model` to candidates that can serve the capability, and running them through the one attempt loop.
 */
import type { Context, Hono } from 'hono';
import type { AppDeps, AppEnv } from './app-env.js';
import type { CallContext } from '../providers/provider-adapter.js';
import type { Runtime } from '../runtime.js';
import type { Candidate, ClientKeys } from '../routing/candidate.js';
import { capableCandidates, type CapabilityNeed } from '../routing/capability-filter.js';
import { resolveTarget, type Scope, type Target } from '../routing/resolve-target.js';
import { runWithFallback, type AttemptOptions, type AttemptSuccess } from '../routing/run-with-fallback.js';
import { candidatesFor } from '../routing/target-candidates.js';
import { clientKeys } from './client-keys.js';

export type ScopedHandler = (c: Context<AppEnv>, scope: Scope) => Promise<Response>;

/** Registers `handler` for `path` under every base. The rotations/autoselect bases come first. */
export function onEveryBase(app: Hono<AppEnv>, method: 'get' | 'post', path: string, handler: ScopedHandler): void {
  app[method](`/api/rotations${path}`, (c) => handler(c, { base: 'rotations' }));
  app[method](`/api/autoselect${path}`, (c) => handler(c, { base: 'autoselect' }));
  app[method](`/api/:id${path}`, (c) => handler(c, { base: 'id', id: c.req.param('id') ?? '' }));
  app[method](`/v1${path}`, (c) => handler(c, { base: 'v1' }));
}

/** An unknown `/api/{id}` is a 404 whatever the body says: checked before reading the body. */
export function checkScope(rt: Runtime, scope: Scope): void {
  if (scope.base === 'id') resolveTarget(rt, scope, '*');
}

export interface CapabilityPlan {
  target: Target;
  candidates: Candidate[];
  /** The rotation the candidates came from (directly, or as an autoselect's fallback). */
  rotationId?: string;
}

/** model → target → the candidates that can serve `need` (400 naming the capability when none). */
export function planCapability(rt: Runtime, scope: Scope, model: string | undefined, need: CapabilityNeed): CapabilityPlan {
  const target = resolveTarget(rt, scope, model);
  const all = candidatesFor(rt, target);
  let rotationId: string | undefined;
  let targetName: string;
  switch (target.kind) {
    case 'provider':
      targetName = `${target.providerId}/${target.model}`;
      break;
    case 'rotation':
      rotationId = target.id;
      targetName = `rotation ${target.id}`;
      break;
    case 'autoselect': {
      // Non-chat capabilities have nothing to select on: the autoselect's fallback serves them.
      const fallback = rt.config.autoselect[target.id]!.fallback;
      if (rt.rotations.has(fallback)) rotationId = fallback;
      targetName = `autoselect ${target.id} (fallback ${fallback})`;
      break;
    }
  }
  const candidates = capableCandidates(rt, all, need, { direct: target.kind === 'provider', targetName });
  return { target, candidates, rotationId };
}

export interface CapabilityRun<T> extends AttemptSuccess<T> {
  plan: CapabilityPlan;
  keys: ClientKeys;
}

/** Runs `call` over the plan's candidates with failover, and notes what served it in the request log. */
export async function runCapability<T>(
  c: Context<AppEnv>,
  deps: AppDeps,
  rt: Runtime,
  plan: CapabilityPlan,
  call: (cand: Candidate, ctx: CallContext) => Promise<T>,
): Promise<CapabilityRun<T>> {
  const keys = clientKeys(c, rt);
  const rotationConfig = plan.rotationId ? rt.config.rotations.rotations[plan.rotationId] : undefined;
  const opts: AttemptOptions = {
    runtime: rt,
    keys,
    signal: c.req.raw.signal,
    log: deps.log,
    routing: deps.routing,
    rotation: plan.rotationId && rotationConfig ? { id: plan.rotationId, config: rotationConfig } : undefined,
  };
  const r = await runWithFallback(plan.candidates, call, opts);
  const reqLog = c.get('reqLog');
  reqLog.provider = r.candidate.providerId;
  reqLog.model = r.candidate.model;
  reqLog.attempts = r.attempts;
  return Object.assign(r, { plan, keys });
}

/** Headers that say what served a request. */
export function servedHeaders(r: AttemptSuccess<unknown>): Record<string, string> {
  return { 'x-aisbf-provider': r.candidate.providerId, 'x-aisbf-model': r.candidate.model, 'x-aisbf-attempts': String(r.attempts) };
}
