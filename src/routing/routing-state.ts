/**
 * @module The long-lived routing state service (it outlives config reloads): health (failure counts,
 * cooldowns) and rate limits, the clock and random source the attempt loop uses, and write-behind
 * persistence — state changes stay in memory and are flushed to the store on a short timer and on
 * close, so no request ever waits on a disk write.
 */
import type { Logger } from 'pino';
import type { Candidate } from './candidate.js';
import { HealthTracker, type Clock, type HealthRecord, type LimitRecord, type RoutingStateStore } from './health.js';
import { RateLimiter } from './rate-limits.js';
import type { RandomSource } from './weighted-order.js';

export type CandidateStateName = 'healthy' | 'cooling' | 'rate_limited' | 'disabled';

/** What status pages and the rotation report say about one candidate (never a key). */
export interface CandidateState {
  state: CandidateStateName;
  /** ms since epoch when a cooling or rate-limited candidate is available again. */
  until?: number;
  /** Which limit, for rate_limited. */
  reason?: string;
  failures: number;
  lastError: string | null;
}

export interface RoutingStateOptions {
  store?: RoutingStateStore;
  clock?: Clock;
  random?: RandomSource;
  /** How long a change may wait in memory before it is written. Default 1000 ms. */
  flushIntervalMs?: number;
  log?: Logger;
  /** Told about every local change, so other processes (cluster workers) can apply it too. */
  replicate?: (change: RoutingChange) => void;
}

/** One changed record, as it travels between cluster workers. */
export type RoutingChange = { kind: 'health'; record: HealthRecord } | { kind: 'limit'; record: LimitRecord };

export class RoutingState {
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly health: HealthTracker;
  readonly limits: RateLimiter;
  private readonly store: RoutingStateStore | undefined;
  private readonly log: Logger | undefined;
  private readonly flushIntervalMs: number;
  private readonly dirtyHealth = new Map<string, HealthRecord>();
  private readonly dirtyLimits = new Map<string, LimitRecord>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** More receivers of local changes (storage.redis shares them between instances). */
  private readonly replicas: Array<(change: RoutingChange) => void> = [];

  constructor(opts: RoutingStateOptions = {}) {
    this.clock = opts.clock ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.store = opts.store;
    this.log = opts.log;
    this.flushIntervalMs = opts.flushIntervalMs ?? 1000;
    const replicate = opts.replicate;
    const replicas = this.replicas;
    this.health = new HealthTracker(this.clock, (r) => {
      this.markDirty(this.dirtyHealth, r);
      replicate?.({ kind: 'health', record: r });
      for (const f of replicas) f({ kind: 'health', record: r });
    });
    this.limits = new RateLimiter(this.clock, (r) => {
      this.markDirty(this.dirtyLimits, r);
      replicate?.({ kind: 'limit', record: r });
      for (const f of replicas) f({ kind: 'limit', record: r });
    });
    if (this.store) {
      const { health, limits } = this.store.load();
      this.health.load(health);
      this.limits.load(limits);
    }
  }

  /** The live state of a candidate: disabled, cooling, rate-limited or healthy. */
  candidateState(c: Candidate, now = this.clock()): CandidateState {
    const h = this.health.get(c.key);
    const base = { failures: h?.failures ?? 0, lastError: h?.lastError ?? null };
    if (!c.provider.enabled) return { state: 'disabled', ...base };
    const cooling = this.health.coolingUntil(c.key, now);
    if (cooling !== undefined) return { state: 'cooling', until: cooling, ...base };
    const block = this.limits.blocked(c, now);
    if (block) return { state: 'rate_limited', until: block.until, reason: block.reason, ...base };
    return { state: 'healthy', ...base };
  }

  /** Also tells `fn` about every local change (not about applyRemote ones). */
  addReplica(fn: (change: RoutingChange) => void): void {
    this.replicas.push(fn);
  }

  /** Applies a change another worker made. Not persisted here: the worker that made it writes it. */
  applyRemote(change: RoutingChange): void {
    if (change.kind === 'health') this.health.load([change.record]);
    else this.limits.load([change.record]);
  }

  /** Writes every change made since the last flush. A failing write is logged, never thrown. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.store || (!this.dirtyHealth.size && !this.dirtyLimits.size)) return;
    const health = [...this.dirtyHealth.values()];
    const limits = [...this.dirtyLimits.values()];
    this.dirtyHealth.clear();
    this.dirtyLimits.clear();
    try {
      this.store.save(health, limits);
    } catch (err) {
      this.log?.error({ err: (err as Error).message }, 'saving routing state failed');
    }
  }

  /** Flushes and stops the timer; later changes are kept in memory only. */
  close(): void {
    this.flush();
    this.closed = true;
  }

  private markDirty<R extends { key: string }>(dirty: Map<string, R>, r: R): void {
    if (!this.store || this.closed) return;
    dirty.set(r.key, r);
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.flushIntervalMs);
      this.timer.unref();
    }
  }
}

/** A candidate's live state as status routes show it: `healthy`, `cooling until T`, `rate_limited until T`. */
export function publicCandidateState(routing: RoutingState, c: Candidate): Record<string, unknown> {
  const s = routing.candidateState(c);
  const until = s.until !== undefined ? new Date(s.until).toISOString() : null;
  return {
    state: s.state,
    until,
    status: until ? `${s.state.replace('_', '-')} until ${until}` : s.state,
    failures: s.failures,
    last_error: s.lastError,
    ...(s.reason ? { limit: s.reason } : {}),
  };
}
