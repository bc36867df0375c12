/**
 * @module The candidate list for a resolved target: one candidate for a provider/model, the
 * rotation's list for a rotation.
 */
import { HttpError } from '../errors/http-error.js';
import { splitModelRef } from '../config/model-ref.js';
import type { Runtime } from '../runtime.js';
import type { Candidate } from './candidate.js';
import type { Target } from './resolve-target.js';

export function providerCandidate(rt: Runtime, providerId: string, model: string): Candidate {
  const p = rt.config.providers.providers[providerId];
  if (p && !p.enabled) throw new HttpError(503, `Provider ${providerId} temporarily unavailable (disabled in providers.json).`, { code: 'provider_disabled' });
  const c = rt.candidate(providerId, model);
  if (!c) throw new HttpError(400, `Provider ${providerId} has unsupported type "${p?.type}".`, { param: 'model', code: 'unsupported_provider' });
  return c;
}

export function rotationCandidates(rt: Runtime, id: string): Candidate[] {
  const list = rt.rotations.get(id);
  if (!list) throw new HttpError(400, `Model '${id}' not found.`, { param: 'model', code: 'model_not_found' });
  return list;
}

/** A target that names a rotation or provider/model (autoselect fallbacks, helper models). */
export function candidatesForName(rt: Runtime, name: string): Candidate[] {
  if (rt.rotations.has(name)) return rotationCandidates(rt, name);
  const ref = splitModelRef(name);
  if (ref) return [providerCandidate(rt, ref.providerId, ref.model)];
  throw new HttpError(500, `"${name}" is neither a rotation nor provider/model.`);
}

export function candidatesFor(rt: Runtime, target: Target): Candidate[] {
  switch (target.kind) {
    case 'provider':
      return [providerCandidate(rt, target.providerId, target.model)];
    case 'rotation':
      return rotationCandidates(rt, target.id);
    case 'autoselect':
      // Without a selection (routes that do not ask the selector): the fallback. Chat routes run
      // selectAutoselect (routing/autoselect.ts) first and use the chosen target's candidates.
      return candidatesForName(rt, rt.config.autoselect[target.id]!.fallback);
  }
}
