/**
 * @module The crashes table: our own faults (uncaught errors, 5xx we caused, worker restarts) with
 * the request id and the stack. The only place a stack is kept; bounded to the newest rows.
 */
import { migrate, type Db, type Migration } from './db.js';

export const CRASH_MIGRATIONS: readonly Migration[] = [
  {
    id: 'crashes-001-create',
    sql: `
      CREATE TABLE crashes (
        id INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,
        kind TEXT NOT NULL,
        request_id TEXT,
        route TEXT,
        name TEXT NOT NULL,
        message TEXT NOT NULL,
        stack TEXT
      );
    `,
  },
];

export type CrashKind = 'unhandled' | 'server_error' | 'worker_restart';

export interface CrashRow {
  id: number;
  /** ms since epoch. */
  ts: number;
  kind: CrashKind;
  request_id: string | null;
  route: string | null;
  name: string;
  message: string;
  stack: string | null;
}

export type NewCrash = Omit<CrashRow, 'id'>;

export class CrashStore {
  private readonly insertStmt;
  private readonly trimStmt;
  private readonly listStmt;

  constructor(
    db: Db,
    /** Rows kept; older ones are deleted as new ones arrive. */
    private readonly maxRows = 1000,
  ) {
    migrate(db, CRASH_MIGRATIONS);
    this.insertStmt = db.prepare('INSERT INTO crashes (ts, kind, request_id, route, name, message, stack) VALUES (@ts, @kind, @request_id, @route, @name, @message, @stack)');
    this.trimStmt = db.prepare('DELETE FROM crashes WHERE id <= ?');
    this.listStmt = db.prepare('SELECT * FROM crashes ORDER BY id DESC LIMIT ?');
  }

  add(c: NewCrash): void {
    const id = Number(this.insertStmt.run(c).lastInsertRowid);
    if (id > this.maxRows) this.trimStmt.run(id - this.maxRows);
  }

  /** Newest first. */
  list(limit: number): CrashRow[] {
    return this.listStmt.all(limit) as CrashRow[];
  }
}
