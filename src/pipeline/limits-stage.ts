/**
 * @module limits: the identity's model scope, rpm/tpm/parallel and budget for the named target. The
 * ticket it returns is settled exactly once with the request's outcome. Internal calls are covered
 * by their parent's ticket.
 */
import type { RequestMeta } from './request-meta.js';
import type { LimitTicket, PipelineStages } from './stages.js';

/** The stage's own answer: a promise only when it had to wait (a shared store), so the caller awaits only then. */
export function admitLimits(stages: PipelineStages, meta: RequestMeta, target: string): LimitTicket | undefined | Promise<LimitTicket | undefined> {
  if (meta.parent !== undefined) return undefined;
  return stages.limits.admit(meta, target);
}
