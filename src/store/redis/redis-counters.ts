/**
 * @module CounterStore on Redis: a key's rpm/tpm windows, parallel slots and budget spend shared by
 * every instance. Each check-and-add is one Lua script (atomic: two instances racing can never both
 * take the last unit), and `admitAll` makes every check of a request one script — one round trip,
 * and for a key without a parallel limit usually none: the script reserves rpm permits ahead and
 * answers the tpm and spend it saw, which admit the next moments' requests locally (key-allowance.ts
 * says why that never passes rpm).
 * Windows are hashes of 60 buckets (as the local store); slots are leases in a sorted set (score =
 * expiry) that this instance renews while it holds them, so a crashed instance's slots free
 * themselves. While Redis is away every call answers from the local store at once: limits then hold
 * per instance. Spend is also written to the local store (SQLite), which seeds Redis after a restart.
 */
import type { AdmitPlan, AdmitResult, ConsumeResult, CounterStore, LocalCounterStore } from '../counters.js';
import { admitLocally, bucketMsOf, KEY_WINDOW_MS, type LocalChecks } from '../counters.js';
import { KeyAllowance, ROOM_SHARE } from './key-allowance.js';
import type { RedisLink } from './redis-link.js';
import { LUA_LIB, redisScript } from './redis-script.js';

/** A slot lease lives this long unless renewed (renewed every third of it). */
const LEASE_MS = 30_000;
/** Spend hashes outlive the longest budget period (a month) with room to spare. */
const SPEND_TTL_S = 40 * 86_400;
/** A slot taken while Redis was away: released on the local store. */
const LOCAL = '';

const CONSUME = redisScript(`${LUA_LIB}
return wconsume(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]))`);

const ADD = redisScript(`${LUA_LIB}
local sum, cur = wsum(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[3]))
wadd(KEYS[1], cur, tonumber(ARGV[4]), tonumber(ARGV[2]))
return 1`);

const TAKE = redisScript(`${LUA_LIB}
if ltake(KEYS[1], tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])) then return 1 end
return 0`);

/** KEYS: spend hash. ARGV: field, local spend (seeds a missing field), usd, ttl s. */
const SPEND = redisScript(`redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
redis.call('HINCRBYFLOAT', KEYS[1], ARGV[1], ARGV[3])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return 1`);

/**
 * KEYS: spend hash, tpm window, slot set, rpm window. ARGV: now, bucketMs, windowMs, budget limit
 * ('' = none), spend field, local spend (seeds a missing field), tpm limit, slot limit, lease
 * member, lease ms, rpm limit, rpm permits wanted. Returns {0, granted, tpm sum, spent} | {1, spent}
 * | {2, retryMs} | {3} | {4, retryMs}; sums as strings (a Lua number reply is cut to an integer).
 * Granted: between 1 and what was wanted, at most an eighth of the rpm room left.
 */
const ADMIT = redisScript(`${LUA_LIB}
local now, bucketMs, windowMs = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local spent = 0
if ARGV[4] ~= '' then
  local s = redis.call('HGET', KEYS[1], ARGV[5])
  if not s then
    s = ARGV[6]
    redis.call('HSET', KEYS[1], ARGV[5], s)
    redis.call('EXPIRE', KEYS[1], ${SPEND_TTL_S})
  end
  if tonumber(s) >= tonumber(ARGV[4]) then return {1, tostring(s)} end
  spent = tonumber(s)
end
local tsum = 0
if ARGV[7] ~= '' then
  local limit = tonumber(ARGV[7])
  local sum, cur, live = wsum(KEYS[2], bucketMs, now)
  if sum >= limit then return {2, wretry(live, bucketMs, now, sum - limit + 1e-9, windowMs)} end
  tsum = sum
end
local took = false
if ARGV[8] ~= '' then
  if not ltake(KEYS[3], tonumber(ARGV[8]), ARGV[9], now, tonumber(ARGV[10])) then return {3} end
  took = true
end
local granted = 0
if ARGV[11] ~= '' then
  local limit = tonumber(ARGV[11])
  local sum, cur, live = wsum(KEYS[4], bucketMs, now)
  local room = limit - sum
  if room < 1 then
    if took then redis.call('ZREM', KEYS[3], ARGV[9]) end
    if limit < 1 then return {4, windowMs} end
    return {4, wretry(live, bucketMs, now, 1 - room, windowMs)}
  end
  granted = math.min(tonumber(ARGV[12]), math.max(1, math.floor(room / ${ROOM_SHARE})))
  wadd(KEYS[4], cur, granted, windowMs)
end
return {0, granted, tostring(tsum), tostring(spent)}`);

