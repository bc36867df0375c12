/**
 * @module Batches (OpenAI's Batch API) and /api/chat jobs in SQLite: one row per batch with its
 * lifecycle timestamps and counts; its lines live in batch_lines (store/batch-lines.ts). A job is a
 * one-line batch of kind `job` whose request is kept inline and which runs at the client's priority.
 */
import { randomBytes } from 'node:crypto';
import { migrate, type Db } from './db.js';
import { BATCH_LINE_MIGRATIONS, BatchLineRows, SqliteBatchLines, type RunnableBatches } from './batch-lines.js';

export const BATCH_MIGRATIONS = [
  {
    id: 'batches-001-create',
    sql: `CREATE TABLE batches (
      id TEXT PRIMARY KEY,
      kind TEXT NOT NULL,
      endpoint TEXT NOT NULL,
      base TEXT NOT NULL DEFAULT '/v1',
      input_file_id TEXT,
      completion_window TEXT NOT NULL DEFAULT '24h',
      status TEXT NOT NULL,
      owner TEXT NOT NULL,
      identity TEXT NOT NULL,
      client_id TEXT NOT NULL,
      priority TEXT NOT NULL,
      rank INTEGER NOT NULL,
      metadata TEXT,
      errors TEXT,
      output_file_id TEXT,
      error_file_id TEXT,
      total INTEGER NOT NULL DEFAULT 0,
      completed INTEGER NOT NULL DEFAULT 0,
      failed INTEGER NOT NULL DEFAULT 0,
      created_at INTEGER NOT NULL,
      in_progress_at INTEGER,
      finalizing_at INTEGER,
      completed_at INTEGER,
      failed_at INTEGER,
      expired_at INTEGER,
      cancelling_at INTEGER,
      cancelled_at INTEGER,
      expires_at INTEGER
    );
    CREATE INDEX batches_status ON batches (status, rank, created_at);
    CREATE INDEX batches_kind_created ON batches (kind, created_at);`,
  },
  ...BATCH_LINE_MIGRATIONS,
  {
    id: 'batches-002-runner-lease',
    sql: `CREATE TABLE batch_runner (id INTEGER PRIMARY KEY CHECK (id = 1), owner TEXT NOT NULL, until INTEGER NOT NULL);`,
  },
];

export type BatchStatus = 'validating' | 'failed' | 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'cancelling' | 'cancelled';
export const FINISHED: ReadonlySet<string> = new Set(['failed', 'completed', 'expired', 'cancelled']);

export interface BatchRow {
  id: string;
  kind: 'batch' | 'job';
  endpoint: string;
  /** Where the lines are sent: `/v1`, or `/api/<id>` when the batch was created on that base. */
  base: string;
  input_file_id: string | null;
  completion_window: string;
  status: BatchStatus;
  owner: string;
  /** The creator's Identity as JSON: its lines run as that caller (scope, limits, budget). */
  identity: string;
  client_id: string;
  priority: 'high' | 'normal' | 'low';
  rank: number;
  metadata: string | null;
  /** OpenAI's `errors` object as JSON. */
  errors: string | null;
  output_file_id: string | null;
  error_file_id: string | null;
  total: number;
  completed: number;
  failed: number;
  created_at: number;
  in_progress_at: number | null;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  expires_at: number | null;
}

export const RANK = { high: 0, normal: 1, low: 2 } as const;
export const newBatchId = (): string => `batch_${randomBytes(12).toString('hex')}`;
export const newJobId = (): string => `req_${randomBytes(12).toString('hex')}`;
const nowS = (): number => Math.floor(Date.now() / 1000);

/** The timestamp column each status sets when entered. */
const STAMP: Partial<Record<BatchStatus, keyof BatchRow>> = {
  in_progress: 'in_progress_at',
  finalizing: 'finalizing_at',
  completed: 'completed_at',
  failed: 'failed_at',
  expired: 'expired_at',
  cancelling: 'cancelling_at',
  cancelled: 'cancelled_at',
};

export class BatchStore implements RunnableBatches {
  readonly lines: BatchLineRows;
  readonly leases: SqliteBatchLines;
  private readonly getStmt;
  private readonly runnableStmt;
  private readonly countStmt;
  private readonly withStatusStmt;

  constructor(private readonly db: Db) {
    migrate(db, BATCH_MIGRATIONS);
    this.getStmt = db.prepare('SELECT * FROM batches WHERE id = ?');
    this.runnableStmt = db.prepare(`SELECT id FROM batches WHERE status = 'in_progress' ORDER BY rank, created_at, id`);
    this.countStmt = db.prepare('UPDATE batches SET completed = completed + ?, failed = failed + ? WHERE id = ?');
    this.withStatusStmt = db.prepare('SELECT * FROM batches WHERE status = ? ORDER BY rank, created_at');
    this.lines = new BatchLineRows(db);
    this.leases = new SqliteBatchLines(db, this);
  }

