/**
 * @module Model listings. Every list answers OpenAI's `{"object":"list","data":[…]}` (so the openai
 * SDK's models.list() works on every base URL), each entry keeping AISBF's extra fields;
 * `?format=array` gives AISBF 0.3.3's bare array. Also the rotation and autoselect overviews.
 */
import type { Context, Hono } from 'hono';
import type { AppDeps, AppEnv } from '../app-env.js';
import type { ModelInfo } from '../../providers/provider-adapter.js';
import type { ProviderModelConfig } from '../../config/schema.js';
import type { Runtime } from '../../runtime.js';
import { ProviderError } from '../../providers/provider-error.js';
import { resolveKey } from '../../routing/resolve-key.js';
import { clientKeys } from '../client-keys.js';
import { HttpError } from '../errors.js';
import { resolveTarget } from '../../routing/resolve-target.js';
import { providerModelRef } from '../../config/model-ref.js';
import { publicCandidateState } from '../../routing/routing-state.js';

type Entry = Record<string, unknown> & { id: string };

/**
 * A key scoped to model patterns sees only what it may call (CONTRACTS §7.2 item 23, as LiteLLM's
 * lists do): `targetOf` gives the target an entry stands for (`provider/model`, a rotation or
 * autoselect id). Without a scope every entry is shown.
 */
function listResponse(c: Context<AppEnv>, deps: AppDeps, data: Entry[], targetOf: (e: Entry) => string = (e) => e.id): Response {
  const scope = deps.identity.scopeOf(c.get('identity'));
  if (scope) data = data.filter((e) => scope(targetOf(e)));
  if (c.req.query('format') === 'array') return c.json(data);
  return c.json({ object: 'list', data });
}

function aisbfModelFields(providerId: string, m: Partial<ProviderModelConfig> | undefined) {
  return {
    provider_id: providerId,
    weight: 1,
    rate_limit: m?.rate_limit ?? null,
    max_request_tokens: m?.max_request_tokens ?? null,
    rate_limit_TPM: m?.rate_limit_TPM ?? null,
    rate_limit_TPH: m?.rate_limit_TPH ?? null,
    rate_limit_TPD: m?.rate_limit_TPD ?? null,
    context_size: m?.context_size ?? null,
    condense_context: m?.condense_context ?? null,
    condense_method: m?.condense_method ?? null,
    capabilities: m?.capabilities ?? null,
  };
}

/** A provider's models: from its API, falling back to the models listed in providers.json. */
async function providerModels(c: Context<AppEnv>, deps: AppDeps, rt: Runtime, id: string): Promise<Entry[]> {
  const provider = rt.config.providers.providers[id]!;
  const configured = new Map(provider.models.map((m) => [m.name, m]));
  const fromConfig = (): Entry[] =>
    provider.models.map((m) => ({ id: m.name, object: 'model', created: 0, owned_by: id, name: m.name, ...aisbfModelFields(id, m) }));
  const adapter = rt.adapters.get(id);
  const candidate = rt.candidate(id, '*');
  if (!adapter || !candidate || !provider.enabled) return fromConfig();
  let upstream: ModelInfo[];
  try {
    const apiKey = resolveKey(candidate, clientKeys(c, rt), rt.config.missingKeyEnv);
    upstream = await adapter.listModels({ model: '*', apiKey, signal: c.req.raw.signal, timeoutMs: Math.min(rt.timeoutMs(candidate), 15_000), log: deps.log });
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    deps.log.warn({ provider: id, kind: err.kind, status: err.status }, 'listing models upstream failed; using providers.json');
    c.header('x-aisbf-models-source', 'config');
    return fromConfig();
  }
  c.header('x-aisbf-models-source', 'upstream');
  return upstream.map((m) => ({ ...m, name: m.id, ...aisbfModelFields(id, configured.get(m.id)) }));
}

function rotationModels(rt: Runtime, rid: string): Entry[] {
  return (rt.rotations.get(rid) ?? []).map((cand) => ({
    id: cand.key,
    object: 'model',
    created: 0,
    owned_by: cand.providerId,
    name: rid,
    rotation_id: rid,
    actual_model: cand.model,
    provider_id: cand.providerId,
    weight: cand.weight,
    rate_limit: cand.settings.rate_limit ?? null,
  }));
}

function autoselectModels(rt: Runtime, aid: string): Entry[] {
  const sel = rt.config.autoselect[aid]!;
  return sel.available_models.map((m) => ({
    id: m.model_id,
    object: 'model',
    created: 0,
    owned_by: 'autoselect',
    name: aid,
    autoselect_id: aid,
    description: m.description,
    fallback: sel.fallback,
  }));
}

