/**
 * The auth revision a daemon watches: another connection's change is seen on the next call once the
 * event loop has turned (as any request's has), and nothing written means no database read at all.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthRevision } from '../../src/store/auth-revision.js';
import { openDatabase, type Db } from '../../src/store/db.js';

const turn = () => new Promise((r) => setImmediate(r));
const dirs: string[] = [];
const open: Db[] = [];
afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function twoConnections(): [Db, Db, string] {
  const dir = mkdtempSync(join(tmpdir(), 'aisbf-authrev-'));
  dirs.push(dir);
  const file = join(dir, 'aisbf.db');
  const a = openDatabase(file);
  const b = openDatabase(file);
  open.push(a, b);
  return [a, b, file];
}

describe('AuthRevision watching the WAL file', () => {
  it("sees another connection's change on the next call after the loop turned, once", async () => {
    const [a, b, file] = twoConnections();
    const mine = new AuthRevision(a);
    mine.watchWrites(file);
    const theirs = new AuthRevision(b);
    // The watch's first events arrive from the loop's next poll on (a daemon arms it at start).
    await new Promise((r) => setTimeout(r, 10));
    expect(mine.changed()).toBe(true); // the first call always is
    expect(mine.changed()).toBe(false);
    b.transaction(() => theirs.bump())();
    await turn();
    expect(mine.changed()).toBe(true);
    expect(mine.changed()).toBe(false);
    // Written but the revision did not move (usage rows, say): not a change.
    b.exec('CREATE TABLE other (x)');
    await turn();
    expect(mine.changed()).toBe(false);
    mine.close();
  });

  it('reads nothing from the database while nothing was written', async () => {
    const [a, , file] = twoConnections();
    const mine = new AuthRevision(a);
    mine.watchWrites(file);
    mine.changed();
    a.close();
    // A closed connection throws on any statement: no throw means no read.
    expect(mine.changed()).toBe(false);
    mine.close();
  });

  it('asks the database on every call without a watch (in-memory, or after close)', () => {
    const db = openDatabase(':memory:');
    open.push(db);
    const r = new AuthRevision(db);
    r.watchWrites(':memory:');
    r.changed();
    db.close();
    expect(() => r.changed()).toThrow(/not open/);
  });

  it('falls back to asking on every call when the WAL file cannot be watched (none there)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aisbf-authrev-'));
    dirs.push(dir);
    const db = openDatabase(':memory:');
    open.push(db);
    const r = new AuthRevision(db);
    expect(() => r.watchWrites(join(dir, 'no-such.db'))).not.toThrow();
    r.changed();
    db.close();
    expect(() => r.changed()).toThrow(/not open/);
  });
});
