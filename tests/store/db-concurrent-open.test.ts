/**
 * Several processes opening one fresh database at the same moment — cluster workers starting
 * together, as `server.workers` does — must all get it migrated. Before migrations took the write
 * lock and checked again under it, one of them failed with "table … already exists" whenever their
 * start-ups overlapped (under load, a cluster start then failed and its tests were skipped).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { migrate, openDatabase } from '../../src/store/db.js';

const DB_MODULE = resolve(import.meta.dirname, '..', '..', 'src', 'store', 'db.ts');
const MIGRATIONS = 30;
const PROCESSES = 4;

// Each child loads the module, says "ready", waits for "go" on stdin (so they all start together,
// with no clock involved), then opens the database and applies the migrations.
const CHILD = `
import { openDatabase, migrate } from ${JSON.stringify(DB_MODULE)};
const migs = Array.from({ length: ${MIGRATIONS} }, (_, i) => ({ id: 'race-' + i, sql: 'CREATE TABLE t' + i + ' (id INTEGER PRIMARY KEY)' }));
process.stdout.write('ready\\n');
process.stdin.once('data', () => {
  try {
    const db = openDatabase(process.argv[1]);
    migrate(db, migs);
    db.close();
    process.stdout.write('ok\\n');
  } catch (e) {
    process.stdout.write('FAIL ' + e.message + '\\n');
  }
  process.exit(0);
});
`;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function child(dbPath: string): { proc: ChildProcess; ready: Promise<void>; result: Promise<string> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD, dbPath], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  let onReady!: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  proc.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('ready\n')) onReady();
  });
  const result = new Promise<string>((r) => proc.on('exit', () => r(out.replace('ready\n', '').trim())));
  return { proc, ready, result };
}

describe('a fresh database opened by several processes at once', () => {
  it('is migrated exactly once, with no process failing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aisbf-db-race-'));
    dirs.push(dir);
    const path = join(dir, 'aisbf.db');
    const children = Array.from({ length: PROCESSES }, () => child(path));
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.proc.stdin!.end('go\n');
    const results = await Promise.all(children.map((c) => c.result));
    expect(results).toEqual(Array(PROCESSES).fill('ok'));

    const db = openDatabase(path);
    try {
      const ids = db.prepare("SELECT id FROM schema_migrations WHERE id LIKE 'race-%'").pluck().all();
      expect(ids).toHaveLength(MIGRATIONS);
      // Applying them again is a no-op.
      migrate(db, Array.from({ length: MIGRATIONS }, (_, i) => ({ id: `race-${i}`, sql: `CREATE TABLE t${i} (id INTEGER PRIMARY KEY)` })));
    } finally {
      db.close();
    }
  }, 60_000);
});