/** KEYS: rpm window. ARGV: bucket id, permits reserved there and never used. */
const GIVE_BACK = redisScript(`local v = redis.call('HGET', KEYS[1], ARGV[1])
if v then redis.call('HSET', KEYS[1], ARGV[1], tostring(math.max(0, tonumber(v) - tonumber(ARGV[2])))) end
return 1`);

const OK: Promise<AdmitResult> = Promise.resolve({ ok: true });

export class RedisCounterStore implements CounterStore {
  /** Slot key → lease members this instance holds ('' = taken on the local store). */
  private readonly held = new Map<string, string[]>();
  private seq = 0;
  private readonly renewer: NodeJS.Timeout;
  private readonly sweeper: NodeJS.Timeout;
  private readonly allowance = new KeyAllowance((key, bucket, n) => this.link.fireBatched((c) => GIVE_BACK.run(c, [this.k(key)], [bucket, n])));
  /** One reservation at a time per key: requests arriving meanwhile share what it brings. */
  private readonly reserving = new Map<string, Promise<AdmitResult>>();

  constructor(
    private readonly link: RedisLink,
    /** Answers while Redis is away, and keeps spend in SQLite. */
    private readonly local: LocalCounterStore,
  ) {
    this.renewer = setInterval(() => this.renew(), LEASE_MS / 3);
    this.renewer.unref();
    // Once a second: permits of a second that ended go back, so an idle key's leftovers count no longer.
    this.sweeper = setInterval(() => this.allowance.sweep(Date.now(), KEY_WINDOW_MS), 1000);
    this.sweeper.unref();
    link.onUp(() => {
      this.allowance.clear();
      link.fire((c) => Promise.all([CONSUME, ADD, TAKE, ADMIT, SPEND, GIVE_BACK].map((s) => s.load(c))));
    });
  }

  private k(key: string): string {
    return this.link.key(`n:${key}`);
  }

  private member(): string {
    return `${this.link.instanceId}:${(this.seq++).toString(36)}`;
  }

  private hold(key: string, member: string): void {
    const list = this.held.get(key);
    if (list) list.push(member);
    else this.held.set(key, [member]);
  }

  tryConsume(key: string, windowMs: number, limit: number, amount: number, now: number): Promise<ConsumeResult> {
    return this.link.run(
      async (c) => {
        const r = Number(await CONSUME.run(c, [this.k(key)], [bucketMsOf(windowMs), windowMs, limit, amount, now]));
        return r > 0 ? { ok: false as const, retryAfterMs: r } : { ok: true as const };
      },
      () => this.local.tryConsume(key, windowMs, limit, amount, now),
    );
  }

  async add(key: string, windowMs: number, amount: number, now: number): Promise<void> {
    if (!(amount > 0)) return;
    if (!this.link.available) return this.local.add(key, windowMs, amount, now);
    this.allowance.addedTokens(key, amount);
    this.link.fireBatched((c) => ADD.run(c, [this.k(key)], [bucketMsOf(windowMs), windowMs, now, amount]));
  }

  acquireSlot(key: string, limit: number): Promise<boolean> {
    const member = this.member();
    return this.link.run(
      async (c) => {
        const ok = Number(await TAKE.run(c, [this.k(key)], [limit, member, Date.now(), LEASE_MS])) === 1;
        if (ok) this.hold(key, member);
        return ok;
      },
      () => {
        const ok = this.local.acquireSlot(key, limit);
        if (ok) this.hold(key, LOCAL);
        return ok;
      },
    );
  }

  async releaseSlot(key: string): Promise<void> {
    const list = this.held.get(key);
    const member = list?.pop();
    if (list && list.length === 0) this.held.delete(key);
    if (member === undefined) return;
    if (member === LOCAL) return this.local.releaseSlot(key);
    // Sent at once, never held for a batch: the key's next request (the client may send it the
    // moment it has this answer, to any instance) must find the slot free. Redis away: the lease
    // expires by itself within LEASE_MS.
    this.link.fire((c) => c.zrem(this.k(key), member));
  }

  spent(key: string, period: string): Promise<number> {
    const local = this.local.spent(key, period);
    return this.link.run(
      async (c) => Math.max(local, Number((await c.hget(this.link.key(`spend:${period}`), key)) ?? 0)),
      () => local,
    );
  }

