/**
 * Several aisbf instances on one redis-server (CONTRACTS §7.7 item 35, issue 18): cooldowns, key
 * limits, admission slots, stopped models and the response cache hold across instances; with Redis
 * killed each keeps serving on local state and says `degraded`; with Redis back, shared state returns.
 */
import OpenAI from 'openai';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeServer, type FakeServer } from '../fakes/fake-server.js';
import { startAisbf, type TestConfig, type TestServer } from '../helpers/aisbf-server.js';
import { startTestRedis, type TestRedis } from '../store/redis/redis-server.js';

const ADMIN = 'admin-token-for-multi-instance';
const KEY_A = 'sk-aisbf-multiinstance-key-aaaaaaaaaaaa';
const KEY_B = 'sk-aisbf-multiinstance-key-bbbbbbbbbbbb';
const KEY_RPM = 'sk-aisbf-multiinstance-key-rpm-30-xxxxx';
const KEY_REVOKE = 'sk-aisbf-multiinstance-key-to-revoke-zz';
const KEY_PAR = 'sk-aisbf-multiinstance-key-one-at-a-time';

/** An OpenAI-wire upstream that counts calls per model and the most calls one model had at once. */
interface Upstream extends FakeServer {
  calls: Map<string, number>;
  maxInFlight: Map<string, number>;
}

async function startUpstream(): Promise<Upstream> {
  const calls = new Map<string, number>();
  const inFlight = new Map<string, number>();
  const maxInFlight = new Map<string, number>();
  const fake = (await startFakeServer(async (req, res) => {
    const model = String(req.body?.model ?? '');
    calls.set(model, (calls.get(model) ?? 0) + 1);
    if (model === 'flaky') {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '120' });
      return void res.end(JSON.stringify({ error: { message: 'slow down', type: 'requests', param: null, code: 'rate_limit_exceeded' } }));
    }
    const n = (inFlight.get(model) ?? 0) + 1;
    inFlight.set(model, n);
    maxInFlight.set(model, Math.max(maxInFlight.get(model) ?? 0, n));
    await new Promise((r) => setTimeout(r, model === 'solo' ? 5 : model === 'slow' ? 1500 : model === 'held' ? 300 : 1));
    inFlight.set(model, inFlight.get(model)! - 1);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        id: `chatcmpl-${calls.get(model)}`,
        object: 'chat.completion',
        created: 1,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: `answer from ${model}` }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
      }),
    );
  })) as Upstream;
  fake.calls = calls;
  fake.maxInFlight = maxInFlight;
  return fake;
}

let redis: TestRedis;
let upstream: Upstream;
const instances: TestServer[] = [];
const logLines: string[][] = [];

function config(): TestConfig {
  return {
    providers: {
      up: {
        type: 'openai',
        endpoint: `${upstream.origin}/v1`,
        api_key: 'sk-upstream-000000',
        models: [{ name: 'm1' }, { name: 'flaky' }, { name: 'solo', max_concurrent: 1 }, { name: 'other' }, { name: 'spaced', rate_limit: 120 }, { name: 'slow', max_concurrent: 1, max_waiting: 1 }, { name: 'held' }],
      },
    },
    rotations: {
      rot: { strategy: 'priority', providers: [{ provider_id: 'up', models: [{ name: 'flaky', weight: 10 }, { name: 'm1', weight: 1 }] }] },
    },
    aisbf: {
      auth: { enabled: true, tokens: [ADMIN] },
      cache: { enabled: true, ttl_seconds: 600 },
      // Generous: a loaded CI machine must not open the breaker (that is the Redis-down test's job).
      storage: { redis: { url: redis.url, command_timeout_ms: 3000 } },
      queue: { timeout_seconds: 60 },
    },
  };
}

async function startInstance(): Promise<TestServer> {
  const lines: string[] = [];
  logLines.push(lines);
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
  const s = await startAisbf(config(), {}, { log });
  instances.push(s);
  for (const [key, extra] of [[KEY_A, {}], [KEY_B, {}], [KEY_RPM, { rpm: 30 }], [KEY_REVOKE, {}], [KEY_PAR, { max_parallel: 1 }]] as const) {
    const res = await admin(s, 'POST', '/admin/keys', { name: key.slice(-6), key, ...extra });
    expect(res.status).toBe(201);
  }
  return s;
}

function admin(s: TestServer, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${s.url}${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
}

const sdk = (s: TestServer, key = KEY_A) => new OpenAI({ baseURL: `${s.url}/v1`, apiKey: key, maxRetries: 0 });
const ask = (s: TestServer, model: string, key = KEY_A, content = 'hi') => sdk(s, key).chat.completions.create({ model, messages: [{ role: 'user', content }] }).withResponse();
let asked = 0;
/** A fresh prompt each time, so the response cache never answers it. */
const askFresh = (s: TestServer, model: string, key = KEY_A) => ask(s, model, key, `fresh ${asked++}`);
const statusOf = (p: Promise<unknown>) => p.then(() => 200, (e: { status?: number }) => e.status ?? -1);

async function health(s: TestServer): Promise<any> {
  return (await fetch(`${s.url}/health`)).json();
}

async function eventually(what: string, check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`not within ${ms} ms: ${what}`);
}

