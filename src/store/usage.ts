/**
 * @module The usage records table (CONTRACTS §7.4 item 28): batched inserts, aggregate queries by
 * key | user | client | model | provider | day over a time range, and bounded deletes for retention.
 */
import type { Statement } from 'better-sqlite3';
import { migrate, withBusyTimeout, type Db, type Migration } from './db.js';

export const USAGE_MIGRATIONS: readonly Migration[] = [
  {
    id: 'usage-001-create',
    sql: `
      CREATE TABLE usage_records (
        id INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,
        request_id TEXT NOT NULL,
        parent_id TEXT,
        client_id TEXT NOT NULL,
        key_id TEXT,
        user TEXT,
        route TEXT NOT NULL,
        target TEXT,
        provider TEXT,
        model TEXT,
        attempts INTEGER NOT NULL,
        status INTEGER NOT NULL,
        error_code TEXT,
        prompt_tokens INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL,
        cached_tokens INTEGER NOT NULL,
        reasoning_tokens INTEGER NOT NULL,
        cache_write_tokens INTEGER NOT NULL,
        effective_context INTEGER,
        cost_usd REAL,
        latency_ms INTEGER NOT NULL,
        ttft_ms INTEGER,
        stream INTEGER NOT NULL,
        cache_hit INTEGER NOT NULL,
        aborted INTEGER NOT NULL,
        failovers INTEGER NOT NULL
      );
      CREATE INDEX usage_records_ts ON usage_records (ts);
    `,
  },
];

/** One usage record, flat, as the writer queues it (no JSON anywhere). */
export interface UsageRow {
  /** ms since epoch when the request arrived. */
  ts: number;
  request_id: string;
  parent_id: string | null;
  client_id: string;
  key_id: string | null;
  user: string | null;
  route: string;
  target: string | null;
  provider: string | null;
  model: string | null;
  attempts: number;
  status: number;
  error_code: string | null;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  cache_write_tokens: number;
  effective_context: number | null;
  cost_usd: number | null;
  latency_ms: number;
  ttft_ms: number | null;
  stream: number;
  cache_hit: number;
  aborted: number;
  failovers: number;
}

export const USAGE_GROUPS = ['key', 'user', 'client', 'model', 'provider', 'day'] as const;
export type UsageGroup = (typeof USAGE_GROUPS)[number];

// Fixed SQL per group (never built from input): the group_by value only selects one of these.
const GROUP_SQL: Readonly<Record<UsageGroup, string>> = {
  key: "COALESCE(key_id, '')",
  user: "COALESCE(user, '')",
  client: 'client_id',
  model: "COALESCE(provider || '/' || model, '')",
  provider: "COALESCE(provider, '')",
  day: "strftime('%Y-%m-%d', ts / 1000, 'unixepoch')",
};

export interface UsageTotals {
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  cost_usd: number;
  /** Requests answered from the response cache (cost 0). */
  cache_hits: number;
}

export interface UsageGroupRow extends UsageTotals {
  /** The group's value ('' when the record has none, e.g. no key with auth off). */
  group: string;
}

export interface UsageQuery {
  /** ms since epoch, inclusive. */
  from: number;
  /** ms since epoch, exclusive. */
  to: number;
  groupBy?: UsageGroup;
}

const TOTALS_SQL = `COUNT(*) AS requests,
  SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END) AS errors,
  SUM(prompt_tokens) AS prompt_tokens, SUM(completion_tokens) AS completion_tokens,
  SUM(cached_tokens) AS cached_tokens, SUM(reasoning_tokens) AS reasoning_tokens,
  SUM(COALESCE(cost_usd, 0)) AS cost_usd, SUM(cache_hit) AS cache_hits`;

function totals(r: Record<string, number | null>): UsageTotals {
  return {
    requests: r.requests ?? 0,
    errors: r.errors ?? 0,
    prompt_tokens: r.prompt_tokens ?? 0,
    completion_tokens: r.completion_tokens ?? 0,
    cached_tokens: r.cached_tokens ?? 0,
    reasoning_tokens: r.reasoning_tokens ?? 0,
    // Summed floats drift (0.1 + 0.2); a micro-dollar is far below anything a bill shows.
    cost_usd: Math.round((r.cost_usd ?? 0) * 1e9) / 1e9,
    cache_hits: r.cache_hits ?? 0,
  };
}

/** Whether the usage table exists yet (a database the server never recorded into has none). */
export function hasUsageTable(db: Db): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'usage_records'").get() !== undefined;
}

