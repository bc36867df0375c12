/**
 * @module The admission stage of a cluster worker without Redis: the primary holds one
 * AdmissionQueue for every worker (server/cluster-state.ts), so `max_concurrent` and `max_waiting`
 * hold across workers and the waiting list keeps one priority order. The worker computes each
 * candidate's gates from its own config and sends them with the call; a candidate without limits is
 * admitted here, without a round trip. `/admin/queue` numbers are the primary's, as last replied.
 */
import { HttpError } from '../errors/http-error.js';
import { ClientGoneError } from '../providers/deadline.js';
import type { Candidate } from '../routing/candidate.js';
import type { Runtime } from '../runtime.js';
import type { RequestMeta } from '../pipeline/request-meta.js';
import type { AdmissionSlot, AdmissionStage, QueueStats } from '../pipeline/stages.js';
import { IpcCallError, type IpcClient } from '../store/ipc-rpc.js';
import { gateLimitsFor, queueTimeoutMs, type GateLimits } from './gate-limits.js';

/** A candidate as the primary's queue needs it: its id and the limits of its two gates. */
export interface WireCandidate {
  key: string;
  providerId: string;
  model?: GateLimits;
  provider?: GateLimits;
}

/** A slot granted by the primary (`slot` 0: the candidate has no gate), with its gates' numbers. */
export interface Granted {
  index: number;
  slot: number;
  stats: QueueStats[];
}

const FREE_SLOT: AdmissionSlot = { release() {} };
const limited = (l: GateLimits) => l.maxConcurrent !== undefined || l.maxWaiting !== undefined;

export class IpcAdmission implements AdmissionStage {
  private readonly seen = new Map<string, QueueStats>();

  constructor(
    private readonly runtime: () => Runtime,
    private readonly ipc: IpcClient,
  ) {}

  get inactive(): boolean {
    return !gateLimitsFor(this.runtime()).anyLimit;
  }

  private wire(c: Candidate): WireCandidate | undefined {
    const l = gateLimitsFor(this.runtime());
    const model = l.forCandidate(c);
    const provider = l.of(c.providerId);
    if (!limited(model) && !limited(provider)) return undefined;
    return { key: c.key, providerId: c.providerId, model: limited(model) ? model : undefined, provider: limited(provider) ? provider : undefined };
  }

  private slot(g: Granted): AdmissionSlot {
    for (const s of g.stats) this.seen.set(s.model, s);
    if (g.slot === 0) return FREE_SLOT;
    let released = false;
    return {
      release: (failed) => {
        if (released) return;
        released = true;
        this.ipc.cast('adm.release', [g.slot, failed === true]);
      },
    };
  }

  tryAcquire(c: Candidate, _meta: RequestMeta): AdmissionSlot | Promise<AdmissionSlot | undefined> {
    const w = this.wire(c);
    if (!w) return FREE_SLOT;
    return this.ipc.call<Granted | null>('adm.try', [w]).then((g) => (g ? this.slot(g) : undefined));
  }

  async acquire(candidates: readonly Candidate[], meta: RequestMeta): Promise<{ candidate: Candidate; slot: AdmissionSlot }> {
    if (meta.signal.aborted) throw new ClientGoneError();
    const wires = candidates.map((c) => this.wire(c) ?? { key: c.key, providerId: c.providerId });
    const id = this.ipc.nextId();
    // The client left while waiting: the primary drops the waiter (its slot goes to the next one).
    const onAbort = () => this.ipc.cast('adm.cancel', [id]);
    meta.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const g = await this.ipc.call<Granted>('adm.acquire', [wires, meta.priority, queueTimeoutMs(this.runtime())], true);
      return { candidate: candidates[g.index]!, slot: this.slot(g) };
    } catch (err) {
      if (!(err instanceof IpcCallError)) throw err;
      const d = err.detail;
      if (d.gone) throw new ClientGoneError();
      if (d.status) throw new HttpError(d.status, d.message, { code: d.code, type: d.type, headers: d.headers });
      throw err;
    } finally {
      meta.signal.removeEventListener('abort', onAbort);
    }
  }

  stats(id: string): QueueStats | undefined {
    const s = this.seen.get(id);
    if (s) return s;
    const limits = gateLimitsFor(this.runtime()).of(id);
    if (!limited(limits)) return undefined;
    const max = limits.maxConcurrent ?? null;
    return { model: id, processing: 0, waiting: 0, max_concurrent: max, max_waiting: limits.maxWaiting ?? null, total_processed: 0, total_failed: 0, total_timeout: 0, utilization: 0 };
  }

  snapshot(): QueueStats[] {
    return [...this.seen.values()];
  }
}
