import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { startAisbf, type TestServer } from '../helpers/aisbf-server.js';
import { openDatabase, type Db } from '../../src/store/db.js';
import { UserStore } from '../../src/store/users.js';
import { hashPassword } from '../../src/identity/passwords.js';
import { createLogger } from '../../src/log.js';

const STATIC = 'static-admin-token-0123456789';
let fake: FakeOpenAI;
let aisbf: TestServer;
let cli: Db; // a second connection, as `aisbf user …` would open
let users: UserStore;
/** Every line the server logged (debug level), for the check that no secret reaches it. */
const logLines: string[] = [];

async function post(path: string, body: string | Record<string, string>, headers: Record<string, string> = {}) {
  const form = typeof body === 'string';
  return fetch(`${aisbf.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json', ...headers },
    body: form ? body : JSON.stringify(body),
  });
}

async function login(username: string, password: string) {
  const res = await post('/auth/token', { username, password });
  expect(res.status).toBe(200);
  return (await res.json()) as { access_token: string; refresh_token: string; token_type: string; expires_in: number };
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const serverSecret = () => new TextEncoder().encode(readFileSync(join(aisbf.configDir, 'jwt.secret'), 'utf8').trim());

beforeAll(async () => {
  fake = await startFakeOpenAI();
  aisbf = await startAisbf({
    providers: { openai: { type: 'openai', endpoint: fake.baseURL, api_key: 'sk-upstream-000000', models: [{ name: 'gpt-4o-mini' }] } },
    aisbf: { auth: { enabled: true, tokens: [STATIC], access_token_minutes: 5 } },
  }, {}, { log: createLogger({ level: 'debug', destination: { write: (line: string) => void logLines.push(line) } }) });
  cli = openDatabase(join(aisbf.configDir, 'aisbf.db'));
  users = new UserStore(cli);
  users.add('alice', 'admin', await hashPassword('alice-password-1'));
  users.add('bob', 'user', await hashPassword('bob-password-12'));
});
afterAll(async () => {
  cli.close();
  await aisbf.close();
  await fake.close();
});

describe('POST /auth/token', () => {
  it('issues bearer tokens for a form body (OAuth2 password grant)', async () => {
    const res = await post('/auth/token', 'grant_type=password&username=alice&password=alice-password-1');
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body).toMatchObject({ token_type: 'bearer', expires_in: 300 });
    expect(body.access_token.split('.')).toHaveLength(3);
    expect(body.refresh_token.split('.')).toHaveLength(3);
  });

  it('issues tokens for a JSON body, and the access token opens /v1 through the openai SDK', async () => {
    const t = await login('bob', 'bob-password-12');
    const client = new OpenAI({ baseURL: `${aisbf.url}/v1`, apiKey: t.access_token, maxRetries: 0 });
    const r = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(r.choices[0]!.message.content).toBe('echo: hi');
  });

  it('answers wrong credentials with 401, WWW-Authenticate: Bearer and the OpenAI envelope', async () => {
    for (const body of [{ username: 'alice', password: 'wrong-password' }, { username: 'nobody', password: 'whatever-1' }]) {
      const res = await post('/auth/token', body);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(await res.json()).toEqual({ error: { message: 'Incorrect username or password', type: 'authentication_error', param: null, code: 'invalid_credentials' } });
    }
  });

  it('names a missing field and refuses other grant types', async () => {
    const res = await post('/auth/token', { username: 'alice' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.param).toBe('password');
    const grant = await post('/auth/token', 'grant_type=client_credentials&username=a&password=b');
    expect(((await grant.json()) as any).error.code).toBe('unsupported_grant_type');
  });

  it('keeps the generated JWT secret in a 0600 file in the config dir', () => {
    expect(statSync(join(aisbf.configDir, 'jwt.secret')).mode & 0o777).toBe(0o600);
  });
});

describe('tokens that must be refused', () => {
  const v1models = (token: string) => fetch(`${aisbf.url}/v1/models`, { headers: bearer(token) });
  const errorOf = async (res: Response) => ({ status: res.status, ...((await res.json()) as any).error });

  it('refreshes an access token, and refuses a refresh token used as an access token (and the reverse)', async () => {
    const t = await login('bob', 'bob-password-12');
    const res = await post('/auth/refresh', { refresh_token: t.refresh_token });
    expect(res.status).toBe(200);
    const fresh = (await res.json()) as any;
    expect(fresh).toMatchObject({ token_type: 'bearer', expires_in: 300 });
    expect((await v1models(fresh.access_token)).status).toBe(200);
    expect(await errorOf(await v1models(t.refresh_token))).toMatchObject({ status: 401, message: 'Invalid token type', code: 'invalid_token_type' });
    expect(await errorOf(await post('/auth/refresh', { refresh_token: t.access_token }))).toMatchObject({ status: 401, message: 'Invalid token type' });
  });

  it('refuses alg none, another secret, an expired token and a malformed one, each with its reason', async () => {
    const none = new UnsecuredJWT({ role: 'admin', type: 'access', ver: 0 }).setSubject('alice').setIssuedAt().setExpirationTime('5m').encode();
    expect(await errorOf(await v1models(none))).toMatchObject({ status: 401, type: 'authentication_error', message: 'Invalid token: only HS256-signed tokens are accepted' });
    const other = await new SignJWT({ role: 'admin', type: 'access', ver: 0 }).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setIssuedAt().setExpirationTime('5m').sign(new TextEncoder().encode('x'.repeat(48)));
    expect(await errorOf(await v1models(other))).toMatchObject({ status: 401, message: 'Invalid token: signature verification failed' });
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ role: 'user', type: 'access', ver: 0 }).setProtectedHeader({ alg: 'HS256' }).setSubject('bob').setIssuedAt(now - 7200).setExpirationTime(now - 3600).sign(serverSecret());
    expect(await errorOf(await v1models(expired))).toMatchObject({ status: 401, message: 'Token has expired', code: 'token_expired' });
    expect(await errorOf(await v1models('abc.def.ghi'))).toMatchObject({ status: 401, message: 'Invalid token: not a well-formed JWT' });
  });

  it('drops the tokens of a user deleted from another connection at once', async () => {
    users.add('carol', 'user', await hashPassword('carol-password'));
    const t = await login('carol', 'carol-password');
    expect((await v1models(t.access_token)).status).toBe(200);
    users.delete('carol');
    expect(await errorOf(await v1models(t.access_token))).toMatchObject({ status: 401, message: 'Invalid token: user "carol" no longer exists' });
  });

  it('keeps the static auth.tokens working and the 0.1 message for a bad one', async () => {
    expect((await v1models(STATIC)).status).toBe(200);
    const bad = await errorOf(await v1models('not-a-token'));
    expect(bad).toMatchObject({ status: 401, code: 'invalid_api_key' });
    expect(bad.message).toContain('Missing or invalid proxy token');
  });

  it('leaves /health and GET / open and guards /metrics, /admin and the compat routes', async () => {
    expect((await fetch(`${aisbf.url}/health`)).status).toBe(200);
    expect((await fetch(`${aisbf.url}/`)).status).toBe(200);
    for (const [method, path] of [['GET', '/metrics'], ['POST', '/analyze'], ['POST', '/api/llm'], ['GET', '/admin/keys'], ['GET', '/api/openai/models']]) {
      const res = await fetch(`${aisbf.url}${path}`, { method });
      expect([path, res.status]).toEqual([path, 401]);
    }
  });
});

describe('/admin/keys', () => {
  it('needs role admin: 401 without a token, 403 for a user, 200 for an admin or a static token', async () => {
    expect((await fetch(`${aisbf.url}/admin/keys`)).status).toBe(401);
    const user = await login('bob', 'bob-password-12');
    const forbidden = await fetch(`${aisbf.url}/admin/keys`, { headers: bearer(user.access_token) });
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as any).error.code).toBe('admin_required');
    const admin = await login('alice', 'alice-password-1');
    expect((await fetch(`${aisbf.url}/admin/keys`, { headers: bearer(admin.access_token) })).status).toBe(200);
    expect((await fetch(`${aisbf.url}/admin/keys`, { headers: bearer(STATIC) })).status).toBe(200);
  });

  it('creates a key shown once, lists it by hint only, and revokes it', async () => {
    const admin = (await login('alice', 'alice-password-1')).access_token;
    const res = await post('/admin/keys', { name: 'ci', user: 'bob', models: ['gpt-4o*'], rpm: 60, budget_usd: 5, budget_period: 'month', expires: '30d' } as any, bearer(admin));
    expect(res.status).toBe(201);
    const created = (await res.json()) as any;
    expect(created.key).toMatch(/^sk-aisbf-[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({ name: 'ci', user: 'bob', models: ['gpt-4o*'], rpm: 60, budget_usd: 5, budget_period: 'month', status: 'active' });
    const client = new OpenAI({ baseURL: `${aisbf.url}/v1`, apiKey: created.key, maxRetries: 0 });
    expect((await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'k' }] })).choices[0]!.message.content).toBe('echo: k');

    const list = (await (await fetch(`${aisbf.url}/admin/keys`, { headers: bearer(admin) })).json()) as any;
    const listed = list.data.find((k: any) => k.id === created.id);
    expect(listed.key).toBeUndefined();
    expect(listed.key_hint).toBe(`${created.key.slice(0, 13)}…${created.key.slice(-4)}`);
    expect(JSON.stringify(list)).not.toContain(created.key);

    const del = await fetch(`${aisbf.url}/admin/keys/${created.id}`, { method: 'DELETE', headers: bearer(admin) });
    expect(await del.json()).toEqual({ id: created.id, object: 'api_key', deleted: true });
    const err = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'k' }] }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(err.code).toBe('key_revoked');
    expect((await fetch(`${aisbf.url}/admin/keys/${created.id}`, { method: 'DELETE', headers: bearer(admin) })).status).toBe(404);
  });

  it('names the field of a bad key request', async () => {
    const res = await post('/admin/keys', { name: 'x', budget_usd: 5 } as any, bearer(STATIC));
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.param).toBe('budget_period');
    const unknownUser = await post('/admin/keys', { name: 'x', user: 'ghost' }, bearer(STATIC));
    expect(((await unknownUser.json()) as any).error.message).toContain('no user "ghost"');
  });
});

describe('the log', () => {
  it('never holds a password, a token or a key sent to or issued by the server above', () => {
    const text = logLines.join('');
    expect(logLines.length).toBeGreaterThan(10);
    for (const secret of ['alice-password-1', 'bob-password-12', 'carol-password', 'wrong-password', 'whatever-1', STATIC]) expect(text, secret).not.toContain(secret);
    expect(text).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/); // a JWT
    expect(text).not.toMatch(/sk-aisbf-[A-Za-z0-9_-]{16,}/); // a whole API key (hints are sk-aisbf-abcd…wxyz)
  });
});

describe('brute force on /auth/token', () => {
  it('answers 429 with Retry-After after 10 failures a minute for one username', async () => {
    const other = await startAisbf({ aisbf: { auth: { enabled: true } } });
    try {
      const db = openDatabase(join(other.configDir, 'aisbf.db'));
      new UserStore(db).add('dave', 'user', await hashPassword('dave-password'));
      db.close();
      const attempt = (password: string) =>
        fetch(`${other.url}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'dave', password }) });
      for (let i = 0; i < 10; i++) expect((await attempt(`wrong-${i}`)).status).toBe(401);
      const blocked = await attempt('dave-password');
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(((await blocked.json()) as any).error.code).toBe('rate_limit_exceeded');
    } finally {
      await other.close();
    }
  });
});

describe('/admin with auth off', () => {
  it('answers a loopback client', async () => {
    const open = await startAisbf({});
    try {
      const res = await fetch(`${open.url}/admin/keys`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ object: 'list', data: [] });
    } finally {
      await open.close();
    }
  });
});
