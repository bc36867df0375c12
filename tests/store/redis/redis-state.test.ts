/**
 * The Redis side of the shared-state interfaces, against a real redis-server: atomic windows, slots
 * and leases under races between two "instances" (two links), the one-call admit, the cache store,
 * and the circuit breaker's local fallback when Redis dies.
 */
import { rmSync } from 'node:fs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { LocalCounterStore } from '../../../src/store/counters.js';
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
