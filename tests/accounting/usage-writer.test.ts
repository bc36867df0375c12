import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { UsageWriter, type UsageSink } from '../../src/accounting/usage-writer.js';
import { openDatabase } from '../../src/store/db.js';
import { UsageStore, type UsageRow } from '../../src/store/usage.js';

function row(i: number, over: Partial<UsageRow> = {}): UsageRow {
  return {
    ts: Date.now(), request_id: `req-${i}`, parent_id: null, client_id: 'anonymous', key_id: null, user: null, route: 'chat',
    target: 'openai/gpt-4o', provider: 'openai', model: 'gpt-4o', attempts: 1, status: 200, error_code: null,
    prompt_tokens: 10, completion_tokens: 5, cached_tokens: 0, reasoning_tokens: 0, cache_write_tokens: 0,
    effective_context: 10, cost_usd: 0.001, latency_ms: 12, ttft_ms: null, stream: 0, cache_hit: 0, aborted: 0, failovers: 0,
    ...over,
  };
}

/** A full collection on demand (V8's `gc`, exposed for this file only). */
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** A sink standing in for a SQLite that is stuck: every write fails with SQLITE_BUSY. */
class StalledSink implements UsageSink {
  attempts = 0;
  insert(): void {
    this.attempts++;
    throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
  }
}

