import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { startAisbf, type TestServer } from '../helpers/aisbf-server.js';
import { openDatabase, type Db } from '../../src/store/db.js';
import { ApiKeyStore } from '../../src/store/api-keys.js';
import { UserStore } from '../../src/store/users.js';
import { createApiKey, type CreateKeyInput } from '../../src/identity/api-keys.js';
import { generateApiKey, hashApiKey, keyHint } from '../../src/identity/api-key-format.js';
import { periodWindow } from '../../src/identity/budget-period.js';

// USD per million tokens chosen so one request (10 prompt + 10 completion tokens) costs exactly $2.
const PRICE = { input_per_mtok: 100_000, output_per_mtok: 100_000 };
const USAGE = { prompt_tokens: 10, completion_tokens: 10 };

let fake: FakeOpenAI;
let aisbf: TestServer;
let cli: Db; // a second connection, as `aisbf key …` opens
let keys: ApiKeyStore;
let users: UserStore;

function newKey(input: CreateKeyInput): string {
  return createApiKey(keys, users, input).key;
}

const sdk = (apiKey: string, headers: Record<string, string> = {}) => new OpenAI({ baseURL: `${aisbf.url}/v1`, apiKey, maxRetries: 0, defaultHeaders: headers });
const ask = (client: OpenAI, model = 'priced/gpt-4o-mini') => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
/** The key's spend this period, as GET /admin/keys reports it. */
async function spentOf(name: string): Promise<number> {
  const list = (await (await fetch(`${aisbf.url}/admin/keys`, { headers: { authorization: 'Bearer static-token-for-tests' } })).json()) as any;
  return list.data.find((k: any) => k.name === name).spent_usd;
}
async function waitForSpend(name: string): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const s = await spentOf(name);
    if (s > 0) return s;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no spend recorded for ${name}`);
}
const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as InstanceType<typeof OpenAI.APIError>);

beforeAll(async () => {
  fake = await startFakeOpenAI();
  fake.setModelBehavior('gpt-4o-mini', { type: 'reply', text: 'fixed', usage: USAGE });
  aisbf = await startAisbf({
    providers: {
      priced: { type: 'openai', endpoint: fake.baseURL, api_key: 'sk-upstream-000000', models: [{ name: 'gpt-4o-mini', price: PRICE }, { name: 'gpt-4o', price: PRICE }] },
    },
    rotations: {
      cheap: { providers: [{ provider_id: 'priced', models: [{ name: 'gpt-4o-mini', weight: 1 }] }] },
      big: { providers: [{ provider_id: 'priced', models: [{ name: 'gpt-4o', weight: 1 }] }] },
    },
    aisbf: { auth: { enabled: true, tokens: ['static-token-for-tests'] } },
  });
  cli = openDatabase(join(aisbf.configDir, 'aisbf.db'));
  keys = new ApiKeyStore(cli);
  users = new UserStore(cli);
});
afterAll(async () => {
  cli.close();
  await aisbf.close();
  await fake.close();
});

describe('API keys through the openai SDK', () => {
  it('serves a valid key sent as Authorization: Bearer and as x-api-key', async () => {
    const key = newKey({ name: 'plain' });
    expect((await ask(sdk(key))).choices[0]!.message.content).toBe('fixed');
    const res = await fetch(`${aisbf.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'X-API-Key': key, 'x-request-id': 'by-x-api-key' },
      body: JSON.stringify({ model: 'priced/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    // Its usage record carries the key, and the key's name as the client id (no X-Client-ID sent).
    const acc = aisbf.running.deps.accounting!;
    acc.writer.flush();
    expect(acc.usage.forRequest('by-x-api-key')[0]).toMatchObject({ key_id: keys.list().find((k) => k.name === 'plain')!.id, client_id: 'plain' });
  });

  it('answers 401 for no key, an unknown key, a revoked key and an expired key', async () => {
    const none = await failure(fetch(`${aisbf.url}/v1/chat/completions`, { method: 'POST', body: '{}' }).then(async (r) => Promise.reject({ status: r.status, ...((await r.json()) as any).error })));
    expect(none).toMatchObject({ status: 401, type: 'authentication_error' });
    const unknown = await failure(ask(sdk(generateApiKey())));
    expect(unknown).toBeInstanceOf(OpenAI.AuthenticationError);

    const revokedKey = newKey({ name: 'to-revoke' });
    expect((await ask(sdk(revokedKey))).choices[0]!.message.content).toBe('fixed');
    // Revoked from another connection (the CLI): the daemon's cache sees it on the next request.
    const id = keys.list().find((k) => k.name === 'to-revoke')!.id;
    expect(keys.revoke(id)).toBe(true);
    const revoked = await failure(ask(sdk(revokedKey)));
    expect(revoked).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(revoked!.code).toBe('key_revoked');

    const expiredKey = generateApiKey();
    keys.insert({ id: 'key_00000000000000aa', name: 'old', user: null, keyHash: hashApiKey(expiredKey), keyHint: keyHint(expiredKey), models: null, rpm: null, tpm: null, maxParallel: null, budgetUsd: null, budgetPeriod: null, expiresAt: Date.now() - 1000, createdAt: Date.now() - 5000, revokedAt: null });
    const expired = await failure(ask(sdk(expiredKey)));
    expect(expired).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(expired!.code).toBe('key_expired');
  });

  it('answers 400 naming the header for a key with a "/" and for an over-long X-Client-ID', async () => {
    const slash = await failure(ask(sdk('sk-aisbf-abc/def')));
    expect(slash).toBeInstanceOf(OpenAI.BadRequestError);
    expect(slash!.param).toBe('Authorization');
    const key = newKey({ name: 'client-id' });
    const long = await failure(ask(sdk(key, { 'X-Client-ID': 'x'.repeat(129) })));
    expect(long).toBeInstanceOf(OpenAI.BadRequestError);
    expect(long!.param).toBe('X-Client-ID');
    const prio = await failure(ask(sdk(key, { 'X-Priority': 'urgent' })));
    expect(prio!.param).toBe('X-Priority');
  });

  it('answers 403 model_not_allowed outside the key’s models and serves inside them', async () => {
    const key = newKey({ name: 'scoped', models: ['gpt-4o-mini'] });
    expect((await ask(sdk(key), 'priced/gpt-4o-mini')).choices[0]!.message.content).toBe('fixed');
    const err = await failure(ask(sdk(key), 'priced/gpt-4o'));
    expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(err!.code).toBe('model_not_allowed');
  });

  it('answers an Anthropic client (x-api-key on /v1/messages) in Anthropic’s envelope: 401, 403 and 429', async () => {
    const claude = (apiKey: string) => new Anthropic({ baseURL: aisbf.url, apiKey, maxRetries: 0 });
    const say = (c: Anthropic, model = 'priced/gpt-4o-mini') => c.messages.create({ model, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
    const key = newKey({ name: 'claude-client', models: ['gpt-4o-mini'], rpm: 1 });
    expect((await say(claude(key))).content[0]).toMatchObject({ type: 'text', text: 'fixed' });
    const denied = (await say(claude(key), 'priced/gpt-4o').catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(denied).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect((denied.error as any).error.type).toBe('permission_error');
    expect(denied.message).toContain('may not use');
    const limited = (await say(claude(key)).catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(limited).toBeInstanceOf(Anthropic.RateLimitError);
    expect((limited.error as any).error.type).toBe('rate_limit_error');
    expect(Number(limited.headers?.get('retry-after'))).toBeGreaterThan(0);
    const unknown = await say(claude(generateApiKey())).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it('lists only the models a scoped key may call, on /v1/models and the /api lists', async () => {
    const scoped = newKey({ name: 'lists-scoped', models: ['priced/gpt-4o-mini', 'cheap'] });
    const open = newKey({ name: 'lists-open' });
    const ids = async (key: string) => (await sdk(key).models.list()).data.map((m) => m.id).sort();
    expect(await ids(open)).toEqual(['big', 'cheap', 'priced/gpt-4o', 'priced/gpt-4o-mini']);
    expect(await ids(scoped)).toEqual(['cheap', 'priced/gpt-4o-mini']);
    const get = async (path: string, key: string) => {
      const res = await fetch(`${aisbf.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
      return { status: res.status, body: (await res.json()) as any };
    };
    expect((await get('/api/rotations/models', scoped)).body.data.map((m: any) => m.rotation_id)).toEqual(['cheap']);
    expect(Object.keys((await get('/api/rotations', scoped)).body)).toEqual(['cheap']);
    expect((await get('/api/big/models', scoped)).body.data).toEqual([]);
    expect((await get('/api/cheap/models', scoped)).body.data).toHaveLength(1);
    // A provider's upstream list (gpt-4o, gpt-4o-mini, text-embedding-3-small) is filtered per model.
    expect((await get('/api/priced/models?format=array', open)).body).toHaveLength(3);
    expect((await get('/api/priced/models?format=array', scoped)).body.map((m: any) => m.id)).toEqual(['gpt-4o-mini']);
    expect((await get('/v1/models/priced/gpt-4o-mini', scoped)).status).toBe(200);
    const denied = await get('/v1/models/priced/gpt-4o', scoped);
    expect(denied.status).toBe(403);
    expect(denied.body.error).toMatchObject({ code: 'model_not_allowed', param: 'model' });
  });

  it('answers 429 rate_limit_exceeded with Retry-After past the key’s rpm', async () => {
    const client = sdk(newKey({ name: 'rpm', rpm: 2 }));
    await ask(client);
    await ask(client);
    const err = await failure(ask(client));
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err!.code).toBe('rate_limit_exceeded');
    expect(Number(err!.headers?.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(err!.headers?.get('retry-after'))).toBeLessThanOrEqual(60);
  });

  it('answers 429 rate_limit_exceeded once the tokens of the last minute reach the key’s tpm', async () => {
    const client = sdk(newKey({ name: 'tpm', tpm: 30 }));
    await ask(client); // 20 tokens: still under 30
    await ask(client); // 40 tokens counted when it settles
    const err = await failure(ask(client));
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err!.message).toContain('30 tokens per minute');
    expect(Number(err!.headers?.get('retry-after'))).toBeGreaterThan(0);
  });

  it('answers 429 past max_parallel and frees the slot when the first stream ends, even cut short', async () => {
    fake.setModelBehavior('gpt-4o', { type: 'stall' });
    const key = newKey({ name: 'parallel', max_parallel: 1 });
    const held = new AbortController();
    const stream = await sdk(key).chat.completions.create({ model: 'priced/gpt-4o', stream: true, messages: [{ role: 'user', content: 'x' }] }, { signal: held.signal });
    const it1 = stream[Symbol.asyncIterator]();
    await it1.next(); // the stream is open and holds the slot
    const err = await failure(ask(sdk(key)));
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err!.message).toContain('1 requests at once');
    held.abort();
    fake.setModelBehavior('gpt-4o', undefined);
    // The slot comes back when the aborted stream settles.
    let ok = false;
    for (let i = 0; i < 100 && !ok; i++) {
      ok = (await failure(ask(sdk(key)))) === undefined;
      if (!ok) await new Promise((r) => setTimeout(r, 20));
    }
    expect(ok).toBe(true);
  });
});

describe('budgets', () => {
  it('counts spend at the price override and answers 429 budget_exceeded with the period’s reset in Retry-After', async () => {
    const client = sdk(newKey({ name: 'budget', budget_usd: 3, budget_period: 'day' }));
    await ask(client); // $2
    await ask(client); // starts under $3, ends at $4
    expect(await spentOf('budget')).toBeCloseTo(4, 6);
    const err = await failure(ask(client));
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err!.code).toBe('budget_exceeded');
    expect(err!.message).toContain('$4.0000 spent of $3 this day');
    const expected = Math.ceil((periodWindow('day', Date.now()).resetsAt - Date.now()) / 1000);
    expect(Math.abs(Number(err!.headers?.get('retry-after')) - expected)).toBeLessThanOrEqual(5);
  });

  it('counts a stream’s spend when it ends', async () => {
    const client = sdk(newKey({ name: 'stream-budget', budget_usd: 1, budget_period: 'month' }));
    const stream = await client.chat.completions.create({ model: 'priced/gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    for await (const _ of stream) void _;
    expect(await waitForSpend('stream-budget')).toBeCloseTo(2, 6);
    expect((await failure(ask(client)))!.code).toBe('budget_exceeded');
  });

  it('counts the spend of a stream the client leaves mid-way', async () => {
    fake.setModelBehavior('gpt-4o', { type: 'reply', text: 'one two three four five six seven eight', chunkDelayMs: 100, usage: USAGE });
    const client = sdk(newKey({ name: 'left-early', budget_usd: 0.0001, budget_period: 'day' }));
    const ac = new AbortController();
    const stream = await client.chat.completions.create({ model: 'priced/gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] }, { signal: ac.signal });
    await stream[Symbol.asyncIterator]().next();
    ac.abort();
    fake.setModelBehavior('gpt-4o', undefined);
    // The prompt is charged at our own count (no usage came before the client left).
    expect(await waitForSpend('left-early')).toBeGreaterThan(0);
    expect((await failure(ask(client)))!.code).toBe('budget_exceeded');
  });

  it('keeps spend across a restart', async () => {
    const key = newKey({ name: 'persist', budget_usd: 1, budget_period: 'week' });
    await ask(sdk(key));
    await aisbf.restart!();
    const err = await failure(ask(sdk(key)));
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err!.code).toBe('budget_exceeded');
  });
});
