/**
 * @module RequestMeta from a Hono context: request id, route, the credentials as sent (Authorization
 * Bearer, x-api-key), the provider keys the client brought, the abort signal, Cache-Control no-cache,
 * and the validated X-Client-ID / X-Priority (CONTRACTS §7.2 item 24). Nothing but the meta object
 * is allocated; header reads go to node's already-parsed headers.
 */
import { inProcessOf } from './in-process-call.js';
import type { Context } from 'hono';
import { HttpError } from '../errors/http-error.js';
import { ANONYMOUS, type Priority, type RequestMeta } from '../pipeline/request-meta.js';
import type { Runtime } from '../runtime.js';
import type { AppEnv } from './app-env.js';
import { clientKeys } from './client-keys.js';
import { clientSignalOf, headerOf } from './node-request.js';
import { credentialsFrom } from './identity-middleware.js';

const CLIENT_ID_RE = /^[\x20-\x7e]{1,128}$/;
const NO_CACHE_RE = /(?:^|[\s,])no-(?:cache|store)(?:$|[\s,])/i;

function priorityOf(c: Context): Priority {
  const v = headerOf(c, 'x-priority');
  if (v === undefined) return 'normal';
  const p = v.trim().toLowerCase();
  if (p === 'high' || p === 'normal' || p === 'low') return p;
  throw new HttpError(400, "Invalid 'X-Priority' header: expected high, normal or low.", { param: 'X-Priority', code: 'invalid_header' });
}

function clientIdOf(c: Context): string {
  const v = headerOf(c, 'x-client-id');
  if (v === undefined) return 'anonymous';
  if (!CLIENT_ID_RE.test(v)) throw new HttpError(400, "Invalid 'X-Client-ID' header: 1 to 128 printable ASCII characters.", { param: 'X-Client-ID', code: 'invalid_header' });
  return v;
}

/** `route` names the kind of request ('chat', 'embeddings', …: see RequestMeta.route). */
export function requestMetaFromHttp(c: Context<AppEnv>, rt: Runtime, route: string): RequestMeta {
  const cacheControl = headerOf(c, 'cache-control');
  // Guarded paths: the identity middleware already resolved the credentials (auth on).
  const identity = c.get('identity');
  let clientId = clientIdOf(c);
  // X-Client-ID wins; else the key's name labels the request.
  if (identity?.keyName && clientId === 'anonymous') clientId = identity.keyName;
  return {
    route,
    requestId: c.get('requestId'),
    clientId,
    priority: priorityOf(c),
    identity: identity ?? ANONYMOUS,
    credentials: identity ? undefined : credentialsFrom(c),
    keys: clientKeys(c, rt),
    // An in-process call's own signal: given to the Request instead, undici would keep it (and its
    // listeners) alive in a FinalizationRegistry until the Request is collected, for every call.
    signal: inProcessOf(c)?.inProcess.signal ?? clientSignalOf(c),
    noCache: cacheControl !== undefined && NO_CACHE_RE.test(cacheControl),
    startedAt: Date.now(),
  };
}
