/**
 * @module Shared counters behind one interface (CONTRACTS §7.3): sliding-window sums (rpm, tpm,
 * login failures), parallel slots and spend per budget period. Every check-and-add is one call so a
 * Redis implementation can make it atomic (a Lua script) across instances; this local one keeps
 * windows and slots in memory and persists spend to SQLite write-behind, so budgets survive restarts.
 */
import { migrate, type Db, type Migration } from './db.js';

type Awaitable<T> = T | Promise<T>;

export type ConsumeResult = { ok: true } | { ok: false; retryAfterMs: number };

export interface CounterStore {
  /**
   * Adds `amount` to the window `key` if that keeps its sum within `limit`; `amount` 0 only asks
   * whether the sum is still under `limit`. Refused: ms until enough of the window has expired.
   */
  tryConsume(key: string, windowMs: number, limit: number, amount: number, now: number): Awaitable<ConsumeResult>;
  /** Adds unconditionally (tokens counted once a request settled). */
  add(key: string, windowMs: number, amount: number, now: number): Awaitable<void>;
  /** A parallel slot under `limit`; false when all are taken. */
  acquireSlot(key: string, limit: number): Awaitable<boolean>;
  releaseSlot(key: string): Awaitable<void>;
  /** USD spent on `key` in `period` (e.g. `2026-03-04`, `2026-W10`, `2026-03`). */
  spent(key: string, period: string): Awaitable<number>;
  addSpend(key: string, period: string, usd: number): Awaitable<void>;
  /** Writes what is pending and stops timers. */
  close(): Awaitable<void>;
  /**
   * Every check of one request in a single call (budget, tpm, a parallel slot, rpm — in that order,
   * all or nothing): a shared store answers in one round trip, the local one at once.
   */
  admitAll(plan: AdmitPlan): Awaitable<AdmitResult>;
}

/** What one request asks of a key's counters (see CounterStore.admitAll). */
export interface AdmitPlan {
  now: number;
  /** The rpm/tpm window (a minute). */
  windowMs: number;
  budget?: { key: string; period: string; limit: number };
  /** Checked with amount 0 (tokens are only known once the request settled). */
  tpm?: { key: string; limit: number };
  slot?: { key: string; limit: number };
  rpm?: { key: string; limit: number };
}

export type AdmitResult =
  | { ok: true }
  | { ok: false; refused: 'budget'; spent: number }
  | { ok: false; refused: 'tpm' | 'rpm'; retryAfterMs: number }
  | { ok: false; refused: 'slot' };

const ADMITTED: AdmitResult = Object.freeze({ ok: true });

/** The single checks of a store that answers at once (the local store, or a view of it). */
export type LocalChecks = Pick<LocalCounterStore, 'spent' | 'tryConsume' | 'acquireSlot' | 'releaseSlot'>;

/**
 * `admitAll` made of a local store's single checks, synchronously: budget, tpm, a parallel slot,
 * rpm, all or nothing. Nothing else runs in between, so it is atomic within the process.
 */
export function admitLocally(store: LocalChecks, plan: AdmitPlan): AdmitResult {
  if (plan.budget) {
    const spent = store.spent(plan.budget.key, plan.budget.period);
    if (spent >= plan.budget.limit) return { ok: false, refused: 'budget', spent };
  }
  if (plan.tpm) {
    const r = store.tryConsume(plan.tpm.key, plan.windowMs, plan.tpm.limit, 0, plan.now);
    if (!r.ok) return { ok: false, refused: 'tpm', retryAfterMs: r.retryAfterMs };
  }
  if (plan.slot && !store.acquireSlot(plan.slot.key, plan.slot.limit)) return { ok: false, refused: 'slot' };
  if (plan.rpm) {
    const r = store.tryConsume(plan.rpm.key, plan.windowMs, plan.rpm.limit, 1, plan.now);
    if (!r.ok) {
      if (plan.slot) store.releaseSlot(plan.slot.key);
      return { ok: false, refused: 'rpm', retryAfterMs: r.retryAfterMs };
    }
  }
  return ADMITTED;
}

export const SPEND_MIGRATIONS: readonly Migration[] = [
  {
    id: 'counters-001-spend',
    sql: `CREATE TABLE key_spend (
      key TEXT NOT NULL,
      period TEXT NOT NULL,
      usd REAL NOT NULL,
      PRIMARY KEY (key, period)
    )`,
  },
];

