/**
 * openDatabase's settings that are not SQLite's or better-sqlite3's defaults. The page cache bound
 * matters for memory: better-sqlite3 builds SQLite with a 16 MB cache per connection, which a daemon
 * appending usage rows filled at ~2 MB a minute (docs/performance.md "The soak").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, withBusyTimeout } from '../../src/store/db.js';

const dir = mkdtempSync(join(tmpdir(), 'aisbf-db-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('openDatabase', () => {
  it('bounds the page cache at 2 MB, where better-sqlite3 would give 16 MB', () => {
    const raw = new Database(join(dir, 'raw.db'));
    expect(raw.pragma('cache_size', { simple: true })).toBe(-16000);
    raw.close();
    const db = openDatabase(join(dir, 'aisbf.db'));
    expect(db.pragma('cache_size', { simple: true })).toBe(-2000);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    db.close();
  });
});

describe('withBusyTimeout', () => {
  it('lowers the busy timeout for the call only, restoring it after a return and after a throw', () => {
    const db = openDatabase(join(dir, 'busy.db'));
    const inside = withBusyTimeout(db, 100, () => db.pragma('busy_timeout', { simple: true }));
    expect(inside).toBe(100);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(() =>
      withBusyTimeout(db, 250, () => {
        throw new Error('the batch failed');
      }),
    ).toThrow('the batch failed');
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    // Nested: each level restores what it found.
    const current = () => db.pragma('busy_timeout', { simple: true });
    const seen: unknown[] = [];
    withBusyTimeout(db, 100, () => {
      seen.push(current());
      withBusyTimeout(db, 50, () => seen.push(current()));
      seen.push(current());
    });
    expect(seen).toEqual([100, 50, 100]);
    expect(current()).toBe(5000);
    db.close();
  });

  it('prepares its pragmas once per connection, not on every batch', () => {
    const db = openDatabase(join(dir, 'prepared.db'));
    const prepare = db.prepare.bind(db);
    let prepared = 0;
    db.prepare = ((source: string) => {
      prepared++;
      return prepare(source);
    }) as typeof db.prepare;
    for (let i = 0; i < 50; i++) withBusyTimeout(db, 100, () => undefined);
    // The read, `= 100` and `= 5000`: three statements for fifty batches.
    expect(prepared).toBe(3);
    db.close();
  });

  it('refuses a timeout that is not a whole number of ms (it is written into the statement)', () => {
    const db = openDatabase(join(dir, 'refuse.db'));
    expect(() => withBusyTimeout(db, 1.5, () => undefined)).toThrow(RangeError);
    expect(() => withBusyTimeout(db, -1, () => undefined)).toThrow(RangeError);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    db.close();
  });
});
