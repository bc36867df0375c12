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
import { openDatabase } from '../../src/store/db.js';

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
