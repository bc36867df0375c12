/**
 * @module What an instance may admit for a key without asking Redis (CONTRACTS §7.7): rpm permits
 * it reserved ahead in Redis, and the tpm and spend its last round trip saw. Pure bookkeeping, no I/O:
 * the Redis counter store asks `tryLocal` first and, when it says no, reserves `want` permits in
 * one script and records the answer with `reserved`.
 *
 * Why this is exact for rpm: a permit is counted in Redis's window when it is reserved, in the
 * one-second bucket of that moment, and is only spent within that same bucket, so the shared window
 * always holds at least every request admitted. A reservation takes at most `1 / ROOM_SHARE` of the
 * room left, so near the limit every request asks Redis (one permit at a time, as before). Permits
 * left when the bucket ends are given back to that bucket.
 *
 * Why tpm and budget are answered from a view: both are "still under the limit?" checks on amounts
 * known only after a request (every gateway lets in-flight requests pass the limit). The view is at
 * most one bucket old and is only trusted while more than `VIEW_MARGIN` of the limit is left; past
 * that every request asks Redis.
 */
import { bucketMsOf, type AdmitPlan } from '../counters.js';

/** A reservation takes at most this fraction of an rpm window's room. */
export const ROOM_SHARE = 8;
/** tpm and spend are answered locally only while under `(1 - VIEW_MARGIN) × limit`. */
export const VIEW_MARGIN = 1 / 8;
/** The most permits asked for at once. */
const MAX_WANT = 1024;

interface Permits {
  bucket: number;
  /** Reserved in `bucket`, not yet used. */
  left: number;
  /** Admitted in `bucket`. */
  used: number;
  /** Admitted in the bucket before `bucket` (0 when that was not the one before). */
  usedBefore: number;
}

/** A value Redis answered in `bucket`, plus what this instance added since. */
interface View {
  bucket: number;
  value: number;
}

/** Permits reserved in `bucket` of `key`'s window and never used: give them back. */
export type GiveBack = (key: string, bucket: number, n: number) => void;

/** The window bucket (a second of the minute, as both stores count) that `now` falls in. */
const bucketOf = (plan: Pick<AdmitPlan, 'now' | 'windowMs'>): number => Math.floor(plan.now / bucketMsOf(plan.windowMs));
const spendField = (key: string, period: string) => `${key}\n${period}`;

export class KeyAllowance {
  private readonly permits = new Map<string, Permits>();
  private readonly tpm = new Map<string, View>();
  private readonly spend = new Map<string, View>();

  constructor(private readonly giveBack: GiveBack) {}

  /** Admits `plan` from what is held (taking a permit), or says a round trip is needed. */
  tryLocal(plan: AdmitPlan): boolean {
    // A parallel slot is a count of requests in flight everywhere: only Redis knows it.
    if (plan.slot) return false;
    const b = bucketOf(plan);
    let p: Permits | undefined;
    if (plan.rpm) {
      p = this.permits.get(plan.rpm.key);
      if (!p || p.bucket !== b || p.left < 1) return false;
    }
    if (plan.tpm && !under(this.tpm.get(plan.tpm.key), b, plan.tpm.limit)) return false;
    if (plan.budget && !under(this.spend.get(spendField(plan.budget.key, plan.budget.period)), b, plan.budget.limit)) return false;
    if (p) {
      p.left--;
      p.used++;
    }
    return true;
  }

  /** rpm permits to reserve for `plan`: one, or what this key used in about a second here. */
  want(plan: AdmitPlan): number {
    if (!plan.rpm || plan.slot) return 1;
    const p = this.roll(plan.rpm.key, bucketOf(plan));
    // Permits held but not usable (the tpm or spend view is near its limit, so every request asks
    // Redis): ask for this request's one only, or each round trip would pile up more.
    if (p.left >= 1) return 1;
    const pace = Math.max(p.usedBefore, p.used);
    return Math.min(MAX_WANT, Math.max(1, Math.ceil(pace * 1.25)));
  }

  /** Records an admitting answer: `granted` permits (one is this request's), tpm and spend as Redis saw them. */
  reserved(plan: AdmitPlan, granted: number, tpmSum: number, spent: number): void {
    const b = bucketOf(plan);
    if (plan.rpm) {
      const p = this.roll(plan.rpm.key, b);
      p.left += Math.max(0, granted - 1);
      p.used++;
    }
    if (plan.tpm) this.tpm.set(plan.tpm.key, { bucket: b, value: tpmSum });
    if (plan.budget) this.spend.set(spendField(plan.budget.key, plan.budget.period), { bucket: b, value: spent });
  }

  /** A refusal: nothing held for this plan's counters is trusted until the next answer; held permits go back. */
  refused(plan: AdmitPlan): void {
    if (plan.rpm) {
      const p = this.permits.get(plan.rpm.key);
      if (p && p.left > 0) {
        this.giveBack(plan.rpm.key, p.bucket, p.left);
        p.left = 0;
      }
    }
    if (plan.tpm) this.tpm.delete(plan.tpm.key);
    if (plan.budget) this.spend.delete(spendField(plan.budget.key, plan.budget.period));
  }

  /** Tokens this instance counted on `key`: its view moves at once. */
  addedTokens(key: string, n: number): void {
    const v = this.tpm.get(key);
    if (v) v.value += n;
  }

  addedSpend(key: string, period: string, usd: number): void {
    const v = this.spend.get(spendField(key, period));
    if (v) v.value += usd;
  }

  /** Gives back the permits of buckets that ended (an idle key's), and drops views that aged out. */
  sweep(now: number, windowMs: number): void {
    const b = bucketOf({ now, windowMs });
    for (const [key, p] of this.permits) {
      if (p.bucket === b) continue;
      if (p.left > 0) this.giveBack(key, p.bucket, p.left);
      p.left = 0;
      // The second just ended still tells this key's pace; older entries go.
      if (p.bucket < b - 1) this.permits.delete(key);
    }
    for (const map of [this.tpm, this.spend]) for (const [key, v] of map) if (v.bucket !== b) map.delete(key);
  }

  /** Redis was away: its answers from before are not trusted (their buckets are gone by now anyway). */
  clear(): void {
    this.permits.clear();
    this.tpm.clear();
    this.spend.clear();
  }

  /** The permits of `key`, moved on to bucket `b` (what was left of an earlier bucket is given back). */
  private roll(key: string, b: number): Permits {
    let p = this.permits.get(key);
    if (!p) {
      p = { bucket: b, left: 0, used: 0, usedBefore: 0 };
      this.permits.set(key, p);
    } else if (p.bucket !== b) {
      if (p.left > 0) this.giveBack(key, p.bucket, p.left);
      p.usedBefore = p.bucket === b - 1 ? p.used : 0;
      p.bucket = b;
      p.left = 0;
      p.used = 0;
    }
    return p;
  }
}

function under(v: View | undefined, b: number, limit: number): boolean {
  return v !== undefined && v.bucket === b && v.value < limit * (1 - VIEW_MARGIN);
}
