/**
 * @module The order a rotation tries its candidates in (CONTRACTS.md §6.2): weighted random without
 * replacement (weight = relative probability of going first among those left), or AISBF 0.3.3's
 * priority order (highest weight first, random tie-break). The random source is injected so tests
 * can seed it.
 */

/** Returns a number in [0, 1), like Math.random. */
export type RandomSource = () => number;

export type RotationStrategy = 'weighted' | 'priority';

/** The most calls one request makes when a rotation does not set max_attempts. */
export const DEFAULT_MAX_ATTEMPTS = 5;

/**
 * Weighted random order without replacement (Efraimidis–Spirakis): each item draws the key
 * u^(1/weight) and the keys are sorted descending. The first item is item i with probability
 * w_i / Σw, the next is drawn the same way from those left, and so on — in one sort.
 */
export function weightedOrder<T extends { weight: number }>(items: readonly T[], random: RandomSource = Math.random): T[] {
  const keyed = items.map((item) => {
    // 1 - random() is in (0, 1]: a zero draw would tie every item at key 0.
    const u = 1 - random();
    return { item, key: Math.log(u) / item.weight };
  });
  keyed.sort((a, b) => b.key - a.key);
  return keyed.map((k) => k.item);
}

/** Highest weight first; equal weights in random order (AISBF 0.3.3's tie-break). */
export function priorityOrder<T extends { weight: number }>(items: readonly T[], random: RandomSource = Math.random): T[] {
  const keyed = items.map((item) => ({ item, tie: random() }));
  keyed.sort((a, b) => b.item.weight - a.item.weight || a.tie - b.tie);
  return keyed.map((k) => k.item);
}

export function orderCandidates<T extends { weight: number }>(items: readonly T[], strategy: RotationStrategy, random: RandomSource = Math.random): T[] {
  if (items.length <= 1) return [...items];
  return strategy === 'priority' ? priorityOrder(items, random) : weightedOrder(items, random);
}

/** Calls allowed for one request: max_attempts if set, else every candidate once, capped at 5. */
export function attemptLimit(candidateCount: number, maxAttempts?: number): number {
  return Math.min(candidateCount, maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
}

/** A small seeded generator (mulberry32) for reproducible orders in tests and benchmarks. */
export function seededRandom(seed: number): RandomSource {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
