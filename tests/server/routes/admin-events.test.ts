import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../../fakes/openai-upstream.js';
import { startAisbf, type TestServer } from '../../helpers/aisbf-server.js';
import { FEED_MAX_CLIENTS } from '../../../src/server/event-feed.js';

let fake: FakeOpenAI;
let aisbf: TestServer;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  aisbf = await startAisbf({
    providers: { alpha: { type: 'openai', endpoint: fake.baseURL, api_key: 'sk-alpha-secret-1234567890', models: [{ name: 'gpt-4o' }] } },
  });
});
afterAll(async () => {
  await aisbf?.close();
  await fake?.close();
});

/** Reads server-sent events from a fetch body: each as { event, data }. */
function sseReader(res: Response) {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  return async function next(): Promise<{ event: string; data: any; id?: string }> {
    for (;;) {
      const end = buf.indexOf('\n\n');
      if (end >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        if (block.startsWith(':')) continue;
        let event = 'message';
        let id: string | undefined;
        let data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) event = line.slice(7);
          else if (line.startsWith('data: ')) data += line.slice(6);
          else if (line.startsWith('id: ')) id = line.slice(4);
        }
        return { event, id, data: data ? JSON.parse(data) : undefined };
      }
      const { done, value } = await reader.read();
      if (done) throw new Error('stream ended');
      buf += value;
    }
  };
}

async function feedClients(): Promise<number> {
  const r = await fetch(`${aisbf.url}/admin/state`);
  return ((await r.json()) as any).feed.clients;
}

describe('GET /admin/events', () => {
  it('streams one event per settled request with what the dashboard shows, and never a credential', async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${aisbf.url}/admin/events`, { signal: ctrl.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const next = sseReader(res);
    expect((await next()).event).toBe('hello');

    const sdk = new OpenAI({ baseURL: `${aisbf.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    await sdk.chat.completions.create({ model: 'alpha/gpt-4o', messages: [{ role: 'user', content: 'hello feed' }] });
    const e = await next();
    expect(e.event).toBe('message');
    expect(e.id).toMatch(/^\d+$/);
    expect(e.data).toMatchObject({ target: 'alpha/gpt-4o', provider: 'alpha', model: 'gpt-4o', status: 200, cache_hit: false, failovers: 0, stream: false });
    expect(e.data.prompt_tokens).toBeGreaterThan(0);
    expect(e.data.latency_ms).toBeGreaterThanOrEqual(0);
    expect(Date.parse(e.data.time)).not.toBeNaN();
    expect(JSON.stringify(e.data)).not.toContain('sk-alpha');

    // A failed request is in the feed too, with its status and code.
    fake.enqueue({ type: 'error', status: 400, message: 'bad thing' });
    await sdk.chat.completions.create({ model: 'alpha/gpt-4o', messages: [{ role: 'user', content: 'x' }] }).catch(() => undefined);
    const failed = await next();
    expect(failed.data.status).toBe(400);
    ctrl.abort();
  });

  it(`refuses more than ${FEED_MAX_CLIENTS} open feeds, and frees a slot when a reader goes away`, async () => {
    const ctrls = Array.from({ length: FEED_MAX_CLIENTS }, () => new AbortController());
    const open = await Promise.all(ctrls.map((c) => fetch(`${aisbf.url}/admin/events`, { signal: c.signal })));
    for (const r of open) expect(r.status).toBe(200);
    const extra = await fetch(`${aisbf.url}/admin/events`);
    expect(extra.status).toBe(503);
    expect(((await extra.json()) as any).error.code).toBe('too_many_feeds');
    for (const c of ctrls) c.abort();
    // The server learns of each closed socket asynchronously.
    for (let i = 0; i < 100 && (await feedClients()) > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await feedClients()).toBe(0);
    const again = new AbortController();
    expect((await fetch(`${aisbf.url}/admin/events`, { signal: again.signal })).status).toBe(200);
    again.abort();
  });
});

describe('GET /admin/events with auth on', () => {
  it('needs an admin credential in the Authorization header', async () => {
    const locked = await startAisbf({ aisbf: { auth: { enabled: true, tokens: ['static-admin-token-0123456789'] } } });
    try {
      expect((await fetch(`${locked.url}/admin/events`)).status).toBe(401);
      const ctrl = new AbortController();
      const ok = await fetch(`${locked.url}/admin/events`, { headers: { authorization: 'Bearer static-admin-token-0123456789' }, signal: ctrl.signal });
      expect(ok.status).toBe(200);
      expect((await sseReader(ok)()).event).toBe('hello');
      ctrl.abort();
    } finally {
      await locked.close();
    }
  });
});

describe('closing the server with a dashboard open', () => {
  it('ends the live feeds at once instead of holding shutdown for the grace period', async () => {
    // A grace period far longer than the test's timeout: if the feed held the close, the test fails.
    const own = await startAisbf({
      providers: { alpha: { type: 'openai', endpoint: fake.baseURL, api_key: 'sk-alpha-secret-1234567890', models: [{ name: 'gpt-4o' }] } },
      aisbf: { server: { shutdown_grace_seconds: 120 } },
    });
    const res = await fetch(`${own.url}/admin/events`);
    const next = sseReader(res);
    expect((await next()).event).toBe('hello');
    await own.close();
    await expect(next()).rejects.toThrow('stream ended');
  }, 20_000);
});
