/**
 * @module A revision counter for everything that decides who may call (API keys, users). Every change
 * bumps it in the same transaction; a process holding an in-memory copy sees another connection's
 * commit through `PRAGMA data_version` (no table read) and re-reads the counter only then — so a key
 * revoked from the CLI stops working in a running daemon on its next request.
 */
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
   * always true). About 3 µs when nothing changed: one pragma, no table read.
   */
  changed(): boolean {
    const dv = this.dataVersion.get() ?? 0;
    if (dv === this.lastDataVersion) return false;
    this.lastDataVersion = dv;
    const rev = this.current();
    if (rev === this.lastRev) return false;
    this.lastRev = rev;
    return true;
  }
}