describe('the usage writer', () => {
  it('writes queued records in one batch to SQLite when flushed, not when pushed', () => {
    const db = openDatabase(':memory:');
    const store = new UsageStore(db);
    const writer = new UsageWriter({ sink: store, intervalMs: 60_000 });
    for (let i = 0; i < 5; i++) expect(writer.push(row(i))).toBe(true);
    expect(store.summary({ from: 0, to: Date.now() + 1 }).totals.requests).toBe(0);
    expect(writer.pending).toBe(5);
    writer.flush();
    expect(writer.pending).toBe(0);
    expect(store.summary({ from: 0, to: Date.now() + 1 }).totals.requests).toBe(5);
    writer.close();
    db.close();
  });

  it('flushes on its own after the interval', async () => {
    const db = openDatabase(':memory:');
    const store = new UsageStore(db);
    const writer = new UsageWriter({ sink: store, intervalMs: 20 });
    writer.push(row(1));
    await expect.poll(() => writer.written, { timeout: 2000 }).toBe(1);
    writer.close();
    db.close();
  });

  it('writes a full batch on the next turn of the event loop, at most one batch per turn', async () => {
    const db = openDatabase(':memory:');
    const store = new UsageStore(db);
    const events: string[] = [];
    const sink: UsageSink = { insert: (rows) => (events.push(`batch ${rows.length}`), store.insert(rows)) };
    const writer = new UsageWriter({ sink, batchRows: 100, intervalMs: 20 });
    for (let i = 0; i < 250; i++) writer.push(row(i));
    // Queued behind the first drain: it runs between the first batch and the second.
    setImmediate(() => events.push('other work'));
    expect(events).toEqual([]);
    await expect.poll(() => writer.written, { timeout: 2000 }).toBe(250);
    expect(events).toEqual(['batch 100', 'other work', 'batch 100', 'batch 50']);
    expect(store.summary({ from: 0, to: Date.now() + 1 }).totals.requests).toBe(250);
    writer.close();
    db.close();
  });

  it('waits out a busy database for the interval even when a full batch is waiting', async () => {
    let attempts = 0;
    const written: number[] = [];
    const sink: UsageSink = {
      insert(rows) {
        if (++attempts === 1) throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
        written.push(rows.length);
      },
    };
    const writer = new UsageWriter({ sink, batchRows: 10, intervalMs: 150 });
    for (let i = 0; i < 10; i++) writer.push(row(i));
    await new Promise((r) => setImmediate(r));
    expect(attempts).toBe(1);
    expect(writer.pending).toBe(10);
    for (let i = 10; i < 30; i++) writer.push(row(i));
    await new Promise((r) => setTimeout(r, 20));
    expect(attempts).toBe(1);
    await expect.poll(() => writer.written, { timeout: 2000 }).toBe(30);
    // The kept batch first, then the rest a batch at a time.
    expect(written).toEqual([10, 10, 10]);
    expect(writer.dropped).toBe(0);
    writer.close();
  });

  it('drains a backlog in order, a batch a turn, with a busy write and new pushes in between, losing and repeating nothing', async () => {
    let attempts = 0;
    const seen: string[] = [];
    const sink: UsageSink = {
      insert(rows) {
        // The 15th batch meets a busy database: it is put back in front and tried again after the interval.
        if (++attempts === 15) throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
        for (const r of rows) seen.push(r.request_id);
      },
    };
    const writer = new UsageWriter({ sink, batchRows: 100, intervalMs: 20, capacity: 50_000 });
    for (let i = 0; i < 3000; i++) writer.push(row(i));
    // More records arrive while the backlog drains (and while the writer backs off).
    for (let turn = 0; turn < 40; turn++) {
      await new Promise((r) => setImmediate(r));
      for (let i = 0; i < 10; i++) writer.push(row(3000 + turn * 10 + i));
    }
    await expect.poll(() => writer.written, { timeout: 5000 }).toBe(3400);
    expect(writer.pending).toBe(0);
    expect(writer.dropped).toBe(0);
    expect(seen).toEqual(Array.from({ length: 3400 }, (_, i) => `req-${i}`));
    writer.close();
  });

  it('keeps its queue bounded when SQLite stalls and counts every dropped record', () => {
    const sink = new StalledSink();
    let droppedSeen = 0;
    const writer = new UsageWriter({ sink, capacity: 100, batchRows: 1_000_000, intervalMs: 60_000, onDrop: (n) => (droppedSeen += n) });
    let accepted = 0;
    for (let i = 0; i < 1000; i++) if (writer.push(row(i))) accepted++;
    expect(accepted).toBe(100);
    expect(writer.pending).toBe(100);
    expect(writer.dropped).toBe(900);
    // A stalled flush keeps the batch for the next try, still within the bound.
    writer.flush();
    expect(sink.attempts).toBe(1);
    expect(writer.pending).toBe(100);
    for (let i = 0; i < 50; i++) writer.push(row(i));
    expect(writer.pending).toBe(100);
    expect(writer.dropped).toBe(950);
    expect(droppedSeen).toBe(950);
    writer.close();
  });

  it('drops a batch SQLite refuses for good instead of retrying it forever', () => {
    const sink: UsageSink = {
      insert() {
        throw Object.assign(new Error('no such table'), { code: 'SQLITE_ERROR' });
      },
    };
    const writer = new UsageWriter({ sink, intervalMs: 60_000 });
    writer.push(row(1));
    writer.push(row(2));
    writer.flush();
    expect(writer.pending).toBe(0);
    expect(writer.dropped).toBe(2);
    writer.close();
  });

  it('writes what is queued on close and drops pushes after it', () => {
    const db = openDatabase(':memory:');
    const store = new UsageStore(db);
    const writer = new UsageWriter({ sink: store, intervalMs: 60_000 });
    writer.push(row(1));
    writer.close();
    expect(store.summary({ from: 0, to: Date.now() + 1 }).totals.requests).toBe(1);
    expect(writer.push(row(2))).toBe(false);
    expect(writer.dropped).toBe(1);
    db.close();
  });

  // Under concurrent load a drain nearly always leaves rows behind; a written row the queue still held
  // lived until the array emptied and V8 promoted it (~0.4 KB a request: most of the c=64 peak).
  it('lets go of the rows it wrote while later rows still wait', async () => {
    const written: number[] = [];
    const writer = new UsageWriter({ sink: { insert: (rows) => void written.push(rows.length) }, batchRows: 100, intervalMs: 60_000 });
    // Built in a function of their own, so that nothing here but the weak references points at the rows.
    const push = (): { first: WeakRef<UsageRow>; last: WeakRef<UsageRow> } => {
      const rows = Array.from({ length: 150 }, (_, i) => row(i));
      for (const r of rows) writer.push(r);
      return { first: new WeakRef(rows[0]!), last: new WeakRef(rows[149]!) };
    };
    const { first, last } = push();
    await expect.poll(() => writer.written, { timeout: 2000 }).toBe(100);
    expect(written).toEqual([100]);
    expect(writer.pending).toBe(50);
    // A WeakRef holds its target until the job that made or read it ends: collect in a later one.
    await new Promise((r) => setTimeout(r, 0));
    collectGarbage();
    expect(first.deref()).toBeUndefined();
    expect(last.deref()?.request_id).toBe('req-149');
    writer.flush();
    expect(written).toEqual([100, 50]);
    expect(writer.pending).toBe(0);
    writer.close();
  });
});
