/**
 * The Redis side of the shared-state interfaces, against a real redis-server: atomic windows, slots
 * and leases under races between two "instances" (two links), the one-call admit, the cache store,
 * and the circuit breaker's local fallback when Redis dies.
 */
import { rmSync } from 'node:fs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { LocalCounterStore, type AdmitPlan } from '../../../src/store/counters.js';
import { RedisLink } from '../../../src/store/redis/redis-link.js';
import { RedisCounterStore } from '../../../src/store/redis/redis-counters.js';
import { RedisGateSlots } from '../../../src/store/redis/redis-gate-slots.js';
import { RedisCacheStore } from '../../../src/store/redis/redis-cache-store.js';
import { MemoryCacheStore } from '../../../src/cache/cache-store.js';
import { redisSettingsOf } from '../../../src/config/storage-config.js';
import { startTestRedis, type TestRedis } from './redis-server.js';

let redis: TestRedis;
const links: RedisLink[] = [];
const logs: string[] = [];

async function link(prefix: string): Promise<RedisLink> {
  const settings = redisSettingsOf({ redis: { url: redis.url, key_prefix: prefix, command_timeout_ms: 3000, connect_timeout_ms: 1000, max_reconnect_delay_ms: 500 } })!;
  const l = new RedisLink(settings, pino({ level: 'info' }, { write: (s: string) => void logs.push(s) }));
  links.push(l);
  await l.start();
  return l;
}

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  for (const l of links) await l.close();
  await redis?.stop();
});