/** Buckets per window: a minute is counted to the second (the Redis scripts' LUA_LIB counts 60 too). */
export const WINDOW_BUCKETS = 60;
/** The window of a key's rpm and tpm (the limits stage's), which the Redis store's sweeper also steps by. */
export const KEY_WINDOW_MS = 60_000;
/** One bucket's length in ms for a window of `windowMs` (every store, local or shared, the same). */
export const bucketMsOf = (windowMs: number): number => Math.max(1, windowMs / WINDOW_BUCKETS);

/**
 * A sliding window as a ring of buckets. The sum of the window is kept as buckets come and go, so a
 * check costs the buckets that left since the last one (none within the same second), not a pass
 * over all sixty: a key with rpm and tpm is checked twice per request.
 */
export class SlidingWindow {
  private readonly sums = new Float64Array(WINDOW_BUCKETS);
  /** The absolute bucket number each slot holds. */
  private readonly ids = new Float64Array(WINDOW_BUCKETS).fill(-Infinity);
  private readonly bucketMs: number;
  /** The newest bucket seen; `total` is the sum of the buckets in (head − WINDOW_BUCKETS, head]. */
  private head = -Infinity;
  private total = 0;

  constructor(readonly windowMs: number) {
    this.bucketMs = bucketMsOf(windowMs);
  }

  sum(now: number): number {
    const current = Math.floor(now / this.bucketMs);
    if (current >= this.head) {
      this.advance(current);
      return this.total;
    }
    // The clock went back (a check stamped before the newest one): count the buckets as they stand.
    let s = 0;
    for (let i = 0; i < WINDOW_BUCKETS; i++) if (this.ids[i]! > current - WINDOW_BUCKETS) s += this.sums[i]!;
    return s;
  }

  add(now: number, amount: number): void {
    const current = Math.floor(now / this.bucketMs);
    if (current > this.head) this.advance(current);
    const slot = ((current % WINDOW_BUCKETS) + WINDOW_BUCKETS) % WINDOW_BUCKETS;
    if (this.ids[slot] !== current) {
      if (this.ids[slot]! > this.head - WINDOW_BUCKETS) this.total -= this.sums[slot]!;
      this.ids[slot] = current;
      this.sums[slot] = 0;
    }
    this.sums[slot]! += amount;
    if (current > this.head - WINDOW_BUCKETS) this.total += amount;
  }

  /** Moves the window's end to `current`: the buckets that fall out of it leave the total. */
  private advance(current: number): void {
    if (current === this.head) return;
    if (this.head === -Infinity || current - this.head >= WINDOW_BUCKETS) {
      // Nothing counted is still inside the window.
      this.total = 0;
    } else {
      for (let id = this.head - WINDOW_BUCKETS + 1; id <= current - WINDOW_BUCKETS; id++) {
        const slot = ((id % WINDOW_BUCKETS) + WINDOW_BUCKETS) % WINDOW_BUCKETS;
        if (this.ids[slot] === id) this.total -= this.sums[slot]!;
      }
    }
    this.head = current;
  }

  /** ms until the sum, with `amount` added, fits `limit` (oldest buckets expire first). */
  retryAfter(now: number, limit: number, amount: number): number {
    const current = Math.floor(now / this.bucketMs);
    let excess = this.sum(now) + amount - limit;
    if (amount === 0) excess += 1e-9; // "still under": at least something must expire
    for (let age = WINDOW_BUCKETS - 1; age >= 0; age--) {
      const id = current - age;
      const slot = ((id % WINDOW_BUCKETS) + WINDOW_BUCKETS) % WINDOW_BUCKETS;
      if (this.ids[slot] !== id) continue;
      excess -= this.sums[slot]!;
      if (excess <= 0) return Math.max(1, (id + WINDOW_BUCKETS) * this.bucketMs - now);
    }
    return this.windowMs;
  }
}

export interface LocalCounterOptions {
  /** Persists spend; without it spend lives in memory only. */
  db?: Db;
  /** How often pending spend is written (ms). */
  flushMs?: number;
}