export function registerModelRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  // Fixed routes first: they must win over /api/:id/… .
  app.get('/api/rotations', (c) => {
    const rt = deps.runtime();
    const out: Record<string, unknown> = {};
    const scope = deps.identity.scopeOf(c.get('identity'));
    for (const [rid, rot] of Object.entries(rt.config.rotations.rotations)) {
      if (scope && !scope(rid)) continue;
      out[rid] = {
        model_name: rot.model_name ?? rid,
        strategy: rot.strategy,
        models: (rt.rotations.get(rid) ?? []).map((cand) => ({
          name: cand.model,
          provider_id: cand.providerId,
          weight: cand.weight,
          rate_limit: cand.settings.rate_limit ?? null,
          ...publicCandidateState(deps.routing, cand),
        })),
      };
    }
    return c.json(out);
  });
  app.get('/api/rotations/models', (c) => {
    const rt = deps.runtime();
    return listResponse(c, deps, Object.keys(rt.config.rotations.rotations).flatMap((rid) => rotationModels(rt, rid)), (e) => e.rotation_id as string);
  });
  app.get('/api/autoselect', (c) => {
    const rt = deps.runtime();
    const out: Record<string, unknown> = {};
    const scope = deps.identity.scopeOf(c.get('identity'));
    for (const [aid, sel] of Object.entries(rt.config.autoselect)) {
      if (scope && !scope(aid)) continue;
      out[aid] = { model_name: sel.model_name ?? aid, description: sel.description ?? null, fallback: sel.fallback, available_models: sel.available_models };
    }
    return c.json(out);
  });
  app.get('/api/autoselect/models', (c) => {
    const rt = deps.runtime();
    return listResponse(c, deps, Object.keys(rt.config.autoselect).flatMap((aid) => autoselectModels(rt, aid)), (e) => e.autoselect_id as string);
  });

  app.get('/api/:id/models', async (c) => {
    const rt = deps.runtime();
    const target = resolveTarget(rt, { base: 'id', id: c.req.param('id') }, '*');
    switch (target.kind) {
      case 'autoselect':
        return listResponse(c, deps, autoselectModels(rt, target.id), () => target.id);
      case 'rotation':
        return listResponse(c, deps, rotationModels(rt, target.id), () => target.id);
      case 'provider':
        return listResponse(c, deps, await providerModels(c, deps, rt, target.providerId), (e) => `${target.providerId}/${e.id}`);
    }
  });

  app.get('/v1/models', (c) => {
    const rt = deps.runtime();
    const data: Entry[] = [];
    for (const [pid, p] of Object.entries(rt.config.providers.providers)) {
      for (const m of p.models) data.push({ id: `${pid}/${m.name}`, object: 'model', created: 0, owned_by: pid, name: m.name, ...aisbfModelFields(pid, m) });
    }
    for (const [rid, rot] of Object.entries(rt.config.rotations.rotations)) {
      data.push({ id: rid, object: 'model', created: 0, owned_by: 'aisbf-rotation', name: rot.model_name ?? rid, rotation_id: rid });
    }
    for (const [aid, sel] of Object.entries(rt.config.autoselect)) {
      data.push({ id: aid, object: 'model', created: 0, owned_by: 'aisbf-autoselect', name: sel.model_name ?? aid, autoselect_id: aid, description: sel.description ?? null });
    }
    return listResponse(c, deps, data);
  });

  app.get('/v1/models/:model{.+}', (c) => {
    const rt = deps.runtime();
    const id = c.req.param('model');
    // Own keys only: `constructor` is not a rotation.
    const ref = providerModelRef(rt.config.providers.providers, id);
    const found =
      Object.hasOwn(rt.config.rotations.rotations, id) || Object.hasOwn(rt.config.autoselect, id) || (ref !== undefined && rt.config.providers.providers[ref.providerId]!.models.some((m) => m.name === ref.model));
    if (!found) throw new HttpError(404, `The model '${id}' does not exist.`, { param: 'model', code: 'model_not_found' });
    const scope = deps.identity.scopeOf(c.get('identity'));
    if (scope && !scope(id)) throw new HttpError(403, `This API key may not use ${JSON.stringify(id)}.`, { param: 'model', code: 'model_not_allowed' });
    return c.json({ id, object: 'model', created: 0, owned_by: ref ? ref.providerId : 'aisbf' });
  });
}
