/**
 * @module The admission stage (CONTRACTS §7.3 item 26): per provider and per provider/model
 * concurrency (`max_concurrent`) with a bounded waiting list (`max_waiting`) served highest priority
 * first, FIFO within a priority. A candidate passes through a chain of gates (its model's, then its
 * provider's); it runs only when every gate of its chain has room. A waiter may wait on several
 * candidates at once (a rotation's saturated members) and takes the first slot that frees on any.
 * With no limit configured anywhere the stage is `inactive` and costs the pipeline one branch.
 */
import { HttpError } from '../errors/http-error.js';
import { ClientGoneError } from '../providers/deadline.js';
import type { Candidate } from '../routing/candidate.js';
import type { Runtime } from '../runtime.js';
import type { Priority, RequestMeta } from '../pipeline/request-meta.js';
import type { AdmissionSlot, AdmissionStage, QueueStats } from '../pipeline/stages.js';
import { gateLimitsFor, queueTimeoutMs, type AdmissionLimits, type GateLimits, type LimitsOfConfig } from './gate-limits.js';

const RANK: Readonly<Record<Priority, number>> = { high: 0, normal: 1, low: 2 };

type GateStats = QueueStats;

interface Waiter {
  rank: number;
  seq: number;
  candidates: readonly Candidate[];
  gates: Set<Gate>;
  grant(candidate: Candidate, chain: readonly Gate[]): void;
  /** Shared slots: the chain is already counted and `token` holds its shared lease. */
  grantTaken?(candidate: Candidate, chain: readonly Gate[], token: string | undefined): void;
  done?: boolean;
}

/**
 * Admission slots shared with other instances (storage.redis: store/redis/redis-gate-slots.ts), so
 * `max_concurrent` holds across all of them. The local counts stay the default and the fallback.
 */
export interface SharedSlots {
  /** False while the shared store is away: local counts decide alone. */
  readonly available: boolean;
  /** A lease on every gate or on none: its token; false when one is full; undefined when the store failed. */
  take(gates: ReadonlyArray<{ id: string; max: number }>): Promise<string | false | undefined>;
  release(token: string, ids: readonly string[]): void;
  /** Another instance freed slots on these gates (its waiters here may now get them). */
  onFreed(fn: (ids: readonly string[]) => void): void;
}

/** While shared waiters exist, how often they retry on their own (missed message, dead instance). */
const SHARED_POLL_MS = 250;

class Gate {
  processing = 0;
  waiters: Waiter[] = [];
  totalProcessed = 0;
  totalFailed = 0;
  totalTimeout = 0;
  constructor(
    readonly id: string,
    public limits: GateLimits,
  ) {}
  hasRoom(): boolean {
    return this.limits.maxConcurrent === undefined || this.processing < this.limits.maxConcurrent;
  }
  waitingFull(): boolean {
    return this.limits.maxWaiting !== undefined && this.waiters.length >= this.limits.maxWaiting;
  }
  /** Keeps the list ordered by priority, then arrival. */
  enqueue(w: Waiter): void {
    let i = this.waiters.length;
    while (i > 0 && (this.waiters[i - 1]!.rank > w.rank || (this.waiters[i - 1]!.rank === w.rank && this.waiters[i - 1]!.seq > w.seq))) i--;
    this.waiters.splice(i, 0, w);
  }
  remove(w: Waiter): void {
    const i = this.waiters.indexOf(w);
    if (i >= 0) this.waiters.splice(i, 1);
  }
  stats(): GateStats {
    const max = this.limits.maxConcurrent;
    return {
      model: this.id,
      processing: this.processing,
      waiting: this.waiters.length,
      max_concurrent: max ?? null,
      max_waiting: this.limits.maxWaiting ?? null,
      total_processed: this.totalProcessed,
      total_failed: this.totalFailed,
      total_timeout: this.totalTimeout,
      utilization: max ? Math.round((this.processing / max) * 1000) / 1000 : 0,
    };
  }
}

const EMPTY: readonly Gate[] = [];

/** 429 `queue_full`: no candidate may wait (local or, with shared slots, every instance's waiters). */
function queueFull(candidates: readonly Candidate[]): HttpError {
  const names = candidates.map((c) => c.key).join(', ');
  return new HttpError(429, `The queue for ${names} is full; retry shortly.`, { code: 'queue_full', type: 'rate_limit_error', headers: { 'retry-after': '1' } });
}
const FREE_SLOT: AdmissionSlot = { release() {} };