/** usage_records' columns as the insert binds them, by position. Every UsageRow field, once. */
const INSERT_COLUMNS = [
  'ts', 'request_id', 'parent_id', 'client_id', 'key_id', 'user', 'route', 'target', 'provider', 'model',
  'attempts', 'status', 'error_code', 'prompt_tokens', 'completion_tokens', 'cached_tokens', 'reasoning_tokens',
  'cache_write_tokens', 'effective_context', 'cost_usd', 'latency_ms', 'ttft_ms', 'stream', 'cache_hit', 'aborted', 'failovers',
] as const satisfies ReadonlyArray<keyof UsageRow>;
/** A UsageRow field missing from INSERT_COLUMNS fails to compile here. */
const EVERY_FIELD: [Exclude<keyof UsageRow, (typeof INSERT_COLUMNS)[number]>] extends [never] ? true : never = true;
void EVERY_FIELD;

export class UsageStore {
  private readonly insertOne;
  private readonly insertMany;
  private readonly totalsStmt;
  private readonly groupStmts = new Map<UsageGroup, Statement<[number, number]>>();
  private readonly deleteStmt;
  private readonly byRequestStmt;
  private readonly recentStmt;

  /** `readonly`: a reader (the `aisbf usage` CLI) that never migrates and never writes. */
  constructor(
    private readonly db: Db,
    opts: { readonly?: boolean } = {},
  ) {
    if (!opts.readonly) migrate(db, USAGE_MIGRATIONS);
    // Bound by position: measured at about half the cost of binding 26 named parameters (~4 µs a row).
    this.insertOne = db.prepare(`INSERT INTO usage_records (${INSERT_COLUMNS.join(', ')}) VALUES (${INSERT_COLUMNS.map(() => '?').join(', ')})`);
    this.insertMany = db.transaction((rows: readonly UsageRow[]) => {
      const stmt = this.insertOne;
      // In INSERT_COLUMNS' order (the store's round-trip test checks every column).
      for (const r of rows) {
        stmt.run(r.ts, r.request_id, r.parent_id, r.client_id, r.key_id, r.user, r.route, r.target, r.provider, r.model,
          r.attempts, r.status, r.error_code, r.prompt_tokens, r.completion_tokens, r.cached_tokens, r.reasoning_tokens,
          r.cache_write_tokens, r.effective_context, r.cost_usd, r.latency_ms, r.ttft_ms, r.stream, r.cache_hit, r.aborted, r.failovers);
      }
    });
    this.totalsStmt = db.prepare(`SELECT ${TOTALS_SQL} FROM usage_records WHERE ts >= ? AND ts < ?`);
    for (const g of USAGE_GROUPS) {
      this.groupStmts.set(g, db.prepare<[number, number]>(`SELECT ${GROUP_SQL[g]} AS grp, ${TOTALS_SQL} FROM usage_records WHERE ts >= ? AND ts < ? GROUP BY grp ORDER BY cost_usd DESC, requests DESC, grp`));
    }
    // Bounded: a run deletes at most `limit` rows, oldest first, so a big backlog never holds the lock long.
    this.deleteStmt = db.prepare('DELETE FROM usage_records WHERE id IN (SELECT id FROM usage_records WHERE ts < ? ORDER BY ts LIMIT ?)');
    this.byRequestStmt = db.prepare('SELECT * FROM usage_records WHERE request_id = ? OR parent_id = ? ORDER BY id');
    this.recentStmt = db.prepare<[number]>("SELECT provider || '/' || model AS k, COUNT(*) AS n FROM usage_records WHERE ts >= ? AND provider IS NOT NULL AND model IS NOT NULL GROUP BY k");
  }

  /** Records per `provider/model` since `since` (ms): the admin view's requests per minute. */
  countsSince(since: number): Map<string, number> {
    const rows = this.recentStmt.all(since) as Array<{ k: string; n: number }>;
    return new Map(rows.map((r) => [r.k, r.n]));
  }

  /**
   * Inserts the rows in one transaction. Throws what SQLite throws (the writer decides). The shared
   * connection waits up to 5 s for a lock; a usage batch waits 100 ms at most and retries later
   * instead, so another process holding the write lock never stalls the event loop for long.
   */
  insert(rows: readonly UsageRow[]): void {
    withBusyTimeout(this.db, 100, () => this.insertMany(rows));
  }


  summary(q: UsageQuery): { totals: UsageTotals; groups?: UsageGroupRow[] } {
    const t = totals(this.totalsStmt.get(q.from, q.to) as Record<string, number | null>);
    if (!q.groupBy) return { totals: t };
    const rows = this.groupStmts.get(q.groupBy)!.all(q.from, q.to) as Array<Record<string, number | null> & { grp: string }>;
    return { totals: t, groups: rows.map((r) => ({ group: r.grp, ...totals(r) })) };
  }

  /** A request's records: its own and those of the internal calls it caused. */
  forRequest(requestId: string): UsageRow[] {
    return this.byRequestStmt.all(requestId, requestId) as UsageRow[];
  }

  /** Deletes up to `limit` records older than `before` (ms); returns how many went. */
  deleteOlderThan(before: number, limit: number): number {
    return this.deleteStmt.run(before, limit).changes;
  }
}