  insert(row: Omit<BatchRow, 'rank' | 'total' | 'completed' | 'failed' | 'in_progress_at' | 'finalizing_at' | 'completed_at' | 'failed_at' | 'expired_at' | 'cancelling_at' | 'cancelled_at' | 'errors' | 'output_file_id' | 'error_file_id'>): void {
    this.db
      .prepare(
        `INSERT INTO batches (id, kind, endpoint, base, input_file_id, completion_window, status, owner, identity, client_id, priority, rank, metadata, created_at, expires_at)
         VALUES (@id, @kind, @endpoint, @base, @input_file_id, @completion_window, @status, @owner, @identity, @client_id, @priority, @rank, @metadata, @created_at, @expires_at)`,
      )
      .run({ ...row, rank: RANK[row.priority] });
  }

  get(id: string): BatchRow | undefined {
    return this.getStmt.get(id) as BatchRow | undefined;
  }

  /** Moves to `status` (stamping its time) only from one of `from`; false when the batch was elsewhere. */
  transition(id: string, from: readonly BatchStatus[], status: BatchStatus, extra: Partial<Pick<BatchRow, 'errors' | 'output_file_id' | 'error_file_id' | 'total'>> = {}): boolean {
    const sets = ['status = @status'];
    const stamp = STAMP[status];
    if (stamp) sets.push(`${stamp} = @now`);
    for (const k of Object.keys(extra)) sets.push(`${k} = @${k}`);
    const marks = from.map((_, i) => `@f${i}`).join(', ');
    const args: Record<string, unknown> = { id, status, now: nowS(), ...extra };
    from.forEach((f, i) => (args[`f${i}`] = f));
    return this.db.prepare(`UPDATE batches SET ${sets.join(', ')} WHERE id = @id AND status IN (${marks})`).run(args).changes > 0;
  }

  /** The batches in `status`, best first (the runner asks every poll: one statement, prepared once). */
  withStatus(status: BatchStatus): BatchRow[] {
    return this.withStatusStmt.all(status) as BatchRow[];
  }

  runnable(): string[] {
    return (this.runnableStmt.all() as Array<{ id: string }>).map((r) => r.id);
  }

  count(batchId: string, ok: number, failed: number): void {
    this.countStmt.run(ok, failed, batchId);
  }

  list(owner: string | undefined, opts: { limit: number; after?: string }): BatchRow[] {
    const where = [`kind = 'batch'`];
    const args: unknown[] = [];
    if (owner !== undefined) where.push('owner = ?'), args.push(owner);
    if (opts.after) {
      const a = this.get(opts.after);
      if (a) where.push('(created_at < ? OR (created_at = ? AND id < ?))'), args.push(a.created_at, a.created_at, a.id);
    }
    return this.db.prepare(`SELECT * FROM batches WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ?`).all(...args, opts.limit) as BatchRow[];
  }

  /**
   * The one runner of this database (cluster workers, instances sharing the file): true while `owner`
   * holds the lease, which it renews; another takes over once it lapses. `force` takes it at once
   * (a single process: whoever held it before is gone).
   */
  holdRunner(owner: string, ttlMs: number, force: boolean, now = Date.now()): boolean {
    return (
      this.db
        .prepare(
          `INSERT INTO batch_runner (id, owner, until) VALUES (1, @owner, @until)
           ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, until = excluded.until
           WHERE @force = 1 OR batch_runner.owner = excluded.owner OR batch_runner.until < @now`,
        )
        .run({ owner, until: now + ttlMs, force: force ? 1 : 0, now }).changes > 0
    );
  }

  releaseRunner(owner: string): void {
    this.db.prepare('DELETE FROM batch_runner WHERE owner = ?').run(owner);
  }

  /** Finished /api/chat jobs created before `cutoffS` (seconds), at most `max`; returns how many went. */
  deleteJobsOlderThan(cutoffS: number, max: number): number {
    return this.db.transaction(() => {
      const ids = (this.db.prepare(`SELECT id FROM batches WHERE kind = 'job' AND created_at < ? LIMIT ?`).all(cutoffS, max) as Array<{ id: string }>).map((r) => r.id);
      for (const id of ids) {
        this.lines.deleteOf(id);
        this.db.prepare('DELETE FROM batches WHERE id = ?').run(id);
      }
      return ids.length;
    }).immediate();
  }
}
