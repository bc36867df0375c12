/**
 * @module identity: credentials → Identity, once per client request. Skipped when auth is off (one
 * branch), for internal calls (they inherit their parent's), and when the identity is already
 * resolved (the server's identity middleware) with no credentials left to check.
 */
import { ANONYMOUS, type Identity, type RequestMeta } from './request-meta.js';
import type { PipelineStages } from './stages.js';

/**
 * A promise only when the stage had to wait (a key not yet cached): the common request, with auth off
 * or the identity already on the meta, returns at once and costs its caller no await.
 */
export function resolveIdentity(stages: PipelineStages, meta: RequestMeta): void | Promise<void> {
  const stage = stages.identity;
  if (stage.inactive || meta.parent !== undefined) return;
  if (meta.credentials === undefined && meta.identity !== ANONYMOUS) return;
  const r = stage.resolve(meta);
  if (r instanceof Promise) return r.then((identity) => setIdentity(meta, identity));
  setIdentity(meta, r);
}

function setIdentity(meta: RequestMeta, identity: Identity): void {
  meta.identity = identity;
  meta.credentials = undefined;
  // X-Client-ID wins; else the key's name labels the request.
  if (meta.clientId === 'anonymous' && meta.identity.keyName) meta.clientId = meta.identity.keyName;
}
