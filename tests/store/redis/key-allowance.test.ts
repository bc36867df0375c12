import { describe, expect, it } from 'vitest';
import { KeyAllowance, VIEW_MARGIN } from '../../../src/store/redis/key-allowance.js';
import type { AdmitPlan } from '../../../src/store/counters.js';

const T0 = 1_800_000_000_000; // a bucket boundary (a whole second)
const plan = (now: number, over: Partial<AdmitPlan> = {}): AdmitPlan => ({
  now,
  windowMs: 60_000,
  rpm: { key: 'rpm:k', limit: 1000 },
  tpm: { key: 'tpm:k', limit: 10_000 },
  budget: { key: 'spend:k', period: '2026-12', limit: 10 },
  ...over,
});

function allowance() {
  const given: Array<[string, number, number]> = [];
  return { a: new KeyAllowance((key, bucket, n) => given.push([key, bucket, n])), given };
}

describe('a key allowance between Redis round trips', () => {
  it('admits nothing locally before a round trip, then exactly the permits it was granted, in that second', () => {
    const { a } = allowance();
    expect(a.tryLocal(plan(T0))).toBe(false);
    expect(a.want(plan(T0))).toBe(1);
    a.reserved(plan(T0), 4, 0, 0); // one of the four is the asking request's
    expect([1, 2, 3, 4].map((i) => a.tryLocal(plan(T0 + i)))).toEqual([true, true, true, false]);
  });

  it('never spends a permit outside the second it was counted in, and gives the unused back to that second', () => {
    const { a, given } = allowance();
    a.reserved(plan(T0 + 10), 5, 0, 0);
    expect(a.tryLocal(plan(T0 + 500))).toBe(true);
    // The next second: the three left are not used; asking again gives them back to bucket T0/1000.
    expect(a.tryLocal(plan(T0 + 1000))).toBe(false);
    a.want(plan(T0 + 1000));
    expect(given).toEqual([['rpm:k', T0 / 1000, 3]]);
  });

  it("asks for about a second's worth at this key's pace, and one at a time after an idle second", () => {
    const { a } = allowance();
    a.reserved(plan(T0), 100, 0, 0);
    for (let i = 0; i < 39; i++) expect(a.tryLocal(plan(T0 + 1 + i))).toBe(true);
    // 40 admitted in the second before: ask for 40 × 1.25.
    expect(a.want(plan(T0 + 1000))).toBe(50);
    // A second with nothing: the pace is forgotten.
    expect(a.want(plan(T0 + 3000))).toBe(1);
  });

  it('answers tpm and budget from the last view only while more than the margin is left, moved by its own additions', () => {
    const { a } = allowance();
    const p = plan(T0, { rpm: undefined });
    a.reserved(p, 0, 10_000 * (1 - VIEW_MARGIN) - 100, 0);
    expect(a.tryLocal(p)).toBe(true);
    a.addedTokens('tpm:k', 100);
    expect(a.tryLocal(p)).toBe(false);
    a.reserved(p, 0, 0, 10 * (1 - VIEW_MARGIN) - 0.5);
    expect(a.tryLocal(p)).toBe(true);
    a.addedSpend('spend:k', '2026-12', 0.5);
    expect(a.tryLocal(p)).toBe(false);
    // Another period's spend is another view.
    expect(a.tryLocal({ ...p, budget: { key: 'spend:k', period: '2027-01', limit: 10 } })).toBe(false);
  });

  it('trusts no view from another second, and none after a refusal (its held permits go back)', () => {
    const { a, given } = allowance();
    a.reserved(plan(T0), 10, 0, 0);
    expect(a.tryLocal(plan(T0 + 999))).toBe(true);
    expect(a.tryLocal(plan(T0 + 1000))).toBe(false);
    a.reserved(plan(T0 + 1000), 10, 0, 0);
    given.length = 0;
    a.refused(plan(T0 + 1000));
    expect(given).toEqual([['rpm:k', T0 / 1000 + 1, 9]]);
    expect(a.tryLocal(plan(T0 + 1001))).toBe(false);
  });

  it('asks one permit at a time while it holds permits it may not use (tpm near its limit)', () => {
    const { a } = allowance();
    for (let i = 0; i < 40; i++) a.reserved(plan(T0 - 1000 + i), 1, 0, 0); // a pace of 40 the second before
    a.reserved(plan(T0), 20, 10_000, 0); // 19 permits held, but the tpm view is at the limit
    expect(a.tryLocal(plan(T0 + 1))).toBe(false);
    expect(a.want(plan(T0 + 1))).toBe(1);
  });

  it('leaves a parallel slot to Redis: a plan with one is never admitted locally and asks one permit', () => {
    const { a } = allowance();
    a.reserved(plan(T0), 10, 0, 0);
    const withSlot = plan(T0 + 1, { slot: { key: 'parallel:k', limit: 5 } });
    expect(a.tryLocal(withSlot)).toBe(false);
    expect(a.want(withSlot)).toBe(1);
  });

  it("sweeps: an idle key's leftovers go back once its second has ended, and old views are dropped", () => {
    const { a, given } = allowance();
    a.reserved(plan(T0), 6, 0, 0);
    a.sweep(T0 + 500, 60_000);
    expect(given).toEqual([]);
    a.sweep(T0 + 1200, 60_000);
    expect(given).toEqual([['rpm:k', T0 / 1000, 5]]);
    a.sweep(T0 + 2200, 60_000);
    expect(given).toHaveLength(1);
    expect(a.tryLocal(plan(T0 + 2200))).toBe(false);
  });
});
