/**
 * @module Failure counts and cooldowns per provider/model (DESIGN.md error policy, CONTRACTS.md §6.3).
 * `failure_threshold` consecutive failures cool a candidate down for `cooldown_seconds`; a 429 with
 * Retry-After cools it at once for that long; after a cooldown the candidate is half-open (the next
 * request probes it and ONE failure cools it again); a success resets everything. Only errors whose
 * policy says `countsAsFailure` are counted, once per failed call. State lives in memory; the
 * routing state service persists changed entries through a store (write-behind).
 */
import type { ProviderError } from '../providers/provider-error.js';
import { redactText } from '../log.js';

/** ms since epoch; injected so tests never sleep. */
export type Clock = () => number;

export interface CooldownPolicy {
  /** Consecutive failures that start a cooldown. */
  failureThreshold: number;
  cooldownMs: number;
}

export const DEFAULT_FAILURE_THRESHOLD = 3;
export const DEFAULT_COOLDOWN_SECONDS = 300;

export type { HealthRecord, LimitRecord, RoutingStateStore } from '../store/routing-records.js';
import type { HealthRecord } from '../store/routing-records.js';

/** Keeps a short, key-free summary of an error for reports and GET /api/rotations. */
function summarize(err: ProviderError): string {
  const status = err.status ? `${err.status} ` : '';
  const msg = err.message.length > 300 ? `${err.message.slice(0, 300)}…` : err.message;
  return redactText(`${status}${err.kind}: ${msg}`);
}

export class HealthTracker {
  private readonly records = new Map<string, HealthRecord>();

  constructor(
    private readonly clock: Clock,
    /** Told about every change, so the owner can persist it later. */
    private readonly onChange: (r: HealthRecord) => void = () => {},
  ) {}

  load(records: Iterable<HealthRecord>): void {
    for (const r of records) this.records.set(r.key, { ...r });
  }

  get(key: string): HealthRecord | undefined {
    return this.records.get(key);
  }

  /** When the key is cooling down, the ms timestamp it becomes available again. */
  coolingUntil(key: string, now = this.clock()): number | undefined {
    const r = this.records.get(key);
    return r && r.cooldownUntil > now ? r.cooldownUntil : undefined;
  }

  recordSuccess(key: string): void {
    const r = this.records.get(key);
    // Nothing to reset: no write, the hot path stays allocation-free for healthy candidates.
    if (!r || (r.failures === 0 && r.cooldownUntil === 0 && !r.tripped)) return;
    r.failures = 0;
    r.cooldownUntil = 0;
    r.tripped = false;
    this.onChange(r);
  }

  /**
   * Counts one failed call if its kind counts (or `always`: a failure after a stream began, which
   * DESIGN.md counts whatever its kind); returns the record when it did.
   */
  recordFailure(key: string, err: ProviderError, policy: CooldownPolicy, now = this.clock(), always = false): HealthRecord | undefined {
    if (!always && !err.policy.countsAsFailure) return undefined;
    let r = this.records.get(key);
    if (!r) {
      r = { key, failures: 0, cooldownUntil: 0, tripped: false, lastFailureAt: 0, lastError: null };
      this.records.set(key, r);
    }
    r.failures++;
    r.lastFailureAt = now;
    r.lastError = summarize(err);
    let until = 0;
    if (r.failures >= policy.failureThreshold || r.tripped) until = now + policy.cooldownMs;
    // The upstream said how long to wait: that is the cooldown (DESIGN.md), even on the first failure.
    if (err.kind === 'rate_limit' && err.retryAfterMs !== undefined) until = now + err.retryAfterMs;
    if (until > now) {
      r.cooldownUntil = until;
      r.tripped = true;
    }
    this.onChange(r);
    return r;
  }

  all(): IterableIterator<HealthRecord> {
    return this.records.values();
  }
}

interface CooldownSettings {
  failure_threshold?: number | null;
  cooldown_seconds?: number | null;
  /** AISBF 0.4's name for cooldown_seconds. */
  default_error_cooldown?: number | null;
}

/**
 * The cooldown policy for one call: the rotation's settings, then the provider's (AISBF 0.4
 * `default_error_cooldown`), then rotations.json's top-level ones, then the defaults (3, 300 s).
 */
export function resolveCooldownPolicy(...levels: ReadonlyArray<CooldownSettings | undefined>): CooldownPolicy {
  let threshold: number | undefined;
  let seconds: number | undefined;
  for (const l of levels) {
    if (!l) continue;
    threshold ??= l.failure_threshold ?? undefined;
    seconds ??= l.cooldown_seconds ?? l.default_error_cooldown ?? undefined;
  }
  return { failureThreshold: threshold ?? DEFAULT_FAILURE_THRESHOLD, cooldownMs: 1000 * (seconds ?? DEFAULT_COOLDOWN_SECONDS) };
}
