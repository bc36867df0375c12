/**
 * @module With `auth.enabled`, every guarded path (`/api`, `/v1`, `/admin`, `/metrics` and the
 * compat routes) needs a valid API key, access token or static token (CONTRACTS §7.2 item 23). The
 * identity is resolved here once and put on the context; RequestMeta takes it from there, so the
 * pipeline never checks the same credentials twice. With auth off it costs one branch.
 */
import type { Context, MiddlewareHandler, Next } from 'hono';
import type { Credentials } from '../pipeline/request-meta.js';
import type { IdentityService } from '../identity/identity-service.js';
import type { AppEnv } from './app-env.js';
import { headerOf } from './node-request.js';

/** Paths that need credentials when auth is on; `/health`, `GET /`, `/auth/*` and the glasses routes do not. */
export const GUARDED_PATHS = ['/api/*', '/v1/*', '/admin/*', '/metrics', '/analyze'] as const;

/** Authorization: Bearer …, else x-api-key / X-API-Key (header names are case-insensitive). */
export function credentialsFrom(c: Context): Credentials | undefined {
  const auth = headerOf(c, 'authorization');
  const apiKey = headerOf(c, 'x-api-key');
  const bearer = auth !== undefined && /^bearer /i.test(auth) ? auth.slice(7).trim() || undefined : undefined;
  if (bearer === undefined && !apiKey) return undefined;
  return { bearer, apiKey: apiKey || undefined };
}

export function identityMiddleware(service: IdentityService): MiddlewareHandler<AppEnv> {
  // Not async: a key found in the cache (and auth off) costs no async frame; only a lookup waits.
  return function identityGuard(c: Context<AppEnv>, next: Next) {
    // CORS preflights carry no credentials by design.
    if (!service.enabled || c.req.method === 'OPTIONS' || c.get('identity') !== undefined) return next();
    const r = service.resolve(credentialsFrom(c));
    if (r instanceof Promise) {
      return r.then((identity) => {
        c.set('identity', identity);
        return next();
      });
    }
    c.set('identity', r);
    return next();
  };
}

