/**
 * @module The OpenAI Files API's records (CONTRACTS §7.5 item 32): one row per file kept on disk under
 * `batches.files_dir` (uploads with purpose `batch`, and the `batch_output` files aisbf writes). The
 * bytes live in the file; the row says where, how large, and for what.
 */
import { randomBytes } from 'node:crypto';
import { migrate, type Db, type Migration } from './db.js';

export const BATCH_FILE_MIGRATIONS: readonly Migration[] = [
  {
    id: 'batch-files-001-create',
    sql: `CREATE TABLE batch_files (
      id TEXT PRIMARY KEY,
      filename TEXT NOT NULL,
      purpose TEXT NOT NULL,
      bytes INTEGER NOT NULL,
      path TEXT NOT NULL,
      owner TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      status TEXT NOT NULL DEFAULT 'processed',
      status_details TEXT
    );
    CREATE INDEX batch_files_created ON batch_files (created_at);`,
  },
];

export interface BatchFileRow {
  id: string;
  filename: string;
  purpose: string;
  bytes: number;
  /** Absolute path of the bytes on disk. */
  path: string;
  /** Who uploaded it (`key:<id>`, `user:<name>`, or the identity kind): only they see it. */
  owner: string;
  /** Seconds since epoch (OpenAI's unit). */
  created_at: number;
  /** OpenAI's (deprecated but still sent) upload check: `processed`, or `error` with the lines at fault. */
  status: 'processed' | 'error';
  status_details: string | null;
}

export const newFileId = (): string => `file-${randomBytes(12).toString('hex')}`;

export class BatchFileStore {
  private readonly insertStmt;
  private readonly getStmt;
  private readonly deleteStmt;

  constructor(private readonly db: Db) {
    migrate(db, BATCH_FILE_MIGRATIONS);
    this.insertStmt = db.prepare('INSERT OR REPLACE INTO batch_files (id, filename, purpose, bytes, path, owner, created_at, status, status_details) VALUES (@id, @filename, @purpose, @bytes, @path, @owner, @created_at, @status, @status_details)');
    this.getStmt = db.prepare('SELECT * FROM batch_files WHERE id = ?');
    this.deleteStmt = db.prepare('DELETE FROM batch_files WHERE id = ?');
  }

  insert(row: BatchFileRow): void {
    this.insertStmt.run(row);
  }

  get(id: string): BatchFileRow | undefined {
    return this.getStmt.get(id) as BatchFileRow | undefined;
  }

  delete(id: string): boolean {
    return this.deleteStmt.run(id).changes > 0;
  }

  /** Newest first, as OpenAI lists; `after` is the last id of the previous page. */
  list(owner: string | undefined, opts: { purpose?: string; limit: number; after?: string; order: 'asc' | 'desc' }): BatchFileRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (owner !== undefined) where.push('owner = ?'), args.push(owner);
    if (opts.purpose) where.push('purpose = ?'), args.push(opts.purpose);
    if (opts.after) {
      const a = this.get(opts.after);
      if (a) {
        where.push(opts.order === 'desc' ? '(created_at < ? OR (created_at = ? AND id < ?))' : '(created_at > ? OR (created_at = ? AND id > ?))');
        args.push(a.created_at, a.created_at, a.id);
      }
    }
    const dir = opts.order === 'desc' ? 'DESC' : 'ASC';
    const sql = `SELECT * FROM batch_files ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at ${dir}, id ${dir} LIMIT ?`;
    return this.db.prepare(sql).all(...args, opts.limit) as BatchFileRow[];
  }
}
