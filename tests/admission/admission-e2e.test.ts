/**
 * The admission queue over HTTP (CONTRACTS §7.3 item 26): a real aisbf in front of an upstream that
 * holds each request until the test releases it, so every assertion is on order and slots observed
 * at the upstream and in /admin/queue — never on timings.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatedOpenAI, type GatedOpenAI } from '../fakes/gated-openai-upstream.js';
import { startAisbf, type TestServer } from '../helpers/aisbf-server.js';

let up: GatedOpenAI;
let aisbf: TestServer;

function chat(model: string, marker: string, headers: Record<string, string> = {}, signal?: AbortSignal, stream = false): Promise<Response> {
  return fetch(`${aisbf.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: marker }], stream }),
    signal,
  });
}

async function queue(id: string): Promise<{ processing: number; waiting: number; total_timeout: number; max_concurrent: number | null; max_waiting: number | null; model: string; utilization: number }> {
  const r = await fetch(`${aisbf.url}/admin/queue/${encodeURIComponent(id)}`);
  return r.json() as never;
}

/** Polls /admin/queue until `check` holds (state, not time). */
async function until(id: string, check: (q: Awaited<ReturnType<typeof queue>>) => boolean): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (check(await queue(id))) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`queue ${id} never reached the expected state: ${JSON.stringify(await queue(id))}`);
}

beforeAll(async () => {
  up = await startGatedOpenAI();
  const ep = { type: 'openai', endpoint: up.baseURL, api_key: 'sk-up' };
  aisbf = await startAisbf({
    providers: {
      one: { ...ep, models: [{ name: 'm', max_concurrent: 1, max_waiting: 4 }] },
      tiny: { ...ep, models: [{ name: 'm', max_concurrent: 1, max_waiting: 1 }] },
      slow: { ...ep, models: [{ name: 'm', max_concurrent: 1, max_waiting: 5 }] },
      a: { ...ep, models: [{ name: 'm', max_concurrent: 1, max_waiting: 5 }] },
      b: { ...ep, models: [{ name: 'm', max_concurrent: 1, max_waiting: 5 }] },
    },
    rotations: { pair: { model_name: 'pair', strategy: 'priority', providers: [{ provider_id: 'a', models: [{ name: 'm', weight: 2 }] }, { provider_id: 'b', models: [{ name: 'm', weight: 1 }] }] } },
    aisbf: { queue: { timeout_seconds: 30 } },
  });
});
afterAll(async () => {
  up.passThrough = true;
  for (const h of [...up.held]) h.release();
  await aisbf.close();
  await up.close();
});

