/**
 * @module The durable line queue of batches and /api/chat jobs (CONTRACTS §7.5 item 32). A line is
 * claimed under a lease that expires, and its outcome is committed (with the batch's counts, in one
 * transaction) before anything reports it, so after a crash a running line runs again and a finished
 * one never does.
 *
 * `BatchLineLeases` is the whole contract a runner needs from the queue: claim / renew / complete /
 * release. This SQLite implementation serves one instance; a shared implementation (Redis claims,
 * CONTRACTS §7.7) can stand in for it without the runner changing.
 */
import type { Db } from './db.js';

export interface LineRef {
  batchId: string;
  lineNo: number;
}

/** A claimed line: where its request is (a byte range of the input file, or inline) and its attempts so far. */
export interface ClaimedLine extends LineRef {
  customId: string;
  /** Byte range of the line in the batch's input file (batches). */
  offset: number;
  length: number;
  /** The request body kept inline (/api/chat jobs). */
  body: string | null;
  attempts: number;
}

export interface LineOutcome {
  /** true: the output file; false: the error file. */
  ok: boolean;
  statusCode: number;
  /** The finished line in OpenAI's batch output format (one JSON object, no newline). */
  result: string;
  attempts: number;
}

/**
 * The lease contract (claim → renew while running → complete or release). Every method is atomic;
 * a lease that expired may be claimed by someone else, and then `complete` by the old owner is refused.
 */
export interface BatchLineLeases {
  /** Up to `max` runnable lines (pending, or running under an expired lease) of running batches, for `owner`. */
  claim(owner: string, max: number, leaseMs: number, now?: number): ClaimedLine[];
  /** Extends what `owner` still holds; returns the lines it no longer holds. */
  renew(owner: string, lines: readonly LineRef[], leaseMs: number, now?: number): LineRef[];
  /**
   * Commits the outcomes (one transaction: a runner groups the lines that finished together) of the
   * lines `owner` still holds; the batches' counts move with them. Returns the lines it no longer held
   * (their outcome was not committed: they run again elsewhere).
   */
  complete(owner: string, done: ReadonlyArray<{ line: LineRef; outcome: LineOutcome }>): LineRef[];
  /** Gives lines back unrun (shutdown, cancel): pending again, each with its attempts kept. */
  release(owner: string, lines: ReadonlyArray<{ line: LineRef; attempts: number }>): void;
}

export const BATCH_LINE_MIGRATIONS = [
  {
    id: 'batch-lines-001-create',
    sql: `CREATE TABLE batch_lines (
      batch_id TEXT NOT NULL,
      line_no INTEGER NOT NULL,
      custom_id TEXT NOT NULL,
      offset INTEGER NOT NULL DEFAULT 0,
      length INTEGER NOT NULL DEFAULT 0,
      body TEXT,
      state TEXT NOT NULL DEFAULT 'pending',
      attempts INTEGER NOT NULL DEFAULT 0,
      lease_owner TEXT,
      lease_until INTEGER,
      ok INTEGER,
      status_code INTEGER,
      result TEXT,
      PRIMARY KEY (batch_id, line_no)
    ) WITHOUT ROWID;
    CREATE INDEX batch_lines_state ON batch_lines (batch_id, state, line_no);
    CREATE UNIQUE INDEX batch_lines_custom_id ON batch_lines (batch_id, custom_id);`,
  },
];

/** What the queue needs to know of the batches: which run, in which order. */
export interface RunnableBatches {
  /** Ids of batches whose lines may run, best first (priority, then age). */
  runnable(): string[];
  /** Adds finished lines to the batch's counts (inside the same transaction as the lines). */
  count(batchId: string, ok: number, failed: number): void;
}

export class SqliteBatchLines implements BatchLineLeases {
  private readonly pendingOf;
  private readonly expiredOf;
  private readonly take;
  private readonly renewStmt;
  private readonly completeStmt;
  private readonly releaseStmt;

  constructor(
    private readonly db: Db,
    private readonly batches: RunnableBatches,
  ) {
    // INDEXED BY: left to itself the planner walks the primary key for the ORDER BY, i.e. every finished
    // line of the batch on every claim (quadratic over a large batch).
    this.pendingOf = db.prepare(`SELECT batch_id AS batchId, line_no AS lineNo, custom_id AS customId, offset, length, body, attempts FROM batch_lines INDEXED BY batch_lines_state WHERE batch_id = ? AND state = 'pending' ORDER BY line_no LIMIT ?`);
    this.expiredOf = db.prepare(`SELECT batch_id AS batchId, line_no AS lineNo, custom_id AS customId, offset, length, body, attempts FROM batch_lines INDEXED BY batch_lines_state WHERE batch_id = ? AND state = 'running' AND lease_until < ? ORDER BY line_no LIMIT ?`);
    this.take = db.prepare(`UPDATE batch_lines SET state = 'running', lease_owner = ?, lease_until = ? WHERE batch_id = ? AND line_no = ?`);
    this.renewStmt = db.prepare(`UPDATE batch_lines SET lease_until = ? WHERE batch_id = ? AND line_no = ? AND state = 'running' AND lease_owner = ?`);
    this.completeStmt = db.prepare(`UPDATE batch_lines SET state = 'done', ok = ?, status_code = ?, result = ?, attempts = ?, lease_owner = NULL, lease_until = NULL WHERE batch_id = ? AND line_no = ? AND state = 'running' AND lease_owner = ?`);
    this.releaseStmt = db.prepare(`UPDATE batch_lines SET state = 'pending', attempts = ?, lease_owner = NULL, lease_until = NULL WHERE batch_id = ? AND line_no = ? AND state = 'running' AND lease_owner = ?`);
  }

