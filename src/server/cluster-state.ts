/**
 * @module The cluster primary's shared state without Redis: the one LocalCounterStore (key rpm/tpm
 * windows, parallel slots, budget spend, login-failure windows), the one AdmissionQueue and the one
 * response cache that every worker asks over IPC (store/ipc-counters.ts, admission/ipc-admission.ts,
 * cache/ipc-cache-store.ts). The primary is one
 * thread: each call runs to its end before the next message is read, so a check-and-take is atomic
 * across workers. What a worker held when it died (slots, waiters) is given back.
 */
import { AdmissionQueue } from '../admission/admission-queue.js';
import { MemoryCacheStore } from '../cache/cache-store.js';
import type { AdmissionLimits, GateLimits, LimitsOfConfig } from '../admission/gate-limits.js';
import type { Granted, WireCandidate } from '../admission/ipc-admission.js';
import { HttpError } from '../errors/http-error.js';
import type { Priority, RequestMeta } from '../pipeline/request-meta.js';
import type { AdmissionSlot } from '../pipeline/stages.js';
import { ClientGoneError } from '../providers/deadline.js';
import type { Candidate } from '../routing/candidate.js';
import { LocalCounterStore, type AdmitPlan } from '../store/counters.js';
import type { Db } from '../store/db.js';
import type { IpcCall, IpcCast, IpcError, IpcReply } from '../store/ipc-rpc.js';
import type { AbortLike } from '../providers/lite-abort.js';

interface Held {
  worker: number;
  slot: AdmissionSlot;
  /** Gate ids, for the numbers sent back. */
  gates: string[];
}

const same = (a: GateLimits | undefined, b: GateLimits | undefined) => a?.maxConcurrent === b?.maxConcurrent && a?.maxWaiting === b?.maxWaiting;

function errorOf(err: unknown): IpcError {
  if (err instanceof HttpError) return { message: err.message, status: err.status, code: err.options.code ?? undefined, type: err.options.type, headers: err.options.headers };
  if (err instanceof ClientGoneError) return { message: err.message, gone: true };
  return { message: (err as Error)?.message ?? String(err) };
}

export class ClusterState {
  readonly counters: LocalCounterStore;
  private readonly admission: AdmissionQueue;
  /** Gate id → limits, as the workers last sent them (their config). */
  private readonly gateLimits = new Map<string, GateLimits>();
  private readonly view: LimitsOfConfig;
  /** A new object whenever a limit changed: the queue re-reads its gates' limits then. */
  private source: AdmissionLimits;
  private slotSeq = 0;
  private readonly held = new Map<number, Held>();
  /** `${worker}:${callId}` → the waiter's abort. */
  private readonly waiters = new Map<string, AbortController>();
  /** worker → counter slot key → how many it holds. */
  private readonly counterSlots = new Map<number, Map<string, number>>();
  /** Made on the first answer stored (cache.enabled). */
  private cache: MemoryCacheStore | undefined;

  constructor(opts: { db?: Db }) {
    this.counters = new LocalCounterStore({ db: opts.db });
    this.view = {
      anyLimit: true,
      of: (id) => this.gateLimits.get(id) ?? {},
      forCandidate: (c) => this.gateLimits.get(c.key) ?? {},
      // Not cached by candidate: chains are two map lookups, and limits arrive with each call.
      isConfigured: () => false,
    };
    this.source = { limits: this.view, timeoutMs: 300_000 };
    this.admission = new AdmissionQueue(() => this.source);
  }

  private learn(wires: readonly WireCandidate[], timeoutMs?: number): void {
    let changed = timeoutMs !== undefined && timeoutMs !== this.source.timeoutMs;
    for (const w of wires) {
      if (!same(this.gateLimits.get(w.key), w.model)) {
        this.gateLimits.set(w.key, w.model ?? {});
        changed = true;
      }
      if (!same(this.gateLimits.get(w.providerId), w.provider)) {
        this.gateLimits.set(w.providerId, w.provider ?? {});
        changed = true;
      }
    }
    if (changed) this.source = { limits: this.view, timeoutMs: timeoutMs ?? this.source.timeoutMs };
  }

  private grant(worker: number, w: WireCandidate, index: number, slot: AdmissionSlot): Granted {
    const gates: string[] = [];
    if (w.model) gates.push(w.key);
    if (w.provider) gates.push(w.providerId);
    const stats = gates.map((id) => this.admission.stats(id)).filter((s) => s !== undefined);
    if (gates.length === 0) return { index, slot: 0, stats };
    const id = ++this.slotSeq;
    this.held.set(id, { worker, slot, gates });
    return { index, slot: id, stats };
  }

