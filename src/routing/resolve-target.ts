/**
 * @module Turns a route and a `model` string into what should serve it: a provider/model, a rotation,
 * or an autoselect. Resolution order for a bare id is autoselect → rotation → provider (AISBF).
 */
import { HttpError } from '../errors/http-error.js';
import { providerModelRef } from '../config/model-ref.js';
import type { Runtime } from '../runtime.js';
import { aliasTarget } from './model-aliases.js';
import { listOr } from './list-or.js';

export type Target =
  | { kind: 'provider'; providerId: string; model: string }
  | { kind: 'rotation'; id: string }
  | { kind: 'autoselect'; id: string };

/** Where the request came in: `/api/{id}`, `/api/rotations`, `/api/autoselect` or `/v1`. */
export type Scope = { base: 'id'; id: string } | { base: 'rotations' } | { base: 'autoselect' } | { base: 'v1' };

/** The ids a message offers, or that there are none. */
const list = (ids: Iterable<string>): string => listOr(ids, '(none configured)');

export function resolveTarget(rt: Runtime, scope: Scope, model: string | undefined, viaAlias = false): Target {
  const { config } = rt;
  const rotations = config.rotations.rotations;
  const autoselect = config.autoselect;
  const providers = config.providers.providers;
  switch (scope.base) {
    case 'id': {
      const id = scope.id;
      if (autoselect[id]) return { kind: 'autoselect', id };
      if (rotations[id]) return { kind: 'rotation', id };
      if (providers[id]) {
        if (!model) throw new HttpError(400, "Missing required parameter: 'model'.", { param: 'model', code: 'missing_required_parameter' });
        // `openai/gpt-4o` sent to /api/openai is the same model as `gpt-4o`.
        const m = model.startsWith(`${id}/`) ? model.slice(id.length + 1) : model;
        return { kind: 'provider', providerId: id, model: m };
      }
      throw new HttpError(404, `Provider ${id} not found. Valid ids: providers: ${list(Object.keys(providers))}; rotations: ${list(Object.keys(rotations))}; autoselect: ${list(Object.keys(autoselect))}.`, {
        param: 'provider',
        code: 'provider_not_found',
      });
    }
    case 'rotations':
      if (model && rotations[model]) return { kind: 'rotation', id: model };
      throw modelNotFound(model, `rotations: ${list(Object.keys(rotations))}`);
    case 'autoselect':
      if (model && autoselect[model]) return { kind: 'autoselect', id: model };
      throw modelNotFound(model, `autoselect ids: ${list(Object.keys(autoselect))}`);
    case 'v1': {
      if (!model) throw new HttpError(400, "Missing required parameter: 'model'.", { param: 'model', code: 'missing_required_parameter' });
      if (autoselect[model]) return { kind: 'autoselect', id: model };
      if (rotations[model]) return { kind: 'rotation', id: model };
      const ref = providerModelRef(providers, model);
      if (ref) return { kind: 'provider', providerId: ref.providerId, model: ref.model };
      // model_aliases (issue 17): a name that is not itself a target, mapped by glob; targets are checked at config load.
      const aliased = aliasTarget(config.aisbf.model_aliases, model);
      if (aliased !== undefined && aliased !== model && !viaAlias) return resolveTarget(rt, scope, aliased, true);
      throw modelNotFound(
        model,
        `use "provider/model" with a provider of ${list(Object.keys(providers))}, a rotation id (${listOr(Object.keys(rotations), 'none configured')}) or an autoselect id (${listOr(Object.keys(autoselect), 'none configured')}), or map the name with model_aliases in aisbf.json`,
      );
    }
  }
}

function modelNotFound(model: string | undefined, available: string): HttpError {
  if (!model) return new HttpError(400, "Missing required parameter: 'model'.", { param: 'model', code: 'missing_required_parameter' });
  return new HttpError(400, `Model '${model}' not found. Available: ${available}.`, { param: 'model', code: 'model_not_found' });
}
