/**
 * @module The pipeline's limits stage (CONTRACTS §7.3 item 25): a key's model scope (403
 * `model_not_allowed`), its budget for the current period (429 `budget_exceeded`, Retry-After = the
 * period's reset), tokens and requests per sliding minute and parallel requests (429
 * `rate_limit_exceeded`). The ticket it hands out releases the slot and counts tokens and spend
 * when the request settles — streams and aborted requests included. Identities without limits get
 * a shared no-op ticket after one branch.
 */
import { HttpError } from '../errors/http-error.js';
import type { Identity, RequestMeta } from '../pipeline/request-meta.js';
import type { LimitTicket, LimitsStage, SettledRequest } from '../pipeline/stages.js';
import { KEY_WINDOW_MS, type AdmitPlan, type AdmitResult, type CounterStore } from '../store/counters.js';
import type { AuthCache } from './auth-cache.js';
import { NO_TICKET } from './no-ticket.js';
import { PeriodClock } from './budget-period.js';

/** The counter a key's spend is kept under (also read by GET /admin/keys). */
export const spendKeyOf = (keyId: string) => `spend:${keyId}`;

export interface LimitsStageOptions {
  cache: AuthCache;
  counters: CounterStore;
  clock?: () => number;
}

function tooMany(message: string, code: 'rate_limit_exceeded' | 'budget_exceeded', retryAfterMs: number): HttpError {
  const secs = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new HttpError(429, `${message} Retry after ${secs} s.`, { code, headers: { 'retry-after': String(secs) } });
}

/** What a key's limits ask of the counters, made once per cached identity (its counter keys and limits). */
interface KeyChecks {
  limits: NonNullable<Identity['limits']>;
  /** The key's name as error messages quote it. */
  name: string;
  spendKey: string;
  tpm: AdmitPlan['tpm'];
  slot: AdmitPlan['slot'];
  rpm: AdmitPlan['rpm'];
}

function keyChecks(identity: Identity, keyId: string): KeyChecks {
  const lim = identity.limits!;
  return {
    limits: lim,
    name: JSON.stringify(identity.keyName ?? keyId),
    spendKey: spendKeyOf(keyId),
    tpm: lim.tpm !== undefined ? { key: `tpm:${keyId}`, limit: lim.tpm } : undefined,
    slot: lim.maxParallel !== undefined ? { key: `parallel:${keyId}`, limit: lim.maxParallel } : undefined,
    rpm: lim.rpm !== undefined ? { key: `rpm:${keyId}`, limit: lim.rpm } : undefined,
  };
}

export function createLimitsStage(opts: LimitsStageOptions): LimitsStage {
  const { cache, counters } = opts;
  const now = opts.clock ?? Date.now;
  const periods = new PeriodClock();
  // Keyed by the cached identity: a key whose limits change is cached anew, as a new object.
  const checksOf = new WeakMap<Identity, KeyChecks>();

  /**
   * Every check of one request in one call to the counters (budget, tpm, a parallel slot, rpm: all or
   * nothing). The local store answers synchronously, so the request waits for nothing here; a shared
   * store (Redis, a cluster's primary) answers in one round trip.
   */
  function admitLimited(identity: Identity, keyId: string): LimitTicket | Promise<LimitTicket> {
    const k = checksOf.get(identity) ?? remember(identity, keyId);
    const lim = k.limits;
    const t = now();
    const w = lim.budgetUsd !== undefined && lim.budgetPeriod ? periods.at(lim.budgetPeriod, t) : undefined;
    const plan: AdmitPlan = {
      now: t,
      windowMs: KEY_WINDOW_MS,
      budget: w ? { key: k.spendKey, period: w.id, limit: lim.budgetUsd! } : undefined,
      tpm: k.tpm,
      slot: k.slot,
      rpm: k.rpm,
    };
    const r = counters.admitAll(plan);
    return r instanceof Promise ? r.then((res) => admitted(k, res, w, t)) : admitted(k, r, w, t);
  }

  function remember(identity: Identity, keyId: string): KeyChecks {
    const k = keyChecks(identity, keyId);
    checksOf.set(identity, k);
    return k;
  }

  function admitted(k: KeyChecks, r: AdmitResult, w: { resetsAt: number } | undefined, t: number): LimitTicket {
    if (r.ok) return new KeyTicket(k, counters, periods, now);
    const lim = k.limits;
    if (r.refused === 'budget') {
      throw tooMany(`Budget exceeded for key ${k.name}: $${r.spent.toFixed(4)} spent of $${lim.budgetUsd} this ${lim.budgetPeriod} (resets ${new Date(w!.resetsAt).toISOString()}).`, 'budget_exceeded', w!.resetsAt - t);
    }
    if (r.refused === 'tpm') throw tooMany(`Rate limit reached for key ${k.name}: ${lim.tpm} tokens per minute.`, 'rate_limit_exceeded', r.retryAfterMs);
    if (r.refused === 'slot') throw tooMany(`Rate limit reached for key ${k.name}: ${lim.maxParallel} requests at once.`, 'rate_limit_exceeded', 1000);
    throw tooMany(`Rate limit reached for key ${k.name}: ${lim.rpm} requests per minute.`, 'rate_limit_exceeded', r.retryAfterMs);
  }

  return {
    admit(meta: RequestMeta, target: string): LimitTicket | Promise<LimitTicket> {
      const identity = meta.identity;
      if (identity.kind !== 'key') return NO_TICKET;
      const scope = cache.scopes.get(identity);
      if (scope && !scope(target)) {
        throw new HttpError(403, `This API key may not use ${JSON.stringify(target)}; it is limited to: ${identity.models!.join(', ')}.`, { code: 'model_not_allowed', param: 'model' });
      }
      if (!identity.limits) return NO_TICKET;
      return admitLimited(identity, identity.keyId!);
    },
  };
}

/** An admitted request's hold on its key's counters: one object, no closures per request. */
class KeyTicket implements LimitTicket {
  private settled = false;
  private released: boolean;

  constructor(
    private readonly k: KeyChecks,
    private readonly counters: CounterStore,
    private readonly periods: PeriodClock,
    private readonly now: () => number,
  ) {
    this.released = k.slot === undefined;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    // Fire and forget: the counters never throw into the request's end.
    void this.counters.releaseSlot(this.k.slot!.key);
  }

  settle(outcome: SettledRequest): void {
    if (this.settled) return;
    this.settled = true;
    this.release();
    const { limits: lim, tpm } = this.k;
    const u = outcome.usage;
    // A cache hit asked no upstream: its tokens are recorded, not counted against tpm.
    if (tpm && u && !outcome.cacheHit) void this.counters.add(tpm.key, KEY_WINDOW_MS, u.prompt + u.completion, this.now());
    if (lim.budgetUsd !== undefined && lim.budgetPeriod && outcome.costUsd) {
      void this.counters.addSpend(this.k.spendKey, this.periods.at(lim.budgetPeriod, this.now()).id, outcome.costUsd);
    }
  }
}