  claim(owner: string, max: number, leaseMs: number, now = Date.now()): ClaimedLine[] {
    if (max <= 0) return [];
    return this.db.transaction(() => {
      const out: ClaimedLine[] = [];
      for (const id of this.batches.runnable()) {
        const left = max - out.length;
        if (left <= 0) break;
        const rows = this.expiredOf.all(id, now, left) as ClaimedLine[];
        if (rows.length < left) rows.push(...(this.pendingOf.all(id, left - rows.length) as ClaimedLine[]));
        for (const r of rows) {
          this.take.run(owner, now + leaseMs, r.batchId, r.lineNo);
          out.push(r);
        }
      }
      return out;
    }).immediate();
  }

  renew(owner: string, lines: readonly LineRef[], leaseMs: number, now = Date.now()): LineRef[] {
    const lost: LineRef[] = [];
    this.db.transaction(() => {
      for (const l of lines) if (this.renewStmt.run(now + leaseMs, l.batchId, l.lineNo, owner).changes === 0) lost.push(l);
    })();
    return lost;
  }

  complete(owner: string, done: ReadonlyArray<{ line: LineRef; outcome: LineOutcome }>): LineRef[] {
    const lost: LineRef[] = [];
    if (done.length === 0) return lost;
    this.db.transaction(() => {
      const counts = new Map<string, [ok: number, failed: number]>();
      for (const { line, outcome } of done) {
        if (this.completeStmt.run(outcome.ok ? 1 : 0, outcome.statusCode, outcome.result, outcome.attempts, line.batchId, line.lineNo, owner).changes === 0) {
          lost.push(line);
          continue;
        }
        let c = counts.get(line.batchId);
        if (!c) counts.set(line.batchId, (c = [0, 0]));
        c[outcome.ok ? 0 : 1]++;
      }
      for (const [id, [ok, failed]] of counts) this.batches.count(id, ok, failed);
    })();
    return lost;
  }

  release(owner: string, lines: ReadonlyArray<{ line: LineRef; attempts: number }>): void {
    if (lines.length === 0) return;
    this.db.transaction(() => {
      for (const { line, attempts } of lines) this.releaseStmt.run(attempts, line.batchId, line.lineNo, owner);
    })();
  }
}

/** The lines side of a batch that the queue itself does not need: adding them, reading results, recovery. */
export class BatchLineRows {
  private readonly insertStmt;
  private readonly resultsStmt;

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare('INSERT INTO batch_lines (batch_id, line_no, custom_id, offset, length, body) VALUES (?, ?, ?, ?, ?, ?)');
    this.resultsStmt = db.prepare(`SELECT line_no AS lineNo, ok, result FROM batch_lines WHERE batch_id = ? AND state = 'done' AND line_no > ? ORDER BY line_no LIMIT ?`);
  }

  /**
   * Adds lines in one transaction; returns those whose custom_id the batch already has (the unique
   * index finds duplicates, so the ids of a huge file never sit in memory).
   */
  insertMany(rows: ReadonlyArray<[batchId: string, lineNo: number, customId: string, offset: number, length: number, body: string | null]>): Array<{ lineNo: number; customId: string }> {
    const dups: Array<{ lineNo: number; customId: string }> = [];
    this.db.transaction(() => {
      for (const r of rows) {
        try {
          this.insertStmt.run(...r);
        } catch (err) {
          if ((err as { code?: string }).code !== 'SQLITE_CONSTRAINT_UNIQUE') throw err;
          dups.push({ lineNo: r[1], customId: r[2] });
        }
      }
    })();
    return dups;
  }

  deleteOf(batchId: string): void {
    this.db.prepare('DELETE FROM batch_lines WHERE batch_id = ?').run(batchId);
  }

  /** Finished lines after `afterLine`, in line order (a page at a time: never the whole batch in memory). */
  resultsPage(batchId: string, afterLine: number, limit: number): Array<{ lineNo: number; ok: number; result: string }> {
    return this.resultsStmt.all(batchId, afterLine, limit) as Array<{ lineNo: number; ok: number; result: string }>;
  }

  /** One line's outcome (the /api/chat job's answer). */
  resultOf(batchId: string): { state: string; ok: number | null; status_code: number | null; result: string | null; attempts: number } | undefined {
    return this.db.prepare('SELECT state, ok, status_code, result, attempts FROM batch_lines WHERE batch_id = ? ORDER BY line_no LIMIT 1').get(batchId) as never;
  }

  /** After a crash of the one instance that runs this database: its running lines are pending again. */
  requeueRunning(): number {
    return this.db.prepare(`UPDATE batch_lines SET state = 'pending', lease_owner = NULL, lease_until = NULL WHERE state = 'running'`).run().changes;
  }
}