describe('admission queue end to end', () => {
  it("reports the seed's fields on /admin/queue/{id}", async () => {
    expect(await queue('one/m')).toEqual({ model: 'one/m', processing: 0, waiting: 0, max_concurrent: 1, max_waiting: 4, total_processed: expect.any(Number), total_failed: expect.any(Number), total_timeout: expect.any(Number), utilization: 0 });
  });

  it('serves waiting requests highest priority first (X-Priority), FIFO within a priority, as seen at the upstream', async () => {
    const start = up.arrivals.length;
    const first = chat('one/m', 'p-first');
    await up.arrived(start + 1);
    const answers = [first];
    // Queued in this order (each seen waiting before the next is sent): low, normal, high, normal.
    const order: Array<[string, string]> = [
      ['p-low', 'low'],
      ['p-normal', 'normal'],
      ['p-high', 'high'],
      ['p-normal-2', 'normal'],
    ];
    for (const [i, [marker, priority]] of order.entries()) {
      answers.push(chat('one/m', marker, { 'x-priority': priority }));
      await until('one/m', (q) => q.waiting === i + 1);
    }
    expect((await queue('one/m')).processing).toBe(1);
    // Release one at a time; each release admits exactly the best waiter.
    for (let n = 1; n <= 5; n++) {
      up.release(up.arrivals[start + n - 1]!);
      if (n < 5) await up.arrived(start + n + 1);
    }
    const rs = await Promise.all(answers);
    expect(rs.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(up.arrivals.slice(start)).toEqual(['p-first', 'p-high', 'p-normal', 'p-normal-2', 'p-low']);
  });

  it('answers 429 queue_full with Retry-After when the waiting list is full', async () => {
    const start = up.arrivals.length;
    const running = chat('tiny/m', 'f-running');
    await up.arrived(start + 1);
    const waiting = chat('tiny/m', 'f-waiting');
    await until('tiny/m', (q) => q.waiting === 1);
    const refused = await chat('tiny/m', 'f-refused');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBeTruthy();
    const body = (await refused.json()) as { error: { code: string; type: string; message: string } };
    expect(body.error.code).toBe('queue_full');
    expect(body.error.message).toContain('tiny/m');
    up.release('f-running');
    await up.arrived(start + 2);
    up.release('f-waiting');
    expect((await running).status).toBe(200);
    expect((await waiting).status).toBe(200);
    expect(up.arrivals.slice(start)).toEqual(['f-running', 'f-waiting']);
  });

  it('answers 503 queue_timeout to a request that waited past queue.timeout_seconds', async () => {
    aisbf.writeConfig({
      providers: { slow: { type: 'openai', endpoint: up.baseURL, api_key: 'sk-up', models: [{ name: 'm', max_concurrent: 1, max_waiting: 5 }] } },
      aisbf: { queue: { timeout_seconds: 0.2 } },
    });
    aisbf.running.reload();
    try {
      const start = up.arrivals.length;
      const running = chat('slow/m', 't-running');
      await up.arrived(start + 1);
      const late = await chat('slow/m', 't-late');
      expect(late.status).toBe(503);
      const body = (await late.json()) as { error: { code: string } };
      expect(body.error.code).toBe('queue_timeout');
      expect((await queue('slow/m')).total_timeout).toBeGreaterThanOrEqual(1);
      up.release('t-running');
      expect((await running).status).toBe(200);
      expect(up.arrivals.slice(start)).toEqual(['t-running']);
    } finally {
      aisbf.writeConfig({
        providers: {
          one: { type: 'openai', endpoint: up.baseURL, api_key: 'sk-up', models: [{ name: 'm', max_concurrent: 1, max_waiting: 4 }] },
          tiny: { type: 'openai', endpoint: up.baseURL, api_key: 'sk-up', models: [{ name: 'm', max_concurrent: 1, max_waiting: 1 }] },
          slow: { type: 'openai', endpoint: up.baseURL, api_key: 'sk-up', models: [{ name: 'm', max_concurrent: 1, max_waiting: 5 }] },
          a: { type: 'openai', endpoint: up.baseURL, api_key: 'sk-up', models: [{ name: 'm', max_concurrent: 1, max_waiting: 5 }] },
          b: { type: 'openai', endpoint: up.baseURL, api_key: 'sk-up', models: [{ name: 'm', max_concurrent: 1, max_waiting: 5 }] },
        },
        rotations: { pair: { model_name: 'pair', strategy: 'priority', providers: [{ provider_id: 'a', models: [{ name: 'm', weight: 2 }] }, { provider_id: 'b', models: [{ name: 'm', weight: 1 }] }] } },
        aisbf: { queue: { timeout_seconds: 30 } },
      });
      aisbf.running.reload();
    }
  });

  it('lets a client that disconnects while waiting leave the queue at once; its request never reaches the upstream', async () => {
    const start = up.arrivals.length;
    const running = chat('one/m', 'd-running');
    await up.arrived(start + 1);
    const ctl = new AbortController();
    const gone = chat('one/m', 'd-gone', {}, ctl.signal).catch((e: Error) => e);
    await until('one/m', (q) => q.waiting === 1);
    ctl.abort();
    await until('one/m', (q) => q.waiting === 0);
    expect((await queue('one/m')).processing).toBe(1);
    const after = chat('one/m', 'd-after');
    await until('one/m', (q) => q.waiting === 1);
    up.release('d-running');
    await up.arrived(start + 2);
    up.release('d-after');
    expect((await running).status).toBe(200);
    expect((await after).status).toBe(200);
    expect(await gone).toBeInstanceOf(Error);
    expect(up.arrivals.slice(start)).toEqual(['d-running', 'd-after']);
  });

  it('keeps the slot of a stream until the stream ends', async () => {
    const start = up.arrivals.length;
    const client = new OpenAI({ baseURL: `${aisbf.url}/v1`, apiKey: 'k', maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'one/m', messages: [{ role: 'user', content: 's-stream' }], stream: true });
    const it = stream[Symbol.asyncIterator]();
    const firstChunk = await it.next();
    expect(firstChunk.value.choices[0].delta.content).toBe('start');
    // The stream has begun (headers and a chunk are out) and still holds the only slot.
    expect((await queue('one/m')).processing).toBe(1);
    const next = chat('one/m', 's-next');
    await until('one/m', (q) => q.waiting === 1);
    expect(up.arrivals.slice(start)).toEqual(['s-stream']);
    up.release('s-stream');
    let text = '';
    for (let r = await it.next(); !r.done; r = await it.next()) text += r.value.choices[0]?.delta.content ?? '';
    expect(text).toBe(' end');
    await up.arrived(start + 2);
    up.release('s-next');
    expect((await next).status).toBe(200);
    expect(up.arrivals.slice(start)).toEqual(['s-stream', 's-next']);
  });

  it('passes over a saturated rotation member for one with a free slot before anything waits', async () => {
    const start = up.arrivals.length;
    const busy = chat('a/m', 'r-busy');
    await up.arrived(start + 1);
    const viaRotation = chat('pair', 'r-rotation');
    await up.arrived(start + 2);
    expect((await queue('a/m')).waiting).toBe(0);
    expect(up.held.map((h) => h.marker)).toEqual(['r-busy', 'r-rotation']);
    up.release('r-rotation');
    const r = await viaRotation;
    expect(r.status).toBe(200);
    expect(r.headers.get('x-aisbf-provider')).toBe('b');
    up.release('r-busy');
    expect((await busy).headers.get('x-aisbf-provider')).toBe('a');
  });
});
