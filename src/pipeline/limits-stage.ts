/**
 * @module limits: the identity's model scope, rpm/tpm/parallel and budget for the named target. The
 * ticket it returns is settled exactly once with the request's outcome. Internal calls are covered
 * by their parent's ticket.
 */
import type { RequestMeta } from './request-meta.js';
import type { LimitTicket, PipelineStages } from './stages.js';

export async function admitLimits(stages: PipelineStages, meta: RequestMeta, target: string): Promise<LimitTicket | undefined> {
  if (meta.parent !== undefined) return undefined;
  const t = stages.limits.admit(meta, target);
  return t instanceof Promise ? await t : t;
}