  private holdSlot(worker: number, key: string, delta: number): void {
    let m = this.counterSlots.get(worker);
    if (!m) this.counterSlots.set(worker, (m = new Map()));
    const n = (m.get(key) ?? 0) + delta;
    if (n <= 0) m.delete(key);
    else m.set(key, n);
  }

  /** A call or cast from worker `worker`; `reply` sends the answer back to it. */
  handle(worker: number, msg: IpcCall | IpcCast, reply: (r: IpcReply) => void): void {
    const answer = (id: number, p: unknown) => {
      Promise.resolve(p).then(
        (value) => reply({ aisbf: 'reply', id, value }),
        (err: unknown) => reply({ aisbf: 'reply', id, error: errorOf(err) }),
      );
    };
    const a = msg.args;
    const c = this.counters;
    try {
      switch (msg.op) {
        case 'ctr.tryConsume':
          return answer((msg as IpcCall).id, c.tryConsume(a[0] as string, a[1] as number, a[2] as number, a[3] as number, a[4] as number));
        case 'ctr.add':
          return c.add(a[0] as string, a[1] as number, a[2] as number, a[3] as number);
        case 'ctr.acquireSlot': {
          const ok = c.acquireSlot(a[0] as string, a[1] as number);
          if (ok) this.holdSlot(worker, a[0] as string, 1);
          return answer((msg as IpcCall).id, ok);
        }
        case 'ctr.releaseSlot':
          this.holdSlot(worker, a[0] as string, -1);
          return c.releaseSlot(a[0] as string);
        case 'ctr.spent':
          return answer((msg as IpcCall).id, c.spent(a[0] as string, a[1] as string));
        case 'ctr.addSpend':
          return c.addSpend(a[0] as string, a[1] as string, a[2] as number);
        case 'ctr.admitAll': {
          const plan = a[0] as AdmitPlan;
          // Synchronous on the local store: no other message runs in between.
          const r = c.admitAll(plan);
          if (r.ok && plan.slot) this.holdSlot(worker, plan.slot.key, 1);
          return answer((msg as IpcCall).id, r);
        }
        case 'adm.try': {
          const w = a[0] as WireCandidate;
          this.learn([w]);
          const slot = this.admission.tryAcquire(w as unknown as Candidate, undefined as unknown as RequestMeta);
          return answer((msg as IpcCall).id, Promise.resolve(slot).then((got) => (got ? this.grant(worker, w, 0, got) : null)));
        }
        case 'adm.acquire': {
          const call = msg as IpcCall;
          const wires = a[0] as WireCandidate[];
          this.learn(wires, a[2] as number);
          const abort = new AbortController();
          const key = `${worker}:${call.id}`;
          this.waiters.set(key, abort);
          const meta = { priority: a[1] as Priority, signal: abort.signal as AbortLike } as RequestMeta;
          const candidates = wires as unknown as Candidate[];
          const got = this.admission.acquire(candidates, meta).then((g) => {
            const index = candidates.indexOf(g.candidate);
            // Granted after the worker went away (or cancelled): give the slot straight back.
            if (abort.signal.aborted) {
              g.slot.release();
              throw new ClientGoneError();
            }
            return this.grant(worker, wires[index]!, index, g.slot);
          });
          void got.finally(() => this.waiters.delete(key)).catch(() => undefined);
          return answer(call.id, got);
        }
        case 'cache.get':
          return answer((msg as IpcCall).id, this.cache?.get(a[0] as string) ?? null);
        case 'cache.set': {
          const maxBytes = a[3] as number;
          if (!this.cache) this.cache = new MemoryCacheStore(maxBytes);
          else this.cache.setMaxBytes(maxBytes);
          return this.cache.set(a[0] as string, a[1] as string, a[2] as number);
        }
        case 'adm.cancel':
          return this.waiters.get(`${worker}:${a[0] as number}`)?.abort();
        case 'adm.release': {
          const h = this.held.get(a[0] as number);
          if (!h) return;
          this.held.delete(a[0] as number);
          return h.slot.release(a[1] === true);
        }
        default:
          if ('id' in msg) answer(msg.id, Promise.reject(new Error(`unknown cluster call ${msg.op}`)));
      }
    } catch (err) {
      if ('id' in msg) answer(msg.id, Promise.reject(err));
    }
  }

  /** A worker exited: its slots go back, its waiters leave the queue. */
  workerGone(worker: number): void {
    for (const [id, h] of this.held) {
      if (h.worker !== worker) continue;
      this.held.delete(id);
      h.slot.release(true);
    }
    for (const [key, abort] of this.waiters) if (key.startsWith(`${worker}:`)) abort.abort();
    const slots = this.counterSlots.get(worker);
    if (slots) for (const [key, n] of slots) for (let i = 0; i < n; i++) this.counters.releaseSlot(key);
    this.counterSlots.delete(worker);
  }

  close(): void {
    this.counters.close();
  }
}
