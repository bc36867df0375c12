/**
 * @module Rate limits per provider and per provider/model, kept across requests and restarts
 * (CONTRACTS.md §6.4): `rate_limit` is the least number of seconds between two calls (provider-level
 * and model-level), `rate_limit_TPM/TPH/TPD` are sliding token windows of 60 s, 1 h and 1 day filled
 * from the usage of responses. A candidate over a limit is reported with the time it frees up, so
 * the attempt loop can skip it (never wait on it).
 */
import type { Candidate } from './candidate.js';
import type { Clock, LimitRecord } from './health.js';

const WINDOWS = [
  { field: 'rate_limit_TPM', ms: 60_000, label: 'TPM' },
  { field: 'rate_limit_TPH', ms: 3_600_000, label: 'TPH' },
  { field: 'rate_limit_TPD', ms: 86_400_000, label: 'TPD' },
] as const;

export interface RateLimitBlock {
  /** ms since epoch when the candidate may be called again. */
  until: number;
  /** Which limit, e.g. "rate_limit 2 s (provider)" or "TPM 1000". */
  reason: string;
}

/** The key of provider-level spacing; model-level state uses Candidate.key (`provider/model`). */
export function providerLimitKey(providerId: string): string {
  return `provider:${providerId}`;
}

export class RateLimiter {
  private readonly records = new Map<string, LimitRecord>();

  constructor(
    private readonly clock: Clock,
    private readonly onChange: (r: LimitRecord) => void = () => {},
  ) {}

  load(records: Iterable<LimitRecord>): void {
    for (const r of records) this.records.set(r.key, { key: r.key, lastCallAt: r.lastCallAt, tokens: r.tokens.map(([t, n]) => [t, n]) });
  }

  get(key: string): LimitRecord | undefined {
    return this.records.get(key);
  }

  all(): IterableIterator<LimitRecord> {
    return this.records.values();
  }

  /** Whether calling the candidate now would break one of its limits, and until when. */
  blocked(c: Candidate, now = this.clock()): RateLimitBlock | undefined {
    let worst: RateLimitBlock | undefined;
    const consider = (until: number, reason: string) => {
      if (until > now && (!worst || until > worst.until)) worst = { until, reason };
    };
    const providerSpacing = c.provider.rate_limit ?? 0;
    if (providerSpacing > 0) {
      const r = this.records.get(providerLimitKey(c.providerId));
      if (r?.lastCallAt) consider(r.lastCallAt + providerSpacing * 1000, `rate_limit ${providerSpacing} s (provider ${c.providerId})`);
    }
    const model = this.records.get(c.key);
    const modelSpacing = c.settings.rate_limit ?? 0;
    if (modelSpacing > 0 && model?.lastCallAt) consider(model.lastCallAt + modelSpacing * 1000, `rate_limit ${modelSpacing} s (model ${c.key})`);
    if (model?.tokens.length) {
      for (const w of WINDOWS) {
        const limit = c.settings[w.field];
        if (!limit) continue;
        const until = windowFreeAt(model.tokens, w.ms, limit, now);
        if (until !== undefined) consider(until, `${w.label} ${limit}`);
      }
    }
    return worst;
  }

  /** A call to the candidate is starting (spacing counts from call starts, as AISBF does). */
  recordCall(c: Candidate, now = this.clock()): void {
    if ((c.provider.rate_limit ?? 0) > 0) this.stamp(providerLimitKey(c.providerId), now);
    if ((c.settings.rate_limit ?? 0) > 0) this.stamp(c.key, now);
  }

  /** Tokens a finished call used (from the response's usage), for the TPM/TPH/TPD windows. */
  recordTokens(c: Candidate, tokens: number, now = this.clock()): void {
    const longest = longestWindow(c);
    if (!longest || !(tokens > 0)) return;
    const r = this.touch(c.key);
    // One-second buckets keep a busy day's window small without losing the slide.
    const second = now - (now % 1000);
    const last = r.tokens[r.tokens.length - 1];
    if (last && last[0] === second) last[1] += tokens;
    else r.tokens.push([second, tokens]);
    prune(r.tokens, now - longest);
    this.onChange(r);
  }

  private stamp(key: string, now: number): void {
    const r = this.touch(key);
    r.lastCallAt = now;
    this.onChange(r);
  }

  private touch(key: string): LimitRecord {
    let r = this.records.get(key);
    if (!r) {
      r = { key, lastCallAt: 0, tokens: [] };
      this.records.set(key, r);
    }
    return r;
  }
}

function longestWindow(c: Candidate): number {
  let ms = 0;
  for (const w of WINDOWS) if (c.settings[w.field]) ms = Math.max(ms, w.ms);
  return ms;
}

function prune(tokens: Array<[number, number]>, cutoff: number): void {
  let drop = 0;
  while (drop < tokens.length && tokens[drop]![0] <= cutoff) drop++;
  if (drop) tokens.splice(0, drop);
}

/**
 * When the window's use is at or over `limit`, the time enough old buckets slide out to bring it
 * under; undefined when there is room now.
 */
export function windowFreeAt(tokens: ReadonlyArray<readonly [number, number]>, windowMs: number, limit: number, now: number): number | undefined {
  const start = now - windowMs;
  let used = 0;
  for (const [t, n] of tokens) if (t > start) used += n;
  if (used < limit) return undefined;
  for (const [t, n] of tokens) {
    if (t <= start) continue;
    used -= n;
    if (used < limit) return t + windowMs;
  }
  return now + windowMs;
}
