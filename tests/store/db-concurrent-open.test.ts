/**
 * Several processes opening one fresh database at the same moment — cluster workers starting
 * together, as `server.workers` does — must all get it migrated. Two ways this failed under load:
 * - "table … already exists", before migrations took the write lock and checked again under it;
 * - "database is locked" from the switch to WAL, which SQLite refuses at once (no busy wait) while
 *   another process converts the fresh file: one child in ~18 failed before openDatabase retried it.
 * Each round is a new file opened by every child at once; several rounds make a regression show.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { migrate, openDatabase } from '../../src/store/db.js';

const DB_MODULE = resolve(import.meta.dirname, '..', '..', 'src', 'store', 'db.ts');
const MIGRATIONS = 30;
const PROCESSES = 4;
const ROUNDS = 20;

// Each child loads the module, says "ready", then for every database path on stdin (sent to all
// children at once, so they start together with no clock involved) opens it, applies the
// migrations and answers "ok" or "FAIL <message>".
const CHILD = `
import { createInterface } from 'node:readline';
import { openDatabase, migrate } from ${JSON.stringify(DB_MODULE)};
const migs = Array.from({ length: ${MIGRATIONS} }, (_, i) => ({ id: 'race-' + i, sql: 'CREATE TABLE t' + i + ' (id INTEGER PRIMARY KEY)' }));
createInterface({ input: process.stdin }).on('line', (path) => {
  try {
    const db = openDatabase(path);
    migrate(db, migs);
    db.close();
    process.stdout.write('ok\\n');
  } catch (e) {
    process.stdout.write('FAIL ' + e.message + '\\n');
  }
});
process.stdout.write('ready\\n');
`;

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A child and its answers, one per line, in order. */
function child(): { proc: ChildProcess; next(): Promise<string> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(proc);
  const lines: string[] = [];
  const waiting: Array<(l: string) => void> = [];
  createInterface({ input: proc.stdout! }).on('line', (l) => (waiting.length ? waiting.shift()!(l) : lines.push(l)));
  return { proc, next: () => (lines.length ? Promise.resolve(lines.shift()!) : new Promise((r) => waiting.push(r))) };
}

describe('a fresh database opened by several processes at once', () => {
  it('is migrated exactly once, with no process failing', async () => {
    const kids = Array.from({ length: PROCESSES }, () => child());
    expect(await Promise.all(kids.map((k) => k.next()))).toEqual(Array(PROCESSES).fill('ready'));
    for (let round = 0; round < ROUNDS; round++) {
      const dir = mkdtempSync(join(tmpdir(), 'aisbf-db-race-'));
      dirs.push(dir);
      const path = join(dir, 'aisbf.db');
      for (const k of kids) k.proc.stdin!.write(`${path}\n`);
      const results = await Promise.all(kids.map((k) => k.next()));
      expect(results, `round ${round}`).toEqual(Array(PROCESSES).fill('ok'));

      const db = openDatabase(path);
      try {
        expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
        const ids = db.prepare("SELECT id FROM schema_migrations WHERE id LIKE 'race-%'").pluck().all();
        expect(ids).toHaveLength(MIGRATIONS);
        // Applying them again is a no-op.
        migrate(db, Array.from({ length: MIGRATIONS }, (_, i) => ({ id: `race-${i}`, sql: `CREATE TABLE t${i} (id INTEGER PRIMARY KEY)` })));
      } finally {
        db.close();
      }
    }
  }, 60_000);
});
