/**
 * The stored-responses table: a queued write is readable at once and lands in SQLite on the next
 * tick, rows belong to their owner, previous_response_id chains flatten oldest first, and rows past
 * history.retention_days are gone (and purged).
 */
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/db.js';
import { ResponseStore, type StoredResponse } from '../../src/store/responses.js';

const DAY = 86400;

function rec(id: string, createdAt: number, prev: string | null, text: string): StoredResponse {
  return {
    id,
    owner: 'anonymous',
    createdAt,
    previousResponseId: prev,
    response: { id, output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: `re: ${text}` }] }] },
    inputItems: [{ id: `msg_${id}`, type: 'message', role: 'user', content: [{ type: 'input_text', text }] }],
  };
}

describe('ResponseStore', () => {
  it('reads a queued write at once, persists it on the next tick, and keeps owners apart', async () => {
    const db = openDatabase(':memory:');
    let now = 1_800_000_000_000;
    const store = new ResponseStore(db, { retentionDays: () => 15, now: () => now });
    store.put(rec('resp_a', now / 1000, null, 'one'));
    expect(store.get('resp_a', 'anonymous')?.id).toBe('resp_a');
    await new Promise((r) => setImmediate(r));
    expect((db.prepare('SELECT COUNT(*) AS n FROM stored_responses').get() as { n: number }).n).toBe(1);
    expect(store.get('resp_a', 'key:other')).toBeUndefined();
    expect(store.delete('resp_a', 'key:other')).toBe(false);
    expect(store.delete('resp_a', 'anonymous')).toBe(true);
    expect(store.get('resp_a', 'anonymous')).toBeUndefined();
    db.close();
  });

  it('flattens a previous_response_id chain oldest first: inputs then outputs', () => {
    const db = openDatabase(':memory:');
    const store = new ResponseStore(db, { retentionDays: () => 15 });
    const t = Math.floor(Date.now() / 1000);
    store.put(rec('r1', t, null, 'one'));
    store.put(rec('r2', t, 'r1', 'two'));
    store.flush();
    const texts = store.history('r2', 'anonymous')!.map((i) => JSON.stringify(i.content));
    expect(texts.map((s) => /"text":"([^"]+)"/.exec(s)![1])).toEqual(['one', 're: one', 'two', 're: two']);
    expect(store.history('nope', 'anonymous')).toBeUndefined();
    db.close();
  });

  it('forgets responses older than retention_days and purges them', () => {
    const db = openDatabase(':memory:');
    let now = 1_800_000_000_000;
    const store = new ResponseStore(db, { retentionDays: () => 15, now: () => now });
    store.put(rec('old', now / 1000 - 16 * DAY, null, 'x'));
    store.put(rec('new', now / 1000 - 14 * DAY, null, 'y'));
    store.flush();
    expect(store.get('old', 'anonymous')).toBeUndefined();
    expect(store.get('new', 'anonymous')?.id).toBe('new');
    expect((db.prepare('SELECT id FROM stored_responses').all() as Array<{ id: string }>).map((r) => r.id)).toEqual(['new']);
    now += 2 * DAY * 1000;
    expect(store.get('new', 'anonymous')).toBeUndefined();
    db.close();
  });
});
