/**
 * @module plan: what the client asked for → the target's name (for limits, cache and records) and,
 * after the cache missed, the candidates the attempt loop tries: a provider/model, a rotation's
 * members, or what an autoselect chose (capability-filtered for non-chat calls).
 */
import type { RotationConfig } from '../config/schema.js';
import type { ChatRequest } from '../providers/openai-types.js';
import type { Candidate } from '../routing/candidate.js';
import { capableCandidates, type CapabilityNeed } from '../routing/capability-filter.js';
import { resolveTarget, type Target } from '../routing/resolve-target.js';
import { fileReaders } from '../routing/file-readers.js';
import { candidatesFor, candidatesForName } from '../routing/target-candidates.js';
import { selectAutoselect, type AutoselectContext } from '../routing/autoselect.js';
import type { Runtime } from '../runtime.js';
import type { TargetRef } from './pipeline-request.js';

/** The first half of the plan (before limits and cache): which configured thing the client named. */
export interface ResolvedTarget {
  /** `provider/model`, a rotation id or an autoselect id. */
  name: string;
  /** Undefined for a pre-planned or named target. */
  target: Target | undefined;
}

export function resolveRef(rt: Runtime, ref: TargetRef): ResolvedTarget {
  if ('scope' in ref) {
    const target = resolveTarget(rt, ref.scope, ref.model);
    return { name: target.kind === 'provider' ? `${target.providerId}/${target.model}` : target.id, target };
  }
  return { name: ref.name, target: undefined };
}

export interface Plan {
  candidates: readonly Candidate[];
  rotation: { id: string; config: RotationConfig } | undefined;
  autoselect?: { chosen: string; reason: string };
}

function rotationNamed(rt: Runtime, id: string | undefined): Plan['rotation'] {
  const config = id === undefined ? undefined : rt.config.rotations.rotations[id];
  return config ? { id: id!, config } : undefined;
}

/** Chat: the candidates, after autoselect's selection when the target is an autoselect. */
export function planChat(rt: Runtime, ref: TargetRef, resolved: ResolvedTarget, req: ChatRequest, ctx: AutoselectContext): Plan | Promise<Plan> {
  const t = resolved.target;
  if (!t) return planNamed(rt, ref as Exclude<TargetRef, { scope: unknown }>);
  // Only an autoselect waits (for its selector); a provider or a rotation is planned at once.
  if (t.kind === 'autoselect') {
    return selectAutoselect(rt, t.id, req, ctx).then((choice) => ({
      candidates: choice.candidates,
      rotation: rotationNamed(rt, choice.chosen),
      autoselect: { chosen: choice.chosen, reason: choice.reason },
    }));
  }
  // A rotation keeps the members that can read the request's file parts (issue 19).
  const candidates = t.kind === 'rotation' ? fileReaders(candidatesFor(rt, t), req, t.id) : candidatesFor(rt, t);
  return { candidates, rotation: t.kind === 'rotation' ? rotationNamed(rt, t.id) : undefined };
}

function planNamed(rt: Runtime, ref: Exclude<TargetRef, { scope: unknown }>): Plan {
  if ('candidates' in ref) return { candidates: ref.candidates, rotation: rotationNamed(rt, ref.rotationId) };
  return { candidates: candidatesForName(rt, ref.name), rotation: rotationNamed(rt, ref.name) };
}

/**
 * Other capabilities: non-chat calls have nothing to select on, so an autoselect's fallback serves
 * them; only candidates that can serve `need` are kept (400 naming the capability when none can).
 */
export function planCapability(rt: Runtime, ref: TargetRef, resolved: ResolvedTarget, need: CapabilityNeed | undefined, filter: ((c: Candidate) => boolean) | undefined): Plan {
  const t = resolved.target;
  let plan: Plan;
  let targetName = resolved.name;
  let direct = false;
  if (!t) {
    plan = planNamed(rt, ref as Exclude<TargetRef, { scope: unknown }>);
    direct = plan.rotation === undefined && plan.candidates.length === 1 && !('candidates' in ref);
  } else if (t.kind === 'autoselect') {
    const fallback = rt.config.autoselect[t.id]!.fallback;
    plan = { candidates: candidatesFor(rt, t), rotation: rotationNamed(rt, fallback) };
    targetName = `autoselect ${t.id} (fallback ${fallback})`;
  } else {
    plan = { candidates: candidatesFor(rt, t), rotation: t.kind === 'rotation' ? rotationNamed(rt, t.id) : undefined };
    direct = t.kind === 'provider';
    if (t.kind === 'rotation') targetName = `rotation ${t.id}`;
  }
  if (need) plan.candidates = capableCandidates(rt, plan.candidates, need, { direct, targetName });
  if (filter) plan.candidates = plan.candidates.filter(filter);
  return plan;
}
