/**
 * @module `/admin/*` (CONTRACTS §7.2 item 23): with auth on, role admin (an admin's access token or
 * a static `auth.tokens` entry); with auth off, loopback clients only — judged by the socket's
 * remote address, never by a header a client could set.
 */
import type { Context, MiddlewareHandler, Next } from 'hono';
import { HttpError } from '../errors/http-error.js';
import type { IdentityService } from '../identity/identity-service.js';
import type { AppEnv } from './app-env.js';
import { credentialsFrom } from './identity-middleware.js';
import { incomingOf } from './node-request.js';

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

export interface AdminGuardOptions {
  identity: IdentityService;
}

/** Mounted on `/admin/*` by createApp; safe to mount again on a route (it checks once per request). */
export function adminGuard({ identity }: AdminGuardOptions): MiddlewareHandler<AppEnv> {
  return async function adminGuard(c: Context<AppEnv>, next: Next) {
    if (c.get('adminChecked')) return next();
    if (identity.enabled) {
      let who = c.get('identity');
      if (who === undefined) {
        const r = identity.resolve(credentialsFrom(c));
        who = r instanceof Promise ? await r : r;
        c.set('identity', who);
      }
      if (who.role !== 'admin') throw new HttpError(403, 'The admin API needs role admin: log in as an admin user (POST /auth/token) or use a static auth.tokens entry.', { code: 'admin_required' });
    } else if (!isLoopback(incomingOf(c)?.socket.remoteAddress)) {
      throw new HttpError(403, 'The admin API answers loopback clients only while auth is off; set auth.enabled in aisbf.json to use it from elsewhere.', { code: 'admin_loopback_only' });
    }
    c.set('adminChecked', true);
    return next();
  };
}