export class AdmissionQueue implements AdmissionStage {
  private readonly gates = new Map<string, Gate>();
  private chains = new Map<string, readonly Gate[]>();
  private seen: Runtime | AdmissionLimits | undefined;
  private limits!: LimitsOfConfig;
  private timeoutMs = 0;
  private active = false;
  private seq = 0;
  private shared: SharedSlots | undefined;
  private dispatching = false;
  private dispatchAgain = false;
  private poll: NodeJS.Timeout | undefined;

  /**
   * `source`: the live runtime (its config's limits), or limits from elsewhere — the cluster primary
   * holds one queue for every worker, with the limits the workers send (server/cluster-state.ts).
   */
  constructor(private readonly source: () => Runtime | AdmissionLimits) {
    this.refresh();
  }

  /** storage.redis: slots of limited gates are also leased in the shared store. */
  useShared(shared: SharedSlots): void {
    this.shared = shared;
    shared.onFreed((ids) => {
      if (ids.some((id) => (this.gates.get(id)?.waiters.length ?? 0) > 0)) void this.dispatchShared();
    });
  }

  private sharedOn(): boolean {
    return this.shared !== undefined && this.shared.available;
  }

  private static limitedOf(chain: readonly Gate[]): Array<{ id: string; max: number }> {
    const out: Array<{ id: string; max: number }> = [];
    for (const g of chain) if (g.limits.maxConcurrent !== undefined) out.push({ id: g.id, max: g.limits.maxConcurrent });
    return out;
  }

  /** Counts the chain here first (so this instance never overshoots), then leases it in the shared store. */
  private async takeShared(chain: readonly Gate[]): Promise<AdmissionSlot | undefined> {
    for (const g of chain) g.processing++;
    const limited = AdmissionQueue.limitedOf(chain);
    const token = limited.length ? await this.shared!.take(limited) : undefined;
    if (token === false) {
      for (const g of chain) g.processing--;
      return undefined;
    }
    return this.slotOf(chain, token);
  }

  get inactive(): boolean {
    this.refresh();
    return !this.active;
  }

  /** Rebuilds limits when the config was reloaded (a new Runtime); counts in flight are kept. */
  private refresh(): void {
    const src = this.source();
    if (src === this.seen) return;
    this.seen = src;
    this.limits = 'config' in src ? gateLimitsFor(src) : src.limits;
    this.timeoutMs = 'config' in src ? queueTimeoutMs(src) : src.timeoutMs;
    this.chains = new Map();
    this.active = this.limits.anyLimit;
    for (const g of this.gates.values()) g.limits = this.limits.of(g.id);
  }

  private gate(id: string, limits: GateLimits): Gate {
    let g = this.gates.get(id);
    if (!g) {
      g = new Gate(id, limits);
      this.gates.set(id, g);
    }
    return g;
  }

  /** The gates a candidate passes: its model's and its provider's, those that have any limit. */
  private chainOf(c: Candidate): readonly Gate[] {
    this.refresh();
    let chain = this.chains.get(c.key);
    if (chain) return chain;
    const limits = this.limits;
    const list: Gate[] = [];
    const model = limits.forCandidate(c);
    if (model.maxConcurrent !== undefined || model.maxWaiting !== undefined) list.push(this.gate(c.key, model));
    const provider = limits.of(c.providerId);
    if (provider.maxConcurrent !== undefined || provider.maxWaiting !== undefined) list.push(this.gate(c.providerId, provider));
    chain = list.length ? list : EMPTY;
    // Client-named models are not cached: an unbounded set of names must not grow this map.
    if (limits.isConfigured(c)) this.chains.set(c.key, chain);
    return chain;
  }

  tryAcquire(c: Candidate, _meta: RequestMeta): AdmissionSlot | undefined {
    const chain = this.chainOf(c);
    if (chain.length === 0) return FREE_SLOT;
    // Someone already waiting goes first: a new arrival never jumps the queue.
    for (const g of chain) if (!g.hasRoom() || g.waiters.length > 0) return undefined;
    return this.take(chain);
  }

  /** tryAcquire with shared slots (see useShared): a limited gate answers after one round trip. */
  tryAcquireShared(c: Candidate, meta: RequestMeta): AdmissionSlot | undefined | Promise<AdmissionSlot | undefined> {
    if (!this.sharedOn()) return this.tryAcquire(c, meta);
    const chain = this.chainOf(c);
    if (chain.length === 0) return FREE_SLOT;
    for (const g of chain) if (!g.hasRoom() || g.waiters.length > 0) return undefined;
    return this.takeShared(chain);
  }