export class LocalCounterStore implements CounterStore {
  private readonly windows = new Map<string, SlidingWindow>();
  private readonly slots = new Map<string, number>();
  /** `${key}\n${period}` → USD, loaded from SQLite on first use. */
  private readonly spend = new Map<string, number>();
  /** Increments not yet written. */
  private readonly pending = new Map<string, number>();
  private readonly timer?: NodeJS.Timeout;
  /** Drops windows that emptied, so keys from the outside (login names, IPs) cannot pile up. */
  private readonly sweeper: NodeJS.Timeout;
  private readonly readSpend;
  private readonly writeSpend;
  private readonly db?: Db;

  constructor(opts: LocalCounterOptions = {}) {
    this.db = opts.db;
    this.sweeper = setInterval(() => this.sweep(Date.now()), 60_000);
    this.sweeper.unref();
    if (opts.db) {
      migrate(opts.db, SPEND_MIGRATIONS);
      this.readSpend = opts.db.prepare<[string, string], number>('SELECT usd FROM key_spend WHERE key = ? AND period = ?').pluck();
      // Adds rather than overwrites: several processes (cluster workers, the CLI) may write.
      this.writeSpend = opts.db.prepare<[string, string, number]>(
        'INSERT INTO key_spend (key, period, usd) VALUES (?, ?, ?) ON CONFLICT(key, period) DO UPDATE SET usd = usd + excluded.usd',
      );
      this.timer = setInterval(() => this.flush(), opts.flushMs ?? 1000);
      this.timer.unref();
    }
  }

  private window(key: string, windowMs: number): SlidingWindow {
    let w = this.windows.get(key);
    if (!w || w.windowMs !== windowMs) {
      w = new SlidingWindow(windowMs);
      this.windows.set(key, w);
    }
    return w;
  }

  /** Every check at once, synchronously: a request admitted here waits for nothing. */
  admitAll(plan: AdmitPlan): AdmitResult {
    return admitLocally(this, plan);
  }

  tryConsume(key: string, windowMs: number, limit: number, amount: number, now: number): ConsumeResult {
    const w = this.window(key, windowMs);
    const used = w.sum(now);
    const fits = amount === 0 ? used < limit : used + amount <= limit;
    if (!fits) return { ok: false, retryAfterMs: amount > limit ? windowMs : w.retryAfter(now, limit, amount) };
    if (amount !== 0) w.add(now, amount);
    return { ok: true };
  }

  add(key: string, windowMs: number, amount: number, now: number): void {
    if (amount > 0) this.window(key, windowMs).add(now, amount);
  }

  acquireSlot(key: string, limit: number): boolean {
    const n = this.slots.get(key) ?? 0;
    if (n >= limit) return false;
    this.slots.set(key, n + 1);
    return true;
  }

  releaseSlot(key: string): void {
    const n = this.slots.get(key) ?? 0;
    if (n <= 1) this.slots.delete(key);
    else this.slots.set(key, n - 1);
  }

  spent(key: string, period: string): number {
    const k = `${key}\n${period}`;
    let v = this.spend.get(k);
    if (v === undefined) {
      // Once per key and period: what earlier runs (and other processes) spent.
      v = this.readSpend?.get(key, period) ?? 0;
      this.spend.set(k, v);
    }
    return v;
  }

  addSpend(key: string, period: string, usd: number): void {
    if (!(usd > 0)) return;
    const k = `${key}\n${period}`;
    this.spend.set(k, this.spent(key, period) + usd);
    if (this.writeSpend) this.pending.set(k, (this.pending.get(k) ?? 0) + usd);
  }

  /** Writes pending spend in one transaction, off the request path. */
  flush(): void {
    if (!this.db || !this.writeSpend || this.pending.size === 0) return;
    const batch = [...this.pending];
    this.pending.clear();
    const write = this.writeSpend;
    try {
      this.db.transaction(() => {
        for (const [k, usd] of batch) {
          const i = k.indexOf('\n');
          write.run(k.slice(0, i), k.slice(i + 1), usd);
        }
      })();
    } catch {
      // Database busy or closed: keep the increments for the next flush.
      for (const [k, usd] of batch) this.pending.set(k, (this.pending.get(k) ?? 0) + usd);
    }
  }

  /** Forgets every window with nothing left in it at `now`. */
  sweep(now: number): void {
    for (const [key, w] of this.windows) if (w.sum(now) === 0) this.windows.delete(key);
  }

  /** How many windows are held (tests, diagnostics). */
  get windowCount(): number {
    return this.windows.size;
  }

  close(): void {
    clearInterval(this.sweeper);
    if (this.timer) clearInterval(this.timer);
    this.flush();
  }
}
