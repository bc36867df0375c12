import { describe, expect, it } from 'vitest';
import { attemptLimit, orderCandidates, priorityOrder, seededRandom, weightedOrder } from '../../src/routing/weighted-order.js';

const items = [
  { id: 'a', weight: 5 },
  { id: 'b', weight: 3 },
  { id: 'c', weight: 2 },
];

describe('weighted random order', () => {
  it('puts each candidate first with probability weight / total over 10,000 picks', () => {
    const random = seededRandom(42);
    const first: Record<string, number> = { a: 0, b: 0, c: 0 };
    const second: Record<string, number> = { a: 0, b: 0, c: 0 };
    const N = 10_000;
    for (let i = 0; i < N; i++) {
      const order = weightedOrder(items, random);
      first[order[0]!.id]!++;
      second[order[1]!.id]!++;
    }
    // Expected first-pick shares 0.5 / 0.3 / 0.2; the standard error at N = 10,000 is under 0.005.
    expect(first.a! / N).toBeCloseTo(0.5, 1);
    expect(Math.abs(first.a! / N - 0.5)).toBeLessThan(0.02);
    expect(Math.abs(first.b! / N - 0.3)).toBeLessThan(0.02);
    expect(Math.abs(first.c! / N - 0.2)).toBeLessThan(0.02);
    // Second place, drawn from those left: P(b second) = .5·3/5 + .2·3/8 = .375; P(c) = .5·2/5 + .3·2/7 ≈ .2857.
    expect(Math.abs(second.b! / N - 0.375)).toBeLessThan(0.02);
    expect(Math.abs(second.c! / N - 0.2857)).toBeLessThan(0.02);
    expect(Math.abs(second.a! / N - (1 - 0.375 - 0.2857))).toBeLessThan(0.02);
  });

  it('never repeats a candidate (without replacement)', () => {
    const random = seededRandom(7);
    for (let i = 0; i < 200; i++) {
      const ids = weightedOrder(items, random).map((x) => x.id);
      expect(new Set(ids).size).toBe(3);
    }
  });

  it('is reproducible with the same seed', () => {
    const run = (seed: number) => {
      const r = seededRandom(seed);
      const out: string[] = [];
      for (let i = 0; i < 20; i++) out.push(weightedOrder(items, r).map((x) => x.id).join(''));
      return out;
    };
    expect(run(3)).toEqual(run(3));
    expect(run(3)).not.toEqual(run(4));
  });

  it('copes with a random source that returns 0', () => {
    const order = weightedOrder(items, () => 0);
    expect(order).toHaveLength(3);
  });
});

describe('priority order', () => {
  it('puts the highest weight first', () => {
    expect(priorityOrder(items, seededRandom(1)).map((x) => x.id)).toEqual(['a', 'b', 'c']);
  });

  it('breaks ties at random between equal top weights', () => {
    const tied = [
      { id: 'x', weight: 4 },
      { id: 'y', weight: 4 },
      { id: 'z', weight: 1 },
    ];
    const random = seededRandom(9);
    const first: Record<string, number> = { x: 0, y: 0, z: 0 };
    for (let i = 0; i < 2000; i++) {
      const order = priorityOrder(tied, random);
      first[order[0]!.id]!++;
      expect(order[2]!.id).toBe('z');
    }
    expect(first.z).toBe(0);
    expect(Math.abs(first.x! / 2000 - 0.5)).toBeLessThan(0.05);
  });

  it('is what orderCandidates uses for strategy "priority"', () => {
    expect(orderCandidates(items, 'priority', seededRandom(2)).map((x) => x.id)).toEqual(['a', 'b', 'c']);
  });
});

describe('attempt limit', () => {
  it('is every candidate once, capped at 5, unless max_attempts says otherwise', () => {
    expect(attemptLimit(3)).toBe(3);
    expect(attemptLimit(8)).toBe(5);
    expect(attemptLimit(8, 2)).toBe(2);
    expect(attemptLimit(3, 10)).toBe(3);
  });
});