  acquire(candidates: readonly Candidate[], meta: RequestMeta): Promise<{ candidate: Candidate; slot: AdmissionSlot }> {
    if (this.sharedOn()) return this.acquireShared(candidates, meta);
    return this.acquireLocal(candidates, meta);
  }

  /** As acquire, with shared slots: try each candidate now, else wait as usual (grants come from dispatchShared). */
  private async acquireShared(candidates: readonly Candidate[], meta: RequestMeta): Promise<{ candidate: Candidate; slot: AdmissionSlot }> {
    for (const c of candidates) {
      const chain = this.chainOf(c);
      if (!chain.every((g) => g.hasRoom() && g.waiters.length === 0)) continue;
      const slot = await this.takeShared(chain);
      if (slot) return { candidate: c, slot };
    }
    // A wait lease per gate, taken before waiting here: max_waiting counts the waiters of every
    // instance, and a release is only published while some instance has waiters (redis-gate-slots.ts).
    const leases: Array<{ token: string; ids: string[] }> = [];
    const waitable: Candidate[] = [];
    for (const c of candidates) {
      const gates = this.chainOf(c)
        .filter((g) => g.limits.maxWaiting !== undefined || g.limits.maxConcurrent !== undefined)
        .map((g) => ({ id: `wait:${g.id}`, max: g.limits.maxWaiting ?? Number.MAX_SAFE_INTEGER }));
      const token = gates.length && this.sharedOn() ? await this.shared!.take(gates) : undefined;
      if (token === false) continue;
      if (token) leases.push({ token, ids: gates.map((g) => g.id) });
      waitable.push(c);
    }
    if (waitable.length === 0) throw queueFull(candidates);
    const leave = () => {
      for (const l of leases) this.shared!.release(l.token, l.ids);
    };
    const waiting = this.acquireLocal(waitable, meta, true);
    waiting.then(leave, leave);
    this.startPoll();
    // A slot freed between our failed take and our wait lease was not published: look once more now.
    void this.dispatchShared();
    return waiting;
  }

  private startPoll(): void {
    this.poll ??= setInterval(() => {
      let any = false;
      for (const g of this.gates.values()) if (g.waiters.length) any = true;
      if (!any || !this.sharedOn()) {
        clearInterval(this.poll);
        this.poll = undefined;
        // The shared store went away while requests wait: local counts decide again.
        if (any) this.dispatch([...this.gates.values()].filter((g) => g.waiters.length > 0));
        return;
      }
      void this.dispatchShared();
    }, SHARED_POLL_MS);
    this.poll.unref();
  }

  /** Best-ranked waiters first, each taking a shared lease on its first candidate with room. One pass at a time. */
  private async dispatchShared(): Promise<void> {
    if (this.dispatching) {
      this.dispatchAgain = true;
      return;
    }
    this.dispatching = true;
    try {
      do {
        this.dispatchAgain = false;
        const seen = new Set<Waiter>();
        const pending: Waiter[] = [];
        for (const g of this.gates.values()) for (const w of g.waiters) if (!seen.has(w)) seen.add(w), pending.push(w);
        pending.sort((a, b) => a.rank - b.rank || a.seq - b.seq);
        // A candidate found full in this pass is not asked again for the waiters behind.
        const full = new Set<string>();
        for (const w of pending) {
          if (w.done) continue;
          for (const c of w.candidates) {
            const chain = this.chainOf(c);
            if (full.has(c.key) || !chain.every((g) => g.hasRoom())) continue;
            for (const g of chain) g.processing++;
            const limited = AdmissionQueue.limitedOf(chain);
            const token = limited.length && this.sharedOn() ? await this.shared!.take(limited) : undefined;
            if (token === false) {
              for (const g of chain) g.processing--;
              full.add(c.key);
              continue;
            }
            if (w.done) {
              // Timed out or gone while we asked: give the lease straight back.
              this.slotOf(chain, token).release();
              break;
            }
            w.grantTaken!(c, chain, token);
            break;
          }
        }
      } while (this.dispatchAgain);
    } finally {
      this.dispatching = false;
    }
  }