describe('RedisCounterStore', () => {
  it('never lets two instances together pass a window limit (2 × 50 racing consumers, limit 30)', async () => {
    const [a, b] = [new RedisCounterStore(await link('t1:'), new LocalCounterStore()), new RedisCounterStore(await link('t1:'), new LocalCounterStore())];
    const now = Date.now();
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).tryConsume('rpm:k', 60_000, 30, 1, now)));
    expect(results.filter((r) => r.ok)).toHaveLength(30);
    const refused = results.find((r) => !r.ok) as { ok: false; retryAfterMs: number };
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(60_000);
    // A minute later the window has slid: room again.
    expect((await a.tryConsume('rpm:k', 60_000, 30, 1, now + 61_000)).ok).toBe(true);
    a.close();
    b.close();
  });

  it('admits a request in one call: budget, tpm, a parallel slot and rpm, all or nothing', async () => {
    const l = await link('t2:');
    const a = new RedisCounterStore(l, new LocalCounterStore());
    const b = new RedisCounterStore(await link('t2:'), new LocalCounterStore());
    const now = Date.now();
    const plan = { now, windowMs: 60_000, budget: { key: 'spend:k', period: '2026-12', limit: 1 }, tpm: { key: 'tpm:k', limit: 100 }, slot: { key: 'parallel:k', limit: 1 }, rpm: { key: 'rpm:k', limit: 5 } };
    expect(await a.admitAll(plan)).toEqual({ ok: true });
    // The one parallel slot is taken on instance A: B is refused, and its rpm is not charged.
    expect(await b.admitAll(plan)).toEqual({ ok: false, refused: 'slot' });
    await a.releaseSlot('parallel:k');
    await new Promise((r) => setTimeout(r, 20));
    expect(await b.admitAll(plan)).toEqual({ ok: true });
    await b.releaseSlot('parallel:k');
    // Tokens used on B count against A's tpm check.
    await b.add('tpm:k', 60_000, 100, now);
    await new Promise((r) => setTimeout(r, 20));
    expect(await a.admitAll(plan)).toMatchObject({ ok: false, refused: 'tpm' });
    // Spend on A (kept in A's local store as well) stops B once the budget is used up.
    await a.addSpend('spend:k', '2026-12', 1.5);
    await new Promise((r) => setTimeout(r, 20));
    expect(await b.spent('spend:k', '2026-12')).toBe(1.5);
    expect(await b.admitAll({ ...plan, tpm: undefined })).toEqual({ ok: false, refused: 'budget', spent: 1.5 });
    a.close();
    b.close();
  });

  /** Every instance admits in loops of `workers` for `ms`; returns how many were admitted. */
  async function hammer(stores: RedisCounterStore[], workers: number, ms: number, plan: () => AdmitPlan): Promise<number> {
    let admitted = 0;
    const until = Date.now() + ms;
    await Promise.all(
      Array.from({ length: workers * stores.length }, async (_, i) => {
        while (Date.now() < until) {
          const r = await stores[i % stores.length]!.admitAll(plan());
          if (r.ok) admitted++;
          // Refused (or admitted from permits, which needs no I/O): let the others and timers run.
          await new Promise((res) => setImmediate(res));
        }
      }),
    );
    return admitted;
  }
  const evalshaCalls = async (c: RedisLink) => Number(/cmdstat_evalsha:calls=(\d+)/.exec(await c.redis.info('commandstats'))?.[1] ?? 0);

  it('admits most requests from rpm permits reserved ahead: far fewer round trips than requests', async () => {
    const [la, lb] = [await link('t6:'), await link('t6:')];
    const [a, b] = [new RedisCounterStore(la, new LocalCounterStore()), new RedisCounterStore(lb, new LocalCounterStore())];
    const calls0 = await evalshaCalls(la);
    const plan = () => ({ now: Date.now(), windowMs: 60_000, rpm: { key: 'rpm:fast', limit: 1e9 }, tpm: { key: 'tpm:fast', limit: 1e12 }, budget: { key: 'spend:fast', period: '2026-12', limit: 1e9 } });
    const admitted = await hammer([a, b], 8, 1500, plan);
    const calls = (await evalshaCalls(la)) - calls0;
    expect(admitted).toBeGreaterThan(1000);
    // Round trips: about one per instance per second plus the first ones, not one per request.
    expect(calls).toBeLessThan(admitted / 10);
    a.close();
    b.close();
  });

  it('meets a burst with one reservation at a time, each sized to the pace so far: few round trips, and what was held beyond it given back', async () => {
    const l = await link('t9:');
    const a = new RedisCounterStore(l, new LocalCounterStore());
    const calls0 = await evalshaCalls(l);
    const now = Date.now();
    const results = await Promise.all(Array.from({ length: 100 }, () => a.admitAll({ now, windowMs: 60_000, rpm: { key: 'rpm:burst', limit: 1e9 } })));
    expect(results.every((r) => r.ok)).toBe(true);
    const calls = (await evalshaCalls(l)) - calls0;
    // 1, 2, 4, 9, 20, 45, 102 permits (1.25 × those admitted so far): 7 round trips for 100 requests.
    expect(calls).toBeLessThanOrEqual(8);
    const counted = async () => Object.values(await l.redis.hgetall(l.key('n:rpm:burst'))).reduce((n, v) => n + Number(v), 0);
    expect(await counted()).toBeLessThanOrEqual(100 * 2.25);
    // What was held beyond the burst goes back once its second has ended.
    await new Promise((r) => setTimeout(r, 2200));
    expect(await counted()).toBe(100);
    a.close();
  });

  it('never lets two instances together pass rpm with permits reserved ahead, and the window counts exactly what was admitted', async () => {
    const [la, lb] = [await link('t7:'), await link('t7:')];
    const [a, b] = [new RedisCounterStore(la, new LocalCounterStore()), new RedisCounterStore(lb, new LocalCounterStore())];
    const plan = () => ({ now: Date.now(), windowMs: 60_000, rpm: { key: 'rpm:edge', limit: 400 } });
    // 2 instances × 50 racing loops for 2.5 s: every second's leftovers are given back and taken again.
    const admitted = await hammer([a, b], 50, 2500, plan);
    expect(admitted).toBeLessThanOrEqual(400);
    // Leftovers of the last second go back once it has ended (the once-a-second sweep).
    await new Promise((r) => setTimeout(r, 2200));
    const window = await la.redis.hgetall(la.key('n:rpm:edge'));
    const counted = Object.values(window).reduce((n, v) => n + Number(v), 0);
    expect(counted).toBe(admitted);
    expect(admitted).toBeGreaterThanOrEqual(390);
    const refused = await a.admitAll(plan());
    expect(refused).toMatchObject({ ok: false, refused: 'rpm' });
    a.close();
    b.close();
  });

  it("sees another instance's tokens by the next second, and asks Redis on every request once the view is near the limit", async () => {
    const [la, lb] = [await link('t8:'), await link('t8:')];
    const [a, b] = [new RedisCounterStore(la, new LocalCounterStore()), new RedisCounterStore(lb, new LocalCounterStore())];
    const plan = () => ({ now: Date.now(), windowMs: 60_000, tpm: { key: 'tpm:view', limit: 1000 } });
    expect(await a.admitAll(plan())).toEqual({ ok: true });
    await b.add('tpm:view', 60_000, 1000, Date.now());
    // Within at most a second (the view's age) A refuses; then every request asks Redis.
    let refusedAt = -1;
    for (let i = 0; i < 150 && refusedAt < 0; i++) {
      if (!(await a.admitAll(plan())).ok) refusedAt = i;
      else await new Promise((r) => setTimeout(r, 10));
    }
    expect(refusedAt).toBeGreaterThanOrEqual(0);
    const calls0 = await evalshaCalls(la);
    for (let i = 0; i < 5; i++) expect((await a.admitAll(plan())).ok).toBe(false);
    expect((await evalshaCalls(la)) - calls0).toBe(5);
    a.close();
    b.close();
  });
});

