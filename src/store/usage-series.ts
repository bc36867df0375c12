/**
 * @module Usage over time for the dashboard's chart: requests, tokens and cost per time bucket and
 * group (key, model or client) from the usage records table. One fixed statement per group; the
 * group name only selects among them.
 */
import type { Statement } from 'better-sqlite3';
import type { Db } from './db.js';
import { hasUsageTable } from './usage.js';

export const SERIES_GROUPS = ['key', 'model', 'client'] as const;
export type SeriesGroup = (typeof SERIES_GROUPS)[number];

const GROUP_SQL: Readonly<Record<SeriesGroup, string>> = {
  key: "COALESCE(key_id, '')",
  model: "COALESCE(provider || '/' || model, '')",
  client: 'client_id',
};

export interface SeriesRow {
  /** Bucket number: floor(ts / bucketMs). */
  bucket: number;
  group: string;
  requests: number;
  errors: number;
  tokens: number;
  cost_usd: number;
}

export class UsageSeries {
  private readonly stmts = new Map<SeriesGroup, Statement<[number, number, number]>>();

  constructor(private readonly db: Db) {}

  /** Rows for [from, to) in buckets of `bucketMs`; empty while no usage table exists yet. */
  query(group: SeriesGroup, from: number, to: number, bucketMs: number): SeriesRow[] {
    let stmt = this.stmts.get(group);
    if (!stmt) {
      if (!hasUsageTable(this.db)) return [];
      stmt = this.db.prepare<[number, number, number]>(
        `SELECT CAST(ts / ? AS INTEGER) AS bucket, ${GROUP_SQL[group]} AS grp, COUNT(*) AS requests,
           SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END) AS errors,
           SUM(prompt_tokens + completion_tokens) AS tokens, SUM(COALESCE(cost_usd, 0)) AS cost_usd
         FROM usage_records WHERE ts >= ? AND ts < ? GROUP BY bucket, grp ORDER BY bucket`,
      );
      this.stmts.set(group, stmt);
    }
    const rows = stmt.all(Math.trunc(bucketMs), from, to) as Array<{ bucket: number; grp: string; requests: number; errors: number; tokens: number | null; cost_usd: number | null }>;
    return rows.map((r) => ({ bucket: r.bucket, group: r.grp, requests: r.requests, errors: r.errors, tokens: r.tokens ?? 0, cost_usd: r.cost_usd ?? 0 }));
  }
}