  private acquireLocal(candidates: readonly Candidate[], meta: RequestMeta, skipNow = false): Promise<{ candidate: Candidate; slot: AdmissionSlot }> {
    const chains = candidates.map((c) => this.chainOf(c));
    // Room now on one of them (the caller may have raced a release)?
    for (let i = 0; i < candidates.length && !skipNow; i++) {
      const chain = chains[i]!;
      if (chain.every((g) => g.hasRoom() && g.waiters.length === 0)) return Promise.resolve({ candidate: candidates[i]!, slot: this.take(chain) });
    }
    const waitable = candidates.filter((_, i) => chains[i]!.every((g) => !g.waitingFull()));
    if (waitable.length === 0) {
      const names = candidates.map((c) => c.key).join(', ');
      return Promise.reject(
        new HttpError(429, `The queue for ${names} is full; retry shortly.`, { code: 'queue_full', type: 'rate_limit_error', headers: { 'retry-after': '1' } }),
      );
    }
    if (meta.signal.aborted) return Promise.reject(new ClientGoneError());
    const timeoutMs = this.timeoutMs;
    return new Promise((resolve, reject) => {
      const gates = new Set<Gate>();
      let timer: NodeJS.Timeout | undefined;
      const leave = () => {
        waiter.done = true;
        for (const g of gates) g.remove(waiter);
        if (timer) clearTimeout(timer);
        meta.signal.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        leave();
        reject(new ClientGoneError());
      };
      const waiter: Waiter = {
        rank: RANK[meta.priority] ?? 1,
        seq: this.seq++,
        candidates: waitable,
        gates,
        grant: (candidate, chain) => {
          leave();
          resolve({ candidate, slot: this.take(chain) });
        },
        grantTaken: (candidate, chain, token) => {
          leave();
          resolve({ candidate, slot: this.slotOf(chain, token) });
        },
      };
      for (const c of waitable) for (const g of this.chainOf(c)) gates.add(g);
      for (const g of gates) g.enqueue(waiter);
      timer = setTimeout(() => {
        leave();
        for (const g of gates) g.totalTimeout++;
        reject(
          new HttpError(503, `Waited ${Math.round(timeoutMs / 1000)} s in the queue for ${waitable.map((c) => c.key).join(', ')} without a free slot.`, {
            code: 'queue_timeout',
            type: 'service_unavailable_error',
            headers: { 'retry-after': '1' },
          }),
        );
      }, timeoutMs);
      timer.unref?.();
      meta.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private take(chain: readonly Gate[]): AdmissionSlot {
    for (const g of chain) g.processing++;
    return this.slotOf(chain, undefined);
  }

  /** The slot of a chain already counted; `token` is its shared lease, if any. */
  private slotOf(chain: readonly Gate[], token: string | undefined): AdmissionSlot {
    let released = false;
    return {
      release: (failed) => {
        if (released) return;
        released = true;
        for (const g of chain) {
          g.processing--;
          if (failed) g.totalFailed++;
          else g.totalProcessed++;
        }
        if (token !== undefined) this.shared?.release(token, AdmissionQueue.limitedOf(chain).map((g) => g.id));
        this.dispatch(chain);
      },
    };
  }

  /** After a release: the best-ranked waiters of the freed gates take whatever slots are now free. */
  private dispatch(freed: readonly Gate[]): void {
    if (this.sharedOn()) return void this.dispatchShared();
    const seen = new Set<Waiter>();
    const pending: Waiter[] = [];
    for (const g of freed) for (const w of g.waiters) if (!seen.has(w)) seen.add(w), pending.push(w);
    if (pending.length === 0) return;
    pending.sort((a, b) => a.rank - b.rank || a.seq - b.seq);
    for (const w of pending) {
      for (const c of w.candidates) {
        const chain = this.chainOf(c);
        // Best-ranked first: a worse-ranked waiter only gets what is left after the better ones.
        if (chain.every((g) => g.hasRoom())) {
          w.grant(c, chain);
          break;
        }
      }
    }
  }

  /** `/admin/queue/{id}`: a provider id or `provider/model`; undefined when it has no gate. */
  stats(id: string): GateStats | undefined {
    this.refresh();
    const g = this.gates.get(id);
    if (g) return g.stats();
    const limits = this.limits.of(id);
    if (limits.maxConcurrent === undefined && limits.maxWaiting === undefined) return undefined;
    return new Gate(id, limits).stats();
  }

  /** Every gate that has been used (metrics: aisbf_queue_waiting / aisbf_queue_processing). */
  snapshot(): GateStats[] {
    return [...this.gates.values()].map((g) => g.stats());
  }
}

/** The admission stage of a queue whose limited gates are also leased in a shared store (storage.redis). */
export function withSharedSlots(queue: AdmissionQueue, shared: SharedSlots): AdmissionStage {
  queue.useShared(shared);
  return {
    get inactive() {
      return queue.inactive;
    },
    tryAcquire: (c, meta) => queue.tryAcquireShared(c, meta),
    acquire: (candidates, meta) => queue.acquire(candidates, meta),
    stats: (id) => queue.stats(id),
    snapshot: () => queue.snapshot(),
  };
}
