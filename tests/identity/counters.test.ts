import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalCounterStore, SlidingWindow, WINDOW_BUCKETS } from '../../src/store/counters.js';
import { seededRandom } from '../../src/routing/weighted-order.js';
import { openDatabase } from '../../src/store/db.js';

describe('LocalCounterStore', () => {
  it('admits up to the limit in a sliding minute and says when the oldest requests expire', () => {
    const c = new LocalCounterStore();
    const t0 = 1_000_000_000_000;
    expect(c.tryConsume('rpm', 60_000, 2, 1, t0)).toEqual({ ok: true });
    expect(c.tryConsume('rpm', 60_000, 2, 1, t0 + 10_000)).toEqual({ ok: true });
    const refused = c.tryConsume('rpm', 60_000, 2, 1, t0 + 20_000);
    expect(refused.ok).toBe(false);
    // The first request leaves the window 60 s after it came: 40 s from now.
    expect((refused as { retryAfterMs: number }).retryAfterMs).toBe(40_000);
    expect(c.tryConsume('rpm', 60_000, 2, 1, t0 + 60_000).ok).toBe(true);
  });

  it('with amount 0 only asks whether the window is still under the limit (tpm before a request)', () => {
    const c = new LocalCounterStore();
    c.add('tpm', 60_000, 100, 0);
    expect(c.tryConsume('tpm', 60_000, 101, 0, 1000).ok).toBe(true);
    expect(c.tryConsume('tpm', 60_000, 100, 0, 1000).ok).toBe(false);
    expect(c.tryConsume('tpm', 60_000, 100, 0, 60_000).ok).toBe(true);
  });

  it('forgets windows that emptied', () => {
    const c = new LocalCounterStore();
    for (let i = 0; i < 100; i++) c.add(`login:user:guess-${i}`, 60_000, 1, 0);
    c.sweep(30_000);
    expect(c.windowCount).toBe(100);
    c.sweep(60_000);
    expect(c.windowCount).toBe(0);
    c.close();
  });

  it('hands out at most `limit` parallel slots and takes them back', () => {
    const c = new LocalCounterStore();
    expect(c.acquireSlot('p', 2)).toBe(true);
    expect(c.acquireSlot('p', 2)).toBe(true);
    expect(c.acquireSlot('p', 2)).toBe(false);
    c.releaseSlot('p');
    expect(c.acquireSlot('p', 2)).toBe(true);
  });

  it('admits every check of a request in one synchronous call, all or nothing, budget first', () => {
    const c = new LocalCounterStore();
    const plan = { now: 1000, windowMs: 60_000, slot: { key: 'parallel:k', limit: 2 }, rpm: { key: 'rpm:k', limit: 1 } };
    const first = c.admitAll(plan);
    // Not a promise: the local store's request waits for nothing.
    expect(first).not.toBeInstanceOf(Promise);
    expect(first).toEqual({ ok: true });
    expect(c.admitAll(plan)).toEqual({ ok: false, refused: 'rpm', retryAfterMs: 60_000 });
    // The refused request gave its slot back: only the first one's is held.
    expect(c.acquireSlot('parallel:k', 2)).toBe(true);
    expect(c.acquireSlot('parallel:k', 2)).toBe(false);
    c.addSpend('spend:k', '2026-03', 2);
    const overBudget = { now: 1000, windowMs: 60_000, budget: { key: 'spend:k', period: '2026-03', limit: 1 }, rpm: { key: 'rpm:other', limit: 1 } };
    expect(c.admitAll(overBudget)).toEqual({ ok: false, refused: 'budget', spent: 2 });
    // Refused on its budget before its rpm was counted.
    expect(c.tryConsume('rpm:other', 60_000, 1, 1, 1000)).toEqual({ ok: true });
    c.add('tpm:k', 60_000, 10, 1000);
    expect(c.admitAll({ now: 1000, windowMs: 60_000, tpm: { key: 'tpm:k', limit: 10 }, slot: { key: 'parallel:t', limit: 1 } })).toEqual({ ok: false, refused: 'tpm', retryAfterMs: 60_000 });
    // Refused on tokens before a slot was taken.
    expect(c.acquireSlot('parallel:t', 1)).toBe(true);
    c.close();
  });

  it('persists spend write-behind, adding to what other processes wrote', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aisbf-counters-'));
    try {
      const a = openDatabase(join(dir, 'a.db'));
      const one = new LocalCounterStore({ db: a, flushMs: 60_000 });
      one.addSpend('spend:k', '2026-03', 1.25);
      const b = openDatabase(join(dir, 'a.db'));
      const two = new LocalCounterStore({ db: b, flushMs: 60_000 });
      two.addSpend('spend:k', '2026-03', 0.5);
      one.close();
      two.close();
      const fresh = new LocalCounterStore({ db: a });
      expect(fresh.spent('spend:k', '2026-03')).toBeCloseTo(1.75, 9);
      expect(fresh.spent('spend:k', '2026-04')).toBe(0);
      fresh.close();
      a.close();
      b.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SlidingWindow', () => {
  /** The window as first written: every check sums the buckets still inside it (the specification). */
  class FullPass {
    private readonly sums = new Float64Array(WINDOW_BUCKETS);
    private readonly ids = new Float64Array(WINDOW_BUCKETS).fill(-Infinity);
    constructor(private readonly bucketMs: number) {}
    sum(now: number): number {
      const current = Math.floor(now / this.bucketMs);
      let s = 0;
      for (let i = 0; i < WINDOW_BUCKETS; i++) if (this.ids[i]! > current - WINDOW_BUCKETS) s += this.sums[i]!;
      return s;
    }
    add(now: number, amount: number): void {
      const current = Math.floor(now / this.bucketMs);
      const slot = current % WINDOW_BUCKETS;
      if (this.ids[slot] !== current) {
        this.ids[slot] = current;
        this.sums[slot] = 0;
      }
      this.sums[slot]! += amount;
    }
  }

  it('sums exactly what a pass over every bucket sums, as time moves on in steps of any size', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const random = seededRandom(seed);
      const w = new SlidingWindow(60_000);
      const ref = new FullPass(1000);
      let now = 1_700_000_000_000 + Math.floor(random() * 1000);
      for (let i = 0; i < 3000; i++) {
        // Mostly the same second, sometimes seconds later, now and then past the whole window.
        const r = random();
        now += r < 0.6 ? Math.floor(random() * 200) : r < 0.97 ? Math.floor(random() * 5000) : 60_000 + Math.floor(random() * 90_000);
        if (random() < 0.7) {
          const amount = 1 + Math.floor(random() * 500);
          w.add(now, amount);
          ref.add(now, amount);
        }
        expect(w.sum(now)).toBe(ref.sum(now));
      }
    }
  });

  it('still counts when a check is stamped before the newest one (the clock went back)', () => {
    const w = new SlidingWindow(60_000);
    w.add(100_000, 5);
    w.add(130_000, 7);
    expect(w.sum(99_000)).toBe(12);
    expect(w.sum(130_500)).toBe(12);
    w.add(129_000, 1);
    expect(w.sum(130_000)).toBe(13);
    // 100 s: the first bucket has left the window.
    expect(w.sum(160_000)).toBe(8);
  });
});
