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
import type { CounterStore } from '../store/counters.js';
import type { AuthCache } from './auth-cache.js';
import { PeriodClock } from './budget-period.js';

const MINUTE = 60_000;

/** The counter a key's spend is kept under (also read by GET /admin/keys). */
export const spendKeyOf = (keyId: string) => `spend:${keyId}`;
const NO_TICKET: LimitTicket = Object.freeze({ settle() {}, inactive: true });

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
    if (lim.budgetUsd !== undefined && lim.budgetPeriod) {
      const w = periods.at(lim.budgetPeriod, t);
      const spent = await counters.spent(spendKey, w.id);
      if (spent >= lim.budgetUsd) {
        throw tooMany(`Budget exceeded for key ${name}: $${spent.toFixed(4)} spent of $${lim.budgetUsd} this ${lim.budgetPeriod} (resets ${new Date(w.resetsAt).toISOString()}).`, 'budget_exceeded', w.resetsAt - t);
      }
    }
    const tpmKey = `tpm:${keyId}`;
    if (lim.tpm !== undefined) {
      const r = await counters.tryConsume(tpmKey, MINUTE, lim.tpm, 0, t);
      if (!r.ok) throw tooMany(`Rate limit reached for key ${name}: ${lim.tpm} tokens per minute.`, 'rate_limit_exceeded', r.retryAfterMs);
    }
    const slotKey = `parallel:${keyId}`;
    if (lim.maxParallel !== undefined && !(await counters.acquireSlot(slotKey, lim.maxParallel))) {
      throw tooMany(`Rate limit reached for key ${name}: ${lim.maxParallel} requests at once.`, 'rate_limit_exceeded', 1000);
    }
    if (lim.rpm !== undefined) {
      const r = await counters.tryConsume(`rpm:${keyId}`, MINUTE, lim.rpm, 1, t);
      if (!r.ok) {
        if (lim.maxParallel !== undefined) await counters.releaseSlot(slotKey);
        throw tooMany(`Rate limit reached for key ${name}: ${lim.rpm} requests per minute.`, 'rate_limit_exceeded', r.retryAfterMs);
      }
    }
    let settled = false;
    return {
      settle(outcome: SettledRequest) {
        if (settled) return;
        settled = true;
        // Fire and forget: the counters never throw into the request's end.
        if (lim.maxParallel !== undefined) void counters.releaseSlot(slotKey);
        const u = outcome.usage;
        if (lim.tpm !== undefined && u) void counters.add(tpmKey, MINUTE, u.prompt + u.completion, now());
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
