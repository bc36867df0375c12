/**
 * @module `POST /auth/token` (OAuth2 password grant: a form body as the seed's clients send, or JSON)
 * and `POST /auth/refresh` (CONTRACTS §7.2 item 21). Never guarded: these are how a user gets a token.
 * Failed logins count per username and per client IP (10 a minute → 429).
 */
import type { Context, Hono } from 'hono';
import { HttpError } from '../../errors/http-error.js';
import type { AppDeps, AppEnv } from '../app-env.js';
import { incomingOf } from '../node-request.js';
import { readBodyText } from '../read-body.js';

const BODY_LIMIT = 64 * 1024;

/** The fields of a form (urlencoded or multipart) or JSON object body, as strings. */
async function readFields(c: Context<AppEnv>): Promise<Record<string, string | undefined>> {
  const type = (c.req.header('content-type') ?? '').toLowerCase();
  if (type.startsWith('multipart/form-data')) {
    const form = await c.req.parseBody().catch(() => {
      throw new HttpError(400, 'The multipart body could not be read.', { code: 'invalid_request' });
    });
    return Object.fromEntries(Object.entries(form).map(([k, v]) => [k, typeof v === 'string' ? v : undefined]));
  }
  const text = await readBodyText(c, BODY_LIMIT);
  if (type.startsWith('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'Send a form body (application/x-www-form-urlencoded) or a JSON object.', { code: 'invalid_request' });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new HttpError(400, 'The body must be a JSON object.', { code: 'invalid_request' });
  return Object.fromEntries(Object.entries(json).map(([k, v]) => [k, typeof v === 'string' ? v : undefined]));
}

function required(fields: Record<string, string | undefined>, name: string): string {
  const v = fields[name];
  if (v === undefined || v === '') throw new HttpError(400, `'${name}' is required (a string).`, { param: name, code: 'missing_field' });
  if (v.length > 4096) throw new HttpError(400, `'${name}' is too long.`, { param: name, code: 'invalid_value' });
  return v;
}

export function registerAuthRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  app.post('/auth/token', async (c) => {
    const fields = await readFields(c);
    if (fields.grant_type !== undefined && fields.grant_type !== 'password') {
      throw new HttpError(400, "Only grant_type 'password' is supported here; use POST /auth/refresh with a refresh_token.", { param: 'grant_type', code: 'unsupported_grant_type' });
    }
    const username = required(fields, 'username');
    const password = required(fields, 'password');
    const ip = incomingOf(c)?.socket.remoteAddress ?? 'unknown';
    return c.json(await deps.identity.login(username, password, ip));
  });

  app.post('/auth/refresh', async (c) => {
    const fields = await readFields(c);
    return c.json(await deps.identity.refresh(required(fields, 'refresh_token')));
  });
}