  async addSpend(key: string, period: string, usd: number): Promise<void> {
    if (!(usd > 0)) return;
    const before = this.local.spent(key, period);
    this.local.addSpend(key, period, usd);
    this.allowance.addedSpend(key, period, usd);
    const hash = this.link.key(`spend:${period}`);
    // A script, not MULTI: it joins the other writes of the moment in one auto-pipelined write.
    this.link.fireBatched((c) => SPEND.run(c, [hash], [key, String(before), usd, SPEND_TTL_S]));
  }

  admitAll(plan: AdmitPlan): Promise<AdmitResult> {
    if (!this.link.available) return this.reserve(plan, 1);
    if (this.allowance.tryLocal(plan)) return OK;
    const one = plan.rpm?.key ?? plan.tpm?.key ?? plan.budget?.key;
    if (plan.slot || one === undefined) return this.reserve(plan, 1);
    // One reservation in flight per key: requests arriving meanwhile take from what it brings, or
    // queue for the next (sized by then to the pace seen), and share a refusal — so a burst never
    // reserves more than one request's worth beyond its pace.
    const pending = this.reserving.get(one);
    if (pending) return pending.then((res) => (!res.ok ? res : this.allowance.tryLocal(plan) ? OK : this.admitAll(plan)));
    const r = this.reserve(plan, this.allowance.want(plan));
    this.reserving.set(one, r);
    // link.run never rejects (it answers from the local store on any failure).
    void r.then(() => this.reserving.delete(one));
    return r;
  }

  /** One ADMIT script asking for `want` rpm permits; its answer is recorded in the allowance. */
  private reserve(plan: AdmitPlan, want: number): Promise<AdmitResult> {
    const member = plan.slot ? this.member() : '';
    const { budget, tpm, slot, rpm } = plan;
    return this.link.run(
      async (c) => {
        const keys = [budget ? this.link.key(`spend:${budget.period}`) : this.k('-'), this.k(tpm?.key ?? '-'), this.k(slot?.key ?? '-'), this.k(rpm?.key ?? '-')];
        const args = [
          plan.now,
          bucketMsOf(plan.windowMs),
          plan.windowMs,
          budget ? budget.limit : '',
          budget?.key ?? '',
          budget ? this.local.spent(budget.key, budget.period) : 0,
          tpm ? tpm.limit : '',
          slot ? slot.limit : '',
          member,
          LEASE_MS,
          rpm ? rpm.limit : '',
          want,
        ];
        const r = (await ADMIT.run(c, keys, args)) as [number, (string | number)?, string?, string?];
        if (Number(r[0]) !== 0) this.allowance.refused(plan);
        switch (Number(r[0])) {
          case 0:
            if (slot) this.hold(slot.key, member);
            else this.allowance.reserved(plan, Number(r[1]), Number(r[2]), Number(r[3]));
            return { ok: true };
          case 1:
            return { ok: false, refused: 'budget', spent: Number(r[1]) };
          case 2:
            return { ok: false, refused: 'tpm', retryAfterMs: Number(r[1]) };
          case 3:
            return { ok: false, refused: 'slot' };
          default:
            return { ok: false, refused: 'rpm', retryAfterMs: Number(r[1]) };
        }
      },
      () => admitLocally(this.localWithSlots(), plan),
    );
  }

  /** The local store's checks, with its slots remembered here so releaseSlot finds them. */
  private localWithSlots(): LocalChecks {
    const self = this;
    return {
      tryConsume: (...a) => self.local.tryConsume(...a),
      acquireSlot(key, limit) {
        const ok = self.local.acquireSlot(key, limit);
        if (ok) self.hold(key, LOCAL);
        return ok;
      },
      releaseSlot: (key) => void self.releaseSlot(key),
      spent: (k, p) => self.local.spent(k, p),
    };
  }

  /** Extends every lease this instance holds (one pipeline), so only a dead instance's expire. */
  private renew(): void {
    if (this.held.size === 0) return;
    const until = Date.now() + LEASE_MS;
    this.link.fire((c) => {
      const p = c.pipeline();
      for (const [key, members] of this.held) for (const m of members) if (m !== LOCAL) p.zadd(this.k(key), 'XX', until, m);
      return p.exec();
    });
  }

  close(): void {
    clearInterval(this.renewer);
    clearInterval(this.sweeper);
    this.local.close();
  }
}
