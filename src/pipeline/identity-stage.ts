/**
 * @module identity: credentials → Identity, once per client request. Skipped when auth is off (one
 * branch), for internal calls (they inherit their parent's), and when the identity is already
 * resolved (the server's identity middleware) with no credentials left to check.
 */
import { ANONYMOUS, type RequestMeta } from './request-meta.js';
import type { PipelineStages } from './stages.js';

export async function resolveIdentity(stages: PipelineStages, meta: RequestMeta): Promise<void> {
  const stage = stages.identity;
  if (stage.inactive || meta.parent !== undefined) return;
  if (meta.credentials === undefined && meta.identity !== ANONYMOUS) return;
  const r = stage.resolve(meta);
  meta.identity = r instanceof Promise ? await r : r;
  meta.credentials = undefined;
  // X-Client-ID wins; else the key's name labels the request.
  if (meta.clientId === 'anonymous' && meta.identity.keyName) meta.clientId = meta.identity.keyName;
}