describe('RedisGateSlots', () => {
  it('leases a chain of gates all or none, and tells the other instance when a slot frees while it has waiters', async () => {
    const a = new RedisGateSlots(await link('t3:'));
    const b = new RedisGateSlots(await link('t3:'));
    const freed: string[][] = [];
    b.onFreed((ids) => freed.push([...ids]));
    const token = await a.take([{ id: 'p/m', max: 1 }, { id: 'p', max: 2 }]);
    expect(typeof token).toBe('string');
    expect(await b.take([{ id: 'p/m', max: 1 }, { id: 'p', max: 2 }])).toBe(false);
    // The provider gate still has one slot: a chain through another model of it gets it.
    const other = await b.take([{ id: 'p/n', max: 1 }, { id: 'p', max: 2 }]);
    expect(typeof other).toBe('string');
    expect(await b.take([{ id: 'p/x', max: 1 }, { id: 'p', max: 2 }])).toBe(false);
    // Nobody waits: the release wakes no one.
    b.release(other as string, ['p/n', 'p']);
    await new Promise((r) => setTimeout(r, 100));
    expect(freed).toEqual([]);
    // b waits on p/m (its wait lease, as the admission queue takes one): a's release is published.
    const waiting = await b.take([{ id: 'wait:p/m', max: 10 }]);
    expect(typeof waiting).toBe('string');
    a.release(token as string, ['p/m', 'p']);
    for (let i = 0; i < 100 && freed.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(freed).toEqual([['p/m', 'p']]);
    b.release(waiting as string, ['wait:p/m']);
    expect(typeof (await b.take([{ id: 'p/m', max: 1 }, { id: 'p', max: 2 }]))).toBe('string');
    a.close();
    b.close();
  });
});

describe('RedisCacheStore', () => {
  it('shares entries between instances and expires them', async () => {
    const a = new RedisCacheStore(await link('t4:'), new MemoryCacheStore(1 << 20));
    const b = new RedisCacheStore(await link('t4:'), new MemoryCacheStore(1 << 20));
    a.set('k1', '{"v":1}', 60_000);
    a.set('short', 'x', 30);
    await new Promise((r) => setTimeout(r, 60));
    expect(await b.get('k1')).toBe('{"v":1}');
    expect(await b.get('short')).toBeUndefined();
    expect(await b.get('never-set')).toBeUndefined();
  });
});

describe('Redis going away', () => {
  it('answers from local state at once, reports degraded, logs once, and recovers', async () => {
    const l = await link('t5:');
    const store = new RedisCounterStore(l, new LocalCounterStore());
    expect(l.status().state).toBe('connected');
    const before = logs.length;
    await redis.kill();
    // Whatever the breaker sees first (closed socket or failed command), every call falls back.
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await store.tryConsume('rpm:down', 60_000, 3, 1, Date.now()));
    // The local store now counts for this instance alone: 3 fit, the rest are refused.
    expect(results.map((r) => r.ok)).toEqual([true, true, true, false, false]);
    expect(l.status().state).toBe('degraded');
    await redis.restart();
    for (let i = 0; i < 400 && links.some((x) => x.status().state !== 'connected'); i++) await new Promise((r) => setTimeout(r, 25));
    expect(links.map((x) => x.status().state)).toEqual(links.map(() => 'connected'));
    expect((await store.tryConsume('rpm:down', 60_000, 3, 1, Date.now())).ok).toBe(true);
    const mine = logs.slice(before).filter((s) => s.includes('t5:') || s.includes('redis'));
    // Every link of this file lost Redis: one "unreachable" and one "reachable again" line each.
    const unreachable = mine.filter((s) => s.includes('redis unreachable')).length;
    const back = mine.filter((s) => s.includes('redis reachable again')).length;
    expect(unreachable).toBe(links.length);
    expect(back).toBe(links.length);
    store.close();
  }, 20_000);
});

