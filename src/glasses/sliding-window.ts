/**
 * @module A sliding-window rate limiter: at most `limit` events per `windowMs` for each key. Each key
 * keeps a ring of its last `limit` event times, so a check is O(1); the clock is injected for tests.
 */

export interface LimitDecision {
  allowed: boolean;
  /** When refused: seconds until the oldest event in the window leaves it. */
  retryAfterSeconds: number;
}

interface Ring {
  times: Float64Array;
  /** Index of the oldest entry. */
  head: number;
  count: number;
}

export class SlidingWindowLimiter {
  private readonly rings = new Map<string, Ring>();

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
    /** Keys kept before stale ones are swept (per-IP maps must not grow without bound). */
    private readonly maxKeys = 10_000,
  ) {}

  /** Records an event for `key` if the window has room; otherwise refuses without recording. */
  hit(key: string): LimitDecision {
    const now = this.now();
    let ring = this.rings.get(key);
    if (!ring) {
      if (this.rings.size >= this.maxKeys) this.sweep(now);
      ring = { times: new Float64Array(Math.max(1, this.limit)), head: 0, count: 0 };
      this.rings.set(key, ring);
    }
    if (this.limit <= 0) return { allowed: false, retryAfterSeconds: Math.ceil(this.windowMs / 1000) };
    if (ring.count < this.limit) {
      ring.times[(ring.head + ring.count) % this.limit] = now;
      ring.count++;
      return { allowed: true, retryAfterSeconds: 0 };
    }
    const oldest = ring.times[ring.head]!;
    if (oldest <= now - this.windowMs) {
      // The oldest event left the window: its slot takes the new one.
      ring.times[ring.head] = now;
      ring.head = (ring.head + 1) % this.limit;
      return { allowed: true, retryAfterSeconds: 0 };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((oldest + this.windowMs - now) / 1000)) };
  }

  /** Whether an event for `key` would be allowed now, without recording one. */
  check(key: string): LimitDecision {
    const ring = this.rings.get(key);
    if (this.limit <= 0) return { allowed: false, retryAfterSeconds: Math.ceil(this.windowMs / 1000) };
    if (!ring || ring.count < this.limit) return { allowed: true, retryAfterSeconds: 0 };
    const now = this.now();
    const oldest = ring.times[ring.head]!;
    if (oldest <= now - this.windowMs) return { allowed: true, retryAfterSeconds: 0 };
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((oldest + this.windowMs - now) / 1000)) };
  }

  /** Drops keys whose newest event is out of the window. */
  private sweep(now: number): void {
    for (const [key, ring] of this.rings) {
      const newest = ring.times[(ring.head + ring.count - 1) % Math.max(1, this.limit)]!;
      if (ring.count === 0 || newest <= now - this.windowMs) this.rings.delete(key);
    }
  }
}

/** slowapi's wording of a limit, e.g. "5 per 1 minute", "3600 per 1 hour". */
export function describeLimit(limit: number, windowMs: number): string {
  if (windowMs === 3_600_000) return `${limit} per 1 hour`;
  if (windowMs === 60_000) return `${limit} per 1 minute`;
  return `${limit} per ${Math.round(windowMs / 1000)} second`;
}
