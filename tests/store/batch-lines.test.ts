import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/db.js';
import { BatchStore } from '../../src/store/batch-store.js';

function storeWith(lines: number) {
  const store = new BatchStore(openDatabase(':memory:'));
  const now = Math.floor(Date.now() / 1000);
  store.insert({ id: 'batch_a', kind: 'batch', endpoint: '/v1/chat/completions', base: '/v1', input_file_id: null, completion_window: '24h', status: 'in_progress', owner: 'anonymous', identity: 'null', client_id: 'c', priority: 'low', metadata: null, created_at: now, expires_at: null });
  store.transition('batch_a', ['in_progress'], 'in_progress', { total: lines });
  store.lines.insertMany(Array.from({ length: lines }, (_, i) => ['batch_a', i + 1, `id${i + 1}`, 0, 0, null] as [string, number, string, number, number, null]));
  return store;
}
const outcome = { ok: true, statusCode: 200, result: '{}', attempts: 1 };

describe('the batch line leases (BatchLineLeases over SQLite)', () => {
  it('claims each line once, in line order, up to the number asked', () => {
    const s = storeWith(5);
    expect(s.leases.claim('w1', 2, 60_000).map((l) => l.lineNo)).toEqual([1, 2]);
    expect(s.leases.claim('w2', 10, 60_000).map((l) => l.lineNo)).toEqual([3, 4, 5]);
    expect(s.leases.claim('w3', 10, 60_000)).toEqual([]);
  });

  it('commits an outcome only for the lease holder, once, with the batch counts', () => {
    const s = storeWith(1);
    const [line] = s.leases.claim('w1', 1, 60_000);
    expect(s.leases.complete('w2', [{ line: line!, outcome }])).toEqual([line]);
    expect(s.leases.complete('w1', [{ line: line!, outcome }])).toEqual([]);
    expect(s.leases.complete('w1', [{ line: line!, outcome }])).toEqual([line]);
    expect(s.get('batch_a')).toMatchObject({ completed: 1, failed: 0 });
  });

  it('commits lines that finished together in one go, counting each batch once per outcome, and skipping lines held elsewhere', () => {
    const s = storeWith(4);
    const [a, b, c] = s.leases.claim('w1', 3, 60_000);
    const [d] = s.leases.claim('w2', 1, 60_000);
    const lost = s.leases.complete('w1', [
      { line: a!, outcome },
      { line: b!, outcome: { ...outcome, ok: false, statusCode: 400 } },
      { line: c!, outcome },
      { line: d!, outcome },
    ]);
    expect(lost).toEqual([d]);
    expect(s.get('batch_a')).toMatchObject({ completed: 2, failed: 1 });
    expect(s.lines.resultsPage('batch_a', 0, 10).map((r) => [r.lineNo, r.ok])).toEqual([
      [1, 1],
      [2, 0],
      [3, 1],
    ]);
  });

  it('lets another owner take a line whose lease expired, and refuses the old owner then', () => {
    const s = storeWith(1);
    const t0 = 1_000_000;
    const [line] = s.leases.claim('w1', 1, 1000, t0);
    expect(s.leases.claim('w2', 1, 1000, t0 + 500)).toEqual([]);
    expect(s.leases.renew('w1', [line!], 1000, t0 + 900)).toEqual([]);
    const [again] = s.leases.claim('w2', 1, 1000, t0 + 2000);
    expect(again!.lineNo).toBe(1);
    expect(s.leases.renew('w1', [line!], 1000, t0 + 2100).map((l) => l.lineNo)).toEqual([1]);
    expect(s.leases.complete('w1', [{ line: line!, outcome }])).toEqual([line]);
    expect(s.leases.complete('w2', [{ line: again!, outcome }])).toEqual([]);
  });

  it('gives a released line back as pending, and a restart requeues running lines but never finished ones', () => {
    const s = storeWith(3);
    const [a, b, c] = s.leases.claim('w1', 3, 60_000);
    s.leases.release('w1', [{ line: a!, attempts: 2 }]);
    s.leases.complete('w1', [{ line: b!, outcome }]);
    expect(s.lines.requeueRunning()).toBe(1); // c
    const next = s.leases.claim('w2', 5, 60_000);
    expect(next.map((l) => [l.lineNo, l.attempts])).toEqual([
      [1, 2],
      [3, 0],
    ]);
    expect(c!.lineNo).toBe(3);
  });

  it('finds duplicate custom_ids through the unique index', () => {
    const s = storeWith(2);
    expect(s.lines.insertMany([['batch_a', 3, 'id1', 0, 0, null]])).toEqual([{ lineNo: 3, customId: 'id1' }]);
  });

  it('lets one runner hold the database at a time until its lease lapses', () => {
    const s = storeWith(0);
    expect(s.holdRunner('p1', 1000, false, 0)).toBe(true);
    expect(s.holdRunner('p2', 1000, false, 500)).toBe(false);
    expect(s.holdRunner('p1', 1000, false, 900)).toBe(true);
    expect(s.holdRunner('p2', 1000, false, 2000)).toBe(true);
    expect(s.holdRunner('p3', 1000, true, 2100)).toBe(true);
  });

  it('removes /api/chat jobs older than the retention, with their lines, and never a batch', () => {
    const s = storeWith(1);
    const job = (id: string, created: number) => {
      s.insert({ id, kind: 'job', endpoint: '/v1/chat/completions', base: '/v1', input_file_id: null, completion_window: '24h', status: 'completed', owner: 'anonymous', identity: 'null', client_id: 'c', priority: 'normal', metadata: null, created_at: created, expires_at: null });
      s.lines.insertMany([[id, 1, id, 0, 0, '{}']]);
    };
    job('req_old', 1000);
    job('req_new', 5000);
    expect(s.deleteJobsOlderThan(2000, 100)).toBe(1);
    expect(s.get('req_old')).toBeUndefined();
    expect(s.lines.resultOf('req_old')).toBeUndefined();
    expect(s.get('req_new')).toBeDefined();
    expect(s.deleteJobsOlderThan(Number.MAX_SAFE_INTEGER, 100)).toBe(1);
    expect(s.get('batch_a')).toBeDefined();
  });
});
