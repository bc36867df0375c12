import OpenAI from 'openai';
import { createLogger } from '../../src/log.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { startAisbf, type TestServer } from '../helpers/aisbf-server.js';
import { createApp } from '../../src/server/app.js';

let fake: FakeOpenAI;
let aisbf: TestServer;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  aisbf = await startAisbf({
    providers: {
      alpha: { type: 'openai', endpoint: fake.baseURL, api_key: 'sk-alpha-1234567890', models: [{ name: 'gpt-4o' }] },
      beta: { type: 'openai', endpoint: fake.baseURL, api_key: 'sk-beta-1234567890', models: [{ name: 'gpt-4o-mini' }] },
    },
    rotations: {
      pair: { strategy: 'priority', providers: [{ provider_id: 'alpha', models: [{ name: 'gpt-4o', weight: 2 }] }, { provider_id: 'beta', models: [{ name: 'gpt-4o-mini', weight: 1 }] }] },
    },
  });
});
afterAll(async () => {
  await aisbf?.close();
  await fake?.close();
});

const post = (path: string) => fetch(`${aisbf.url}${path}`, { method: 'POST' });
const chat = (model: string) =>
  fetch(`${aisbf.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }) });
async function model(id: string): Promise<any> {
  const r = await fetch(`${aisbf.url}/admin/models`);
  expect(r.status).toBe(200);
  const body: any = await r.json();
  return body.data.find((m: any) => m.id === id);
}

describe('stopping and starting models', () => {
  it('lists every configured provider/model with enabled, stopped, health, failures, cooldown, queue and rpm', async () => {
    expect((await chat('alpha/gpt-4o')).status).toBe(200);
    const m = await model('alpha/gpt-4o');
    expect(m).toMatchObject({ provider: 'alpha', model: 'gpt-4o', enabled: true, stopped: false, health: 'healthy', failures: 0, cooldown_until: null, rpm: 1 });
    expect(m).toHaveProperty('queue');
    expect(await model('beta/gpt-4o-mini')).toMatchObject({ stopped: false });
  });

  it('a stopped model answers 503 model_stopped when named directly, is skipped by its rotation, and works again once started', async () => {
    const stop = await post('/admin/models/alpha%2Fgpt-4o/stop');
    expect(stop.status).toBe(200);
    expect((await stop.json()) as any).toMatchObject({ id: 'alpha/gpt-4o', stopped: true });
    expect(await model('alpha/gpt-4o')).toMatchObject({ stopped: true });

    const direct = await chat('alpha/gpt-4o');
    expect(direct.status).toBe(503);
    expect(((await direct.json()) as any).error.code).toBe('model_stopped');

    const viaRotation = await chat('pair');
    expect(viaRotation.status).toBe(200);
    expect(viaRotation.headers.get('x-aisbf-provider')).toBe('beta');

    // The SDK sees the same 503.
    const sdk = new OpenAI({ baseURL: `${aisbf.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    await expect(sdk.chat.completions.create({ model: 'alpha/gpt-4o', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ status: 503, code: 'model_stopped' });

    expect((await post('/admin/models/alpha%2Fgpt-4o/start')).status).toBe(200);
    expect(await model('alpha/gpt-4o')).toMatchObject({ stopped: false });
    const again = await chat('pair');
    expect(again.status).toBe(200);
    expect(again.headers.get('x-aisbf-provider')).toBe('alpha');
  });

  it('stopping a provider id stops all of its models; an unencoded provider/model id works too', async () => {
    expect((await post('/admin/models/beta/stop')).status).toBe(200);
    expect((await chat('beta/gpt-4o-mini')).status).toBe(503);
    expect(await model('beta/gpt-4o-mini')).toMatchObject({ stopped: true });
    expect((await post('/admin/models/beta/start')).status).toBe(200);
    expect((await post('/admin/models/beta/gpt-4o-mini/stop')).status).toBe(200);
    expect((await chat('beta/gpt-4o-mini')).status).toBe(503);
    expect((await post('/admin/models/beta%2Fgpt-4o-mini/start')).status).toBe(200);
    expect((await chat('beta/gpt-4o-mini')).status).toBe(200);
  });

  it('answers 404 naming the id for an unknown provider or model', async () => {
    for (const path of ['/admin/models/nobody/stop', '/admin/models/alpha%2Fgpt-9/stop', '/admin/models/nobody%2Fx/start']) {
      const r = await post(path);
      expect(r.status, path).toBe(404);
      const body: any = await r.json();
      expect(body.error.param).toBe('id');
      expect(body.error.message).toMatch(/nobody|gpt-9/);
    }
  });

  it('keeps a stop across a restart (persisted)', async () => {
    expect((await post('/admin/models/alpha%2Fgpt-4o/stop')).status).toBe(200);
    await aisbf.restart!();
    expect(await model('alpha/gpt-4o')).toMatchObject({ stopped: true });
    expect((await chat('alpha/gpt-4o')).status).toBe(503);
    expect((await post('/admin/models/alpha%2Fgpt-4o/start')).status).toBe(200);
    expect((await chat('alpha/gpt-4o')).status).toBe(200);
  });
});