beforeAll(async () => {
  redis = await startTestRedis();
  upstream = await startUpstream();
  await startInstance();
  await startInstance();
}, 30_000);

afterAll(async () => {
  for (const s of instances) await s.close();
  await upstream?.close();
  await redis?.stop();
});

describe('several instances on one Redis', () => {
  it('reports the shared store as connected in /health', async () => {
    for (const s of instances) {
      const h = await health(s);
      expect(h.storage).toMatchObject({ backend: 'redis', state: 'connected', url: redis.url });
    }
    expect((await health(instances[0]!)).storage.instance).not.toBe((await health(instances[1]!)).storage.instance);
  });

  it('a cooldown recorded by one instance is obeyed by another', async () => {
    const [a, b] = instances as [TestServer, TestServer];
    const first = await ask(a, 'rot');
    expect(first.data.choices[0]!.message.content).toBe('answer from m1');
    expect(upstream.calls.get('flaky')).toBe(1);
    await eventually('instance B sees the cooldown', async () => ((await health(b)).providers.up.cooldowns ?? []).some((c: any) => c.model === 'flaky'));
    const second = await ask(b, 'rot');
    expect(second.data.choices[0]!.message.content).toBe('answer from m1');
    // B skipped the cooling member: the upstream never saw a second call to it.
    expect(upstream.calls.get('flaky')).toBe(1);
  });

  it("a key's rpm holds across instances: 2 instances × 50 parallel requests, exactly 30 served", async () => {
    const [a, b] = instances as [TestServer, TestServer];
    const all = await Promise.all(Array.from({ length: 100 }, (_, i) => statusOf(ask(i % 2 ? a : b, 'up/m1', KEY_RPM, `rpm ${i}`))));
    expect(all.filter((s) => s === 200)).toHaveLength(30);
    expect(all.filter((s) => s === 429)).toHaveLength(70);
  });

  it("a key's max_parallel slot is free again as soon as its answer arrives, on either instance", async () => {
    const [a, b] = instances as [TestServer, TestServer];
    // One at a time, each sent the moment the last answer arrived, alternating instances: the slot
    // must be given back before the answer leaves, not after it (nor in a batch of Redis writes).
    for (let i = 0; i < 30; i++) expect(await statusOf(ask(i % 2 ? a : b, 'up/m1', KEY_PAR, `one at a time ${i}`)), `request ${i}`).toBe(200);
    // And it still holds: two at once (each held 300 ms upstream), one is refused.
    const both = await Promise.all([statusOf(ask(a, 'up/held', KEY_PAR, 'par 1')), statusOf(ask(b, 'up/held', KEY_PAR, 'par 2'))]);
    expect(both.sort()).toEqual([200, 429]);
  });

  it('max_concurrent: 1 holds across instances (2 × 50 parallel; the upstream never sees two at once)', async () => {
    const [a, b] = instances as [TestServer, TestServer];
    const all = await Promise.all(Array.from({ length: 100 }, (_, i) => statusOf(ask(i % 2 ? a : b, 'up/solo', KEY_B, `solo ${i}`))));
    expect(all.every((s) => s === 200)).toBe(true);
    expect(upstream.calls.get('solo')).toBe(100);
    expect(upstream.maxInFlight.get('solo')).toBe(1);
  }, 60_000);

  it('max_waiting counts the waiters of every instance', async () => {
    const [a, b] = instances as [TestServer, TestServer];
    const running = ask(a, 'up/slow', KEY_B, 'slow 1');
    await eventually('the first call reached the upstream', async () => upstream.calls.get('slow') === 1);
    const waiting = ask(b, 'up/slow', KEY_B, 'slow 2');
    await eventually('B queued the second', async () => ((await (await admin(b, 'GET', `/admin/queue/${encodeURIComponent('up/slow')}`)).json()) as any).waiting === 1);
    // A has nobody waiting itself, but the one waiting on B fills max_waiting: 1.
    const third = await ask(a, 'up/slow', KEY_B, 'slow 3').catch((e: any) => e);
    expect(third.status).toBe(429);
    expect(third.code ?? third.error?.code).toBe('queue_full');
    expect((await running).data.choices[0]!.message.content).toBe('answer from slow');
    expect((await waiting).data.choices[0]!.message.content).toBe('answer from slow');
    expect(upstream.maxInFlight.get('slow')).toBe(1);
  }, 20_000);

  it('a model stopped on one instance is stopped on every instance, and started again', async () => {
    const [a, b] = instances as [TestServer, TestServer];
    expect((await admin(a, 'POST', `/admin/models/${encodeURIComponent('up/other')}/stop`)).status).toBe(200);
    await eventually('instance B refuses the stopped model', async () => (await statusOf(askFresh(b, 'up/other'))) === 503);
    const err = await askFresh(b, 'up/other').catch((e: any) => e);
    expect(err.code ?? err.error?.code).toBe('model_stopped');
    expect((await admin(b, 'POST', `/admin/models/${encodeURIComponent('up/other')}/start`)).status).toBe(200);
    await eventually('instance A serves it again', async () => (await statusOf(askFresh(a, 'up/other'))) === 200);
  });

  it('a cached answer is a hit on another instance, and never for another key', async () => {
    const [a, b] = instances as [TestServer, TestServer];
    const before = upstream.calls.get('m1') ?? 0;
    const first = await ask(a, 'up/m1', KEY_A, 'cache me across instances');
    expect(first.response.headers.get('x-aisbf-cache')).not.toBe('hit');
    let hit: Awaited<ReturnType<typeof ask>> | undefined;
    await eventually('instance B answers from the cache', async () => {
      const r = await ask(b, 'up/m1', KEY_A, 'cache me across instances');
      if (r.response.headers.get('x-aisbf-cache') === 'hit') hit = r;
      return hit !== undefined;
    });
    expect(hit!.data.choices[0]!.message.content).toBe('answer from m1');
    const calls = upstream.calls.get('m1')!;
    const other = await ask(b, 'up/m1', KEY_B, 'cache me across instances');
    expect(other.response.headers.get('x-aisbf-cache')).not.toBe('hit');
    expect(upstream.calls.get('m1')).toBe(calls + 1);
    expect(calls - before).toBeGreaterThanOrEqual(1);
  });

  it('a key revoked on one instance is refused by every instance', async () => {
    const [a, b] = instances as [TestServer, TestServer];
    expect(await statusOf(askFresh(b, 'up/m1', KEY_REVOKE))).toBe(200);
    const list = (await (await admin(a, 'GET', '/admin/keys')).json()) as { data: Array<{ id: string; name: string }> };
    const id = list.data.find((k) => k.name === KEY_REVOKE.slice(-6))!.id;
    expect((await admin(a, 'DELETE', `/admin/keys/${id}`)).status).toBe(200);
    await eventually('instance B refuses the revoked key', async () => (await statusOf(askFresh(b, 'up/m1', KEY_REVOKE))) === 401);
    const err = await askFresh(b, 'up/m1', KEY_REVOKE).catch((e: any) => e);
    expect(err.code ?? err.error?.code).toBe('key_revoked');
  });

  it("a model's rate_limit spacing started on one instance holds on another", async () => {
    const [a, b] = instances as [TestServer, TestServer];
    expect(await statusOf(askFresh(a, 'up/spaced'))).toBe(200);
    await eventually('B sees the call', async () => (await statusOf(askFresh(b, 'up/spaced'))) !== 200);
    expect(upstream.calls.get('spaced')).toBe(1);
  });

  it('Redis killed: every instance keeps serving, says degraded, and logs it once', async () => {
    const [a, b] = instances as [TestServer, TestServer];
    // Something stopped before the crash, to see it come back after.
    expect((await admin(a, 'POST', `/admin/models/${encodeURIComponent('up/other')}/stop`)).status).toBe(200);
    await eventually('B sees the stop', async () => (await statusOf(askFresh(b, 'up/other'))) === 503);
    await redis.kill();
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push(await statusOf(ask(i % 2 ? a : b, 'up/m1', KEY_A, `outage ${i}`)));
    expect(statuses.every((s) => s === 200)).toBe(true);
    for (const s of [a, b]) {
      const h = await health(s);
      expect(h.status).toBe('degraded');
      expect(h.storage.state).toBe('degraded');
      expect(h.problems.some((p: string) => p.startsWith('storage: redis'))).toBe(true);
    }
    for (const lines of logLines) expect(lines.filter((l) => l.includes('redis unreachable'))).toHaveLength(1);
  }, 30_000);

  it('Redis restarted: shared state is back within seconds', async () => {
    await redis.restart();
    for (const s of instances) await eventually('connected again', async () => (await health(s)).storage.state === 'connected', 15_000);
    for (const lines of logLines) expect(lines.filter((l) => l.includes('redis reachable again'))).toHaveLength(1);
    // A third instance, started now, learns the stop the others hold (they wrote it back on reconnect).
    const c = await startInstance();
    await eventually('the new instance refuses the stopped model', async () => (await statusOf(askFresh(c, 'up/other'))) === 503);
    // The cooldown from before the crash came back too: C skips the cooling member.
    expect(((await health(c)).providers.up.cooldowns ?? []).map((x: any) => x.model)).toContain('flaky');
    // And the key revoked before the crash is refused there too.
    await eventually('the new instance refuses the revoked key', async () => (await statusOf(askFresh(c, 'up/m1', KEY_REVOKE))) === 401);
    const [a] = instances as [TestServer];
    expect((await admin(a, 'POST', `/admin/models/${encodeURIComponent('up/other')}/start`)).status).toBe(200);
    await eventually('C serves it again', async () => (await statusOf(askFresh(c, 'up/other'))) === 200);
  }, 40_000);
});
