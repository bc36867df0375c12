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
import { KEY_WINDOW_MS, type CounterStore } from '../store/counters.js';
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

export function createLimitsStage(opts: LimitsStageOptions): LimitsStage {
  const { cache, counters } = opts;
  const now = opts.clock ?? Date.now;
  const periods = new PeriodClock();

  async function admitLimited(identity: Identity, keyId: string): Promise<LimitTicket> {
    const lim = identity.limits!;
    const name = JSON.stringify(identity.keyName ?? keyId);
    const t = now();
    const spendKey = spendKeyOf(keyId);
    // A shared store (Redis) takes every check in one call: one round trip, atomic across instances.
    if (counters.admitAll) return admitInOneCall(identity, keyId, t);
    if (lim.budgetUsd !== undefined && lim.budgetPeriod) {
      const w = periods.at(lim.budgetPeriod, t);
      const spent = await counters.spent(spendKey, w.id);
      if (spent >= lim.budgetUsd) {
        throw tooMany(`Budget exceeded for key ${name}: $${spent.toFixed(4)} spent of $${lim.budgetUsd} this ${lim.budgetPeriod} (resets ${new Date(w.resetsAt).toISOString()}).`, 'budget_exceeded', w.resetsAt - t);
      }
    }
    const tpmKey = `tpm:${keyId}`;
    if (lim.tpm !== undefined) {
      const r = await counters.tryConsume(tpmKey, KEY_WINDOW_MS, lim.tpm, 0, t);
      if (!r.ok) throw tooMany(`Rate limit reached for key ${name}: ${lim.tpm} tokens per minute.`, 'rate_limit_exceeded', r.retryAfterMs);
    }
    const slotKey = `parallel:${keyId}`;
    if (lim.maxParallel !== undefined && !(await counters.acquireSlot(slotKey, lim.maxParallel))) {
      throw tooMany(`Rate limit reached for key ${name}: ${lim.maxParallel} requests at once.`, 'rate_limit_exceeded', 1000);
    }
    if (lim.rpm !== undefined) {
      const r = await counters.tryConsume(`rpm:${keyId}`, KEY_WINDOW_MS, lim.rpm, 1, t);
      if (!r.ok) {
        if (lim.maxParallel !== undefined) await counters.releaseSlot(slotKey);
        throw tooMany(`Rate limit reached for key ${name}: ${lim.rpm} requests per minute.`, 'rate_limit_exceeded', r.retryAfterMs);
      }
    }
    return ticketFor(lim, keyId);
  }

  async function admitInOneCall(identity: Identity, keyId: string, t: number): Promise<LimitTicket> {
    const lim = identity.limits!;
    const name = JSON.stringify(identity.keyName ?? keyId);
    const w = lim.budgetUsd !== undefined && lim.budgetPeriod ? periods.at(lim.budgetPeriod, t) : undefined;
    const r = await counters.admitAll!({
      now: t,
      windowMs: KEY_WINDOW_MS,
      budget: w ? { key: spendKeyOf(keyId), period: w.id, limit: lim.budgetUsd! } : undefined,
      tpm: lim.tpm !== undefined ? { key: `tpm:${keyId}`, limit: lim.tpm } : undefined,
      slot: lim.maxParallel !== undefined ? { key: `parallel:${keyId}`, limit: lim.maxParallel } : undefined,
      rpm: lim.rpm !== undefined ? { key: `rpm:${keyId}`, limit: lim.rpm } : undefined,
    });
    if (!r.ok) {
      if (r.refused === 'budget') {
        throw tooMany(`Budget exceeded for key ${name}: $${r.spent.toFixed(4)} spent of $${lim.budgetUsd} this ${lim.budgetPeriod} (resets ${new Date(w!.resetsAt).toISOString()}).`, 'budget_exceeded', w!.resetsAt - t);
      }
      if (r.refused === 'tpm') throw tooMany(`Rate limit reached for key ${name}: ${lim.tpm} tokens per minute.`, 'rate_limit_exceeded', r.retryAfterMs);
      if (r.refused === 'slot') throw tooMany(`Rate limit reached for key ${name}: ${lim.maxParallel} requests at once.`, 'rate_limit_exceeded', 1000);
      throw tooMany(`Rate limit reached for key ${name}: ${lim.rpm} requests per minute.`, 'rate_limit_exceeded', r.retryAfterMs);
    }
    return ticketFor(lim, keyId);
  }

  function ticketFor(lim: NonNullable<Identity['limits']>, keyId: string): LimitTicket {
    const tpmKey = `tpm:${keyId}`;
    const slotKey = `parallel:${keyId}`;
    const spendKey = spendKeyOf(keyId);
    let settled = false;
    let released = lim.maxParallel === undefined;
    const release = () => {
      if (released) return;
      released = true;
      // Fire and forget: the counters never throw into the request's end.
      void counters.releaseSlot(slotKey);
    };
    return {
      release,
      settle(outcome: SettledRequest) {
        if (settled) return;
        settled = true;
        release();
        const u = outcome.usage;
        // A cache hit asked no upstream: its tokens are recorded, not counted against tpm.
        if (lim.tpm !== undefined && u && !outcome.cacheHit) void counters.add(tpmKey, KEY_WINDOW_MS, u.prompt + u.completion, now());
        if (lim.budgetUsd !== undefined && lim.budgetPeriod && outcome.costUsd) {
          void counters.addSpend(spendKey, periods.at(lim.budgetPeriod, now()).id, outcome.costUsd);
        }
      },
    };
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
