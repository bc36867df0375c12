/**
 * @module The SQLite store of routing state (health and rate limits, see routing/health.ts): one row
 * per provider/model (or provider) key, so cooldowns and token windows survive a restart. Written
 * in batches by the routing state service, never on the request path.
 */
import { migrate, type Db, type Migration } from './db.js';
import type { HealthRecord, LimitRecord, RoutingStateStore } from './routing-records.js';

export const HEALTH_STATE_MIGRATIONS: readonly Migration[] = [
  {
    id: 'health-001-create',
    sql: `
      CREATE TABLE health_state (
        key TEXT PRIMARY KEY,
        failures INTEGER NOT NULL,
        cooldown_until INTEGER NOT NULL,
        tripped INTEGER NOT NULL,
        last_failure_at INTEGER NOT NULL,
        last_error TEXT
      );
      CREATE TABLE rate_limit_state (
        key TEXT PRIMARY KEY,
        last_call_at INTEGER NOT NULL,
        tokens TEXT NOT NULL
      );
    `,
  },
];

interface HealthRow {
  key: string;
  failures: number;
  cooldown_until: number;
  tripped: number;
  last_failure_at: number;
  last_error: string | null;
}

interface LimitRow {
  key: string;
  last_call_at: number;
  tokens: string;
}

function parseTokens(text: string): Array<[number, number]> {
  try {
    const v: unknown = JSON.parse(text);
    if (!Array.isArray(v)) return [];
    return v.filter((e): e is [number, number] => Array.isArray(e) && typeof e[0] === 'number' && typeof e[1] === 'number');
  } catch {
    return [];
  }
}

export function createSqliteRoutingStore(db: Db): RoutingStateStore {
  migrate(db, HEALTH_STATE_MIGRATIONS);
  const upsertHealth = db.prepare(
    `INSERT INTO health_state (key, failures, cooldown_until, tripped, last_failure_at, last_error)
     VALUES (@key, @failures, @cooldown_until, @tripped, @last_failure_at, @last_error)
     ON CONFLICT(key) DO UPDATE SET failures = excluded.failures, cooldown_until = excluded.cooldown_until,
       tripped = excluded.tripped, last_failure_at = excluded.last_failure_at, last_error = excluded.last_error`,
  );
  const upsertLimit = db.prepare(
    `INSERT INTO rate_limit_state (key, last_call_at, tokens) VALUES (@key, @last_call_at, @tokens)
     ON CONFLICT(key) DO UPDATE SET last_call_at = excluded.last_call_at, tokens = excluded.tokens`,
  );
  const save = db.transaction((health: readonly HealthRecord[], limits: readonly LimitRecord[]) => {
    for (const h of health) {
      upsertHealth.run({
        key: h.key,
        failures: h.failures,
        cooldown_until: Math.round(h.cooldownUntil),
        tripped: h.tripped ? 1 : 0,
        last_failure_at: Math.round(h.lastFailureAt),
        last_error: h.lastError,
      });
    }
    for (const l of limits) upsertLimit.run({ key: l.key, last_call_at: Math.round(l.lastCallAt), tokens: JSON.stringify(l.tokens) });
  });
  return {
    load() {
      const health = (db.prepare('SELECT * FROM health_state').all() as HealthRow[]).map((r) => ({
        key: r.key,
        failures: r.failures,
        cooldownUntil: r.cooldown_until,
        tripped: r.tripped === 1,
        lastFailureAt: r.last_failure_at,
        lastError: r.last_error,
      }));
      const limits = (db.prepare('SELECT * FROM rate_limit_state').all() as LimitRow[]).map((r) => ({
        key: r.key,
        lastCallAt: r.last_call_at,
        tokens: parseTokens(r.tokens),
      }));
      return { health, limits };
    },
    save(health, limits) {
      if (health.length || limits.length) save(health, limits);
    },
  };
}
