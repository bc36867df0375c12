import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { startAisbf, type TestServer } from '../helpers/aisbf-server.js';
import { makeTestFrame, processForm } from '../helpers/glasses-frames.js';
import { hashAuthKey } from '../../src/glasses/auth-key.js';
import { encryptionKey, openApiKeys, openGlassesStores, type GlassesStores } from '../../src/glasses/glasses-data.js';

let upstream: FakeOpenAI;
let aisbf: TestServer;
let stores: GlassesStores;
const KEY = 'bob-glasses-key-7777';

beforeAll(async () => {
  upstream = await startFakeOpenAI();
  aisbf = await startAisbf({
    providers: { cam: { type: 'openai', endpoint: upstream.baseURL, api_key: 'sk-cam-server-key', models: [{ name: 'cam-1' }] } },
    aisbf: { glasses: { cascade: ['cam/cam-1'], rate_limit_per_hour: 2, default_prompt: 'What is in front of me?' } },
  });
  stores = openGlassesStores(aisbf.running.deps.db);
  stores.profiles.create('bob', await hashAuthKey(KEY));
});
afterAll(async () => {
  await aisbf.close();
  await upstream.close();
});

const post = (path: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(`${aisbf.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });

describe('POST /auth-{auth_key}', () => {
  it('always answers 200 with success true only for a profile\'s key, then 429 after 5 a minute', async () => {
    const good = await post(`/auth-${KEY}`);
    expect(good.status).toBe(200);
    expect(await good.json()).toEqual({ success: true, message: 'Authenticated' });
    const bad = await post('/auth-not-a-key');
    expect(bad.status).toBe(200);
    expect(await bad.json()).toEqual({ success: false, message: 'Invalid auth key' });
    for (let i = 0; i < 3; i++) expect((await post('/auth-x')).status).toBe(200);
    const limited = await post(`/auth-${KEY}`);
    expect(limited.status).toBe(429);
    expect(await limited.json()).toEqual({ error: 'Rate limit exceeded: 5 per 1 minute' });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('POST /profile', () => {
  it('needs the profile\'s auth key, and stores the provider keys encrypted', async () => {
    const noKey = await post('/profile', { username: 'bob', api_keys: { gemini_api_key: 'AIzaSyBobsGeminiKey0001' } });
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toEqual({ message: 'Authentication required' });
    const unknown = await post('/profile', { username: 'nobody', api_keys: {}, auth_key: KEY });
    expect(unknown.status).toBe(401);

    const ok = await post('/profile', { username: 'bob', auth_key: KEY, api_keys: { gemini_api_key: 'AIzaSyBobsGeminiKey0001', qwen_api_key: 'sk-qwen-bob-0001', chatgpt_api_key: '' } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ message: 'User profile authenticated' });
    const rec = stores.profiles.get('bob')!;
    expect(rec.apiKeyNames).toEqual(['gemini_api_key', 'qwen_api_key']);
    expect(rec.apiKeysSealed).not.toContain('AIzaSyBobsGeminiKey0001');
    expect(openApiKeys(encryptionKey(aisbf.running.deps.runtime().config), rec)).toEqual({ gemini_api_key: 'AIzaSyBobsGeminiKey0001', qwen_api_key: 'sk-qwen-bob-0001' });

    const odd = await post('/profile', { username: 'bob', api_keys: { claude_api_key: 'x' } }, { 'x-auth-key': KEY });
    expect(odd.status).toBe(422);
    expect(((await odd.json()) as { detail: string }).detail).toMatch(/claude_api_key/);
  });
});

describe('/prompt-{username}', () => {
  it('shows the default, sets a custom prompt, and restores the default with an empty one', async () => {
    const h = { 'x-auth-key': KEY };
    const first = await fetch(`${aisbf.url}/prompt-bob`, { headers: h });
    expect(await first.json()).toEqual({ username: 'bob', prompt: 'What is in front of me?', is_custom: false, default_prompt: 'What is in front of me?' });
    const set = await post('/prompt-bob', { prompt: 'Translate any sign you see' }, h);
    expect(set.status).toBe(200);
    expect(await set.json()).toMatchObject({ success: true, prompt: 'Translate any sign you see', is_custom: true });
    const got = await fetch(`${aisbf.url}/prompt-bob`, { headers: h });
    expect(await got.json()).toMatchObject({ prompt: 'Translate any sign you see', is_custom: true });
    const reset = await post('/prompt-bob', { prompt: '' }, h);
    expect(await reset.json()).toMatchObject({ prompt: 'What is in front of me?', is_custom: false });
    const denied = await fetch(`${aisbf.url}/prompt-bob`);
    expect(denied.status).toBe(401);
    expect(await denied.json()).toEqual({ detail: 'User not authenticated' });
  });
});

describe('the per-profile /process limit', () => {
  it('answers 429 with Retry-After past rate_limit_per_hour', async () => {
    const send = () => fetch(`${aisbf.url}/process`, { method: 'POST', body: processForm({ image: makeTestFrame(1).bytes, username: 'bob' }), headers: { 'x-auth-key': KEY } });
    upstream.enqueue({ type: 'reply', text: 'a door' }, { type: 'reply', text: 'a window' });
    expect((await send()).status).toBe(200);
    expect((await send()).status).toBe(200);
    const limited = await send();
    expect(limited.status).toBe(429);
    expect(await limited.json()).toEqual({ error: 'Rate limit exceeded: 2 per 1 hour' });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(3500);
  });
});
