/**
 * @module A revision counter for everything that decides who may call (API keys, users). Every change
 * bumps it in the same transaction; a process holding an in-memory copy sees another connection's
 * commit through `PRAGMA data_version` (no table read) and re-reads the counter only then — so a key
 * revoked from the CLI stops working in a running daemon on its next request.
 *
 * The daemon's copy (`watchWrites`) asks even that pragma only after the database's WAL file was
 * written: a pragma starts a read transaction (WAL-index locks, ~17–20 µs of CPU per request measured
 * in the daemon under load) while a file watch costs nothing per request. Another process's commit
 * writes the WAL before it returns, and the kernel queues the watch event in that write, so the event
 * is ready before any request sent after the commit — "its next request" still holds.
 */
import { watch, type FSWatcher } from 'node:fs';
import { migrate, type Db, type Migration } from './db.js';

export const AUTH_REVISION_MIGRATIONS: readonly Migration[] = [
  {
    id: 'auth-revision-001-create',
    sql: `CREATE TABLE auth_revision (id INTEGER PRIMARY KEY CHECK (id = 1), rev INTEGER NOT NULL);
      INSERT INTO auth_revision (id, rev) VALUES (1, 0)`,
  },
];

export class AuthRevision {
  private readonly dataVersion;
  private readonly read;
  private readonly bumpStmt;
  private lastDataVersion = -1;
  private lastRev = -1;
  /** False only while a watch on the WAL file says nothing was written since the last look. */
  private dirty = true;
  private watcher: FSWatcher | undefined;
  private watchedFile: string | undefined;

  constructor(db: Db) {
    migrate(db, AUTH_REVISION_MIGRATIONS);
    this.dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
    this.read = db.prepare<[], number>('SELECT rev FROM auth_revision WHERE id = 1').pluck();
    this.bumpStmt = db.prepare('UPDATE auth_revision SET rev = rev + 1 WHERE id = 1');
  }

  /** Call inside the transaction that changes keys or users. */
  bump(): void {
    this.bumpStmt.run();
  }

  current(): number {
    return this.read.get() ?? 0;
  }

  /**
   * True once after another connection changed the revision since the last call (the first call is
   * always true). Watching: a flag test unless the WAL was written; otherwise one pragma, no table read.
   */
  changed(): boolean {
    if (!this.dirty) return false;
    if (this.watcher) this.dirty = false;
    const dv = this.dataVersion.get() ?? 0;
    if (dv === this.lastDataVersion) return false;
    this.lastDataVersion = dv;
    const rev = this.current();
    if (rev === this.lastRev) return false;
    this.lastRev = rev;
    return true;
  }

  /**
   * Looks at the database again only after its WAL file (`<db>-wal`) changes. Without a WAL file
   * (an in-memory database) or a working watch, every call keeps asking the pragma, as before.
   */
  watchWrites(dbFile: string): void {
    if (dbFile === '' || dbFile === ':memory:') return;
    this.watchedFile = `${dbFile}-wal`;
    this.arm();
  }

  private arm(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.dirty = true;
    if (this.watchedFile === undefined) return;
    try {
      // Not persistent: a watch never keeps the process alive.
      const w = watch(this.watchedFile, { persistent: false }, (event) => {
        this.dirty = true;
        // Replaced or removed (not while this process holds the database open, but cheap to cover):
        // watch the new file, or fall back to asking on every call.
        if (event === 'rename') this.arm();
      });
      w.on('error', () => {
        this.watcher = undefined;
        this.dirty = true;
      });
      this.watcher = w;
    } catch {
      this.watcher = undefined;
    }
  }

  /** Stops watching (every call asks the pragma again). */
  close(): void {
    this.watchedFile = undefined;
    this.watcher?.close();
    this.watcher = undefined;
    this.dirty = true;
  }
}
