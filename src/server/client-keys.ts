/**
 * @module The provider keys a client brought: `x-aisbf-provider-key`, and its bearer token when proxy
 * auth is off (then it is the provider key, as in AISBF).
 */
import type { Context } from 'hono';
import type { ClientKeys } from '../routing/candidate.js';
import type { Runtime } from '../runtime.js';
import { headerOf } from './node-request.js';

export function clientKeys(c: Context, rt: Runtime): ClientKeys {
  const providerKey = headerOf(c, 'x-aisbf-provider-key') || undefined;
  if (rt.config.aisbf.auth.enabled) return { providerKey };
  const auth = headerOf(c, 'authorization');
  const bearer = auth?.startsWith('Bearer ') ? auth.slice(7).trim() || undefined : undefined;
  return { providerKey, bearer };
}
