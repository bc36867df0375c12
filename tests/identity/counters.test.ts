import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalCounterStore } from '../../src/store/counters.js';
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