describe('/admin/queue/{id}', () => {
  it("answers the seed's queue fields for a configured provider/model and 404 for an unknown one", async () => {
    const r = await fetch(`${aisbf.url}/admin/queue/alpha%2Fgpt-4o`);
    expect(r.status).toBe(200);
    const body: any = await r.json();
    for (const f of ['model', 'processing', 'waiting', 'max_concurrent', 'max_waiting', 'total_processed', 'total_failed', 'total_timeout', 'utilization']) expect(body).toHaveProperty(f);
    const unknown = await fetch(`${aisbf.url}/admin/queue/zzz`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as any).error.param).toBe('id');
  });
});

describe('/admin/crashes', () => {
  it('keeps our own faults with request id and stack, and never shows the stack to the client', async () => {
    // The running server's deps and onError, with one route that has a bug; its log lines are kept.
    const lines: string[] = [];
    const log = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
    const app = createApp({ ...aisbf.running.deps, log });
    app.get('/boom', () => {
      throw new TypeError('kaboom: cannot read x of undefined');
    });
    const r = await app.request('/boom', { headers: { 'x-request-id': 'crash-req-1' } });
    expect(r.status).toBe(500);
    const text = await r.text();
    expect(text).not.toContain('at ');
    expect(text).not.toContain('kaboom');
    // The log says what happened, with the request id, and carries no stack frame.
    const logged = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'unhandled error');
    expect(logged).toMatchObject({ reqId: 'crash-req-1', err: { name: 'TypeError', message: 'kaboom: cannot read x of undefined' } });
    expect(lines.join('')).not.toMatch(/\bat .+:\d+:\d+/);

    const list = await fetch(`${aisbf.url}/admin/crashes?limit=5`);
    expect(list.status).toBe(200);
    const body: any = await list.json();
    const crash = body.data.find((x: any) => x.request_id === 'crash-req-1');
    expect(crash).toMatchObject({ kind: 'unhandled', name: 'TypeError', route: 'GET /boom' });
    expect(crash.message).toContain('kaboom');
    expect(crash.stack).toContain('admin-models.test.ts');
    expect((await fetch(`${aisbf.url}/admin/crashes?limit=0`)).status).toBe(400);
  });
});

describe('the admin guard', () => {
  it('refuses /admin to a caller that is not on loopback while auth is off', async () => {
    // app.request has no socket: the guard cannot see a loopback address, as for a remote client.
    const app = createApp(aisbf.running.deps);
    const r = await app.request('/admin/usage');
    expect(r.status).toBe(403);
    expect((await app.request('/admin/models/alpha/stop', { method: 'POST' })).status).toBe(403);
  });
});
