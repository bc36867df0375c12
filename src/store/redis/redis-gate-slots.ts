/**
 * @module Admission slots (`max_concurrent`) shared by every instance: one sorted set of leases per
 * gate (`provider` or `provider/model`; score = lease expiry). A request's chain of gates is leased
 * in one Lua script — all or none — so two instances racing for the last slot never both get it.
 * Leases are renewed while held, so a crashed instance's slots free themselves within LEASE_MS. A
 * request that waits holds a lease in its gate's wait set (`gate:wait:<id>`); a release is published
 * when that set is not empty, so requests waiting on another instance take the slot at once.
 */
import type { RedisLink } from './redis-link.js';
import { redisScript } from './redis-script.js';

const LEASE_MS = 30_000;
const CHANNEL = 'slots-freed';

/** KEYS: gate sets. ARGV: member, now, lease ms, then one limit per key. 1 = leased on all, 0 = one is full. */
const TAKE_ALL = redisScript(`local now, ttl = tonumber(ARGV[2]), tonumber(ARGV[3])
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if redis.call('ZCARD', key) >= tonumber(ARGV[3 + i]) then return 0 end
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + ttl, ARGV[1])
  redis.call('PEXPIRE', key, ttl * 2)
end
return 1`);

/**
 * KEYS: gate sets, then each gate's set of wait leases. ARGV: member, now, channel, message. Frees
 * the member's leases and publishes the release only when some instance has requests waiting on one
 * of those gates: a release nobody waits for wakes no one.
 */
const RELEASE_ALL = redisScript(`local n = #KEYS / 2
for i = 1, n do redis.call('ZREM', KEYS[i], ARGV[1]) end
for i = n + 1, #KEYS do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', ARGV[2])
  if redis.call('ZCARD', KEYS[i]) > 0 then
    redis.call('PUBLISH', ARGV[3], ARGV[4])
    return 1
  end
end
return 0`);

export class RedisGateSlots {
  /** token → gate ids it holds. */
  private readonly held = new Map<string, readonly string[]>();
  private seq = 0;
  private readonly renewer: NodeJS.Timeout;
  private readonly freedListeners: Array<(ids: readonly string[]) => void> = [];

  constructor(private readonly link: RedisLink) {
    this.renewer = setInterval(() => this.renew(), LEASE_MS / 3);
    this.renewer.unref();
    link.subscribe(CHANNEL, (msg) => {
      if (!Array.isArray(msg.ids)) return;
      const ids = msg.ids.filter((x): x is string => typeof x === 'string');
      for (const f of this.freedListeners) f(ids);
    });
    link.onUp(() => link.fire((c) => Promise.all([TAKE_ALL.load(c), RELEASE_ALL.load(c)])));
  }

  get available(): boolean {
    return this.link.available;
  }

  private k(id: string): string {
    return this.link.key(`gate:${id}`);
  }

  take(gates: ReadonlyArray<{ id: string; max: number }>): Promise<string | false | undefined> {
    const token = `${this.link.instanceId}:${(this.seq++).toString(36)}`;
    return this.link.run(
      async (c) => {
        const ok = Number(await TAKE_ALL.run(c, gates.map((g) => this.k(g.id)), [token, Date.now(), LEASE_MS, ...gates.map((g) => g.max)])) === 1;
        if (!ok) return false;
        this.held.set(token, gates.map((g) => g.id));
        return token;
      },
      () => undefined,
    );
  }

  release(token: string, ids: readonly string[]): void {
    this.held.delete(token);
    // At once, never held for a batch: a request sent the moment this one's answer arrived must
    // find the slot free, on any instance.
    this.link.fire((c) =>
      RELEASE_ALL.run(c, [...ids.map((id) => this.k(id)), ...ids.map((id) => this.k(`wait:${id}`))], [token, Date.now(), this.link.key(CHANNEL), JSON.stringify({ from: this.link.instanceId, ids })]),
    );
  }

  onFreed(fn: (ids: readonly string[]) => void): void {
    this.freedListeners.push(fn);
  }

  private renew(): void {
    if (this.held.size === 0) return;
    const until = Date.now() + LEASE_MS;
    this.link.fire((c) => {
      const p = c.pipeline();
      for (const [token, ids] of this.held) for (const id of ids) p.zadd(this.k(id), 'XX', until, token);
      return p.exec();
    });
  }

  close(): void {
    clearInterval(this.renewer);
  }
}