async function link2(url: string): Promise<RedisLink> {
  const l = new RedisLink(redisSettingsOf({ redis: { url } })!, pino({ level: 'silent' }));
  links.push(l);
  await l.start();
  return l;
}

describe('an instance that starts before its Redis', () => {
  it('starts on local state (degraded) and connects by itself once Redis is up', async () => {
    const late = await startTestRedis();
    // Stopped even when an assertion fails (a failed test must not leave its redis-server running).
    onTestFinished(() => late.stop());
    await late.kill();
    const settings = redisSettingsOf({ redis: { url: late.url, connect_timeout_ms: 300, max_reconnect_delay_ms: 300 } })!;
    const lines: string[] = [];
    const l = new RedisLink(settings, pino({ level: 'info' }, { write: (x: string) => void lines.push(x) }));
    await l.start();
    expect(l.status().state).toBe('degraded');
    const store = new RedisCounterStore(l, new LocalCounterStore());
    expect((await store.tryConsume('rpm:early', 60_000, 1, 1, Date.now())).ok).toBe(true);
    await late.restart();
    for (let i = 0; i < 400 && l.status().state !== 'connected'; i++) await new Promise((r) => setTimeout(r, 25));
    expect(l.status().state).toBe('connected');
    expect(lines.filter((x) => x.includes('redis unreachable'))).toHaveLength(1);
    // Its pub/sub works too: it hears another instance's freed slots.
    const heard: string[][] = [];
    new RedisGateSlots(l).onFreed((ids) => heard.push([...ids]));
    const other = await link2(late.url);
    const otherSlots = new RedisGateSlots(other);
    // A request of this instance waits on g (its wait lease): the other's releases are published.
    expect(typeof (await new RedisGateSlots(l).take([{ id: 'wait:g', max: 10 }]))).toBe('string');
    for (let i = 0; i < 40 && heard.length === 0; i++) {
      const t = await otherSlots.take([{ id: 'g', max: 5 }]);
      if (typeof t === 'string') otherSlots.release(t, ['g']);
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(heard[0]).toEqual(['g']);
    otherSlots.close();
    store.close();
    await l.close();
  }, 20_000);
});

describe('storage.redis config', () => {
  it('takes storage.redis.url, then 0.1 redis_url, then REDIS_URL; none: no Redis', () => {
    expect(redisSettingsOf({ redis: { url: 'redis://a:1' } }, { REDIS_URL: 'redis://env:2' })?.url).toBe('redis://a:1');
    expect(redisSettingsOf({ redis_url: 'redis://old:3' }, { REDIS_URL: 'redis://env:2' })?.url).toBe('redis://old:3');
    expect(redisSettingsOf({ redis: {} }, { REDIS_URL: 'redis://env:2' })).toMatchObject({ url: 'redis://env:2', keyPrefix: 'aisbf:', commandTimeoutMs: 250 });
    expect(redisSettingsOf({}, {})).toBeUndefined();
  });

  it('is strict: an unknown field names the one meant, a URL that is not redis:// is refused', async () => {
    const { makeConfigDir } = await import('../../helpers/aisbf-server.js');
    const { loadConfig } = await import('../../../src/config/load-config.js');
    const typo = makeConfigDir({ aisbf: { storage: { redis: { urll: 'redis://x:1' } } } });
    expect(() => loadConfig({ dir: typo, env: {} })).toThrow(/urll.*url/s);
    const http = makeConfigDir({ aisbf: { storage: { redis: { url: 'http://x:1' } } } });
    expect(() => loadConfig({ dir: http, env: {} })).toThrow(/redis:\/\//);
    for (const d of [typo, http]) rmSync(d, { recursive: true, force: true });
  });
});
