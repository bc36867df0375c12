/**
 * @module API keys (`sk-aisbf-…`, CONTRACTS §7.2 item 22): stored as the SHA-256 of the key, never
 * the key; a revoked key keeps its row (usage records name it) with `revoked_at` set. Every change
 * bumps the auth revision so running daemons reload their key cache.
 */
import { migrate, type Db, type Migration } from './db.js';
import { AuthRevision } from './auth-revision.js';

export const API_KEY_MIGRATIONS: readonly Migration[] = [
  {
    id: 'api-keys-001-create',
    sql: `CREATE TABLE api_keys (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      user TEXT,
      key_hash TEXT NOT NULL UNIQUE,
      key_hint TEXT NOT NULL,
      models TEXT,
      rpm INTEGER,
      tpm INTEGER,
      max_parallel INTEGER,
      budget_usd REAL,
      budget_period TEXT CHECK (budget_period IN ('day', 'week', 'month')),
      expires_at INTEGER,
      created_at INTEGER NOT NULL,
      revoked_at INTEGER
    )`,
  },
];

export type BudgetPeriod = 'day' | 'week' | 'month';
export const BUDGET_PERIODS: readonly BudgetPeriod[] = ['day', 'week', 'month'];

export interface ApiKeyRecord {
  /** `key_` + 16 hex: the public id (`aisbf key revoke ID`, usage records). */
  id: string;
  name: string;
  /** Owner (a user name), if any. */
  user: string | null;
  /** SHA-256 hex of the whole key. */
  keyHash: string;
  /** `sk-aisbf-AbCd…wxyz`: enough to recognise a key in a list, never enough to use it. */
  keyHint: string;
  /** Glob patterns of allowed targets; null = every target. */
  models: string[] | null;
  rpm: number | null;
  tpm: number | null;
  maxParallel: number | null;
  budgetUsd: number | null;
  budgetPeriod: BudgetPeriod | null;
  /** ms since epoch. */
  expiresAt: number | null;
  createdAt: number;
  revokedAt: number | null;
}

interface Row {
  id: string;
  name: string;
  user: string | null;
  key_hash: string;
  key_hint: string;
  models: string | null;
  rpm: number | null;
  tpm: number | null;
  max_parallel: number | null;
  budget_usd: number | null;
  budget_period: BudgetPeriod | null;
  expires_at: number | null;
  created_at: number;
  revoked_at: number | null;
}

const toRecord = (r: Row): ApiKeyRecord => ({
  id: r.id,
  name: r.name,
  user: r.user,
  keyHash: r.key_hash,
  keyHint: r.key_hint,
  models: r.models === null ? null : (JSON.parse(r.models) as string[]),
  rpm: r.rpm,
  tpm: r.tpm,
  maxParallel: r.max_parallel,
  budgetUsd: r.budget_usd,
  budgetPeriod: r.budget_period,
  expiresAt: r.expires_at,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

export class ApiKeyStore {
  readonly revision: AuthRevision;
  private readonly db: Db;
  private readonly insertStmt;
  private readonly allStmt;
  private readonly activeStmt;
  private readonly getStmt;
  private readonly revokeStmt;

  constructor(db: Db, revision = new AuthRevision(db)) {
    migrate(db, API_KEY_MIGRATIONS);
    this.db = db;
    this.revision = revision;
    this.insertStmt = db.prepare(
      `INSERT INTO api_keys (id, name, user, key_hash, key_hint, models, rpm, tpm, max_parallel, budget_usd, budget_period, expires_at, created_at, revoked_at)
       VALUES (@id, @name, @user, @key_hash, @key_hint, @models, @rpm, @tpm, @max_parallel, @budget_usd, @budget_period, @expires_at, @created_at, @revoked_at)`,
    );
    this.allStmt = db.prepare<[], Row>('SELECT * FROM api_keys ORDER BY created_at, id');
    this.activeStmt = db.prepare<[], Row>('SELECT * FROM api_keys WHERE revoked_at IS NULL');
    this.getStmt = db.prepare<[string], Row>('SELECT * FROM api_keys WHERE id = ?');
    this.revokeStmt = db.prepare<[number, string]>('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
  }

  insert(k: ApiKeyRecord): void {
    this.db.transaction(() => {
      this.insertStmt.run({
        id: k.id,
        name: k.name,
        user: k.user,
        key_hash: k.keyHash,
        key_hint: k.keyHint,
        models: k.models === null ? null : JSON.stringify(k.models),
        rpm: k.rpm,
        tpm: k.tpm,
        max_parallel: k.maxParallel,
        budget_usd: k.budgetUsd,
        budget_period: k.budgetPeriod,
        expires_at: k.expiresAt,
        created_at: k.createdAt,
        revoked_at: k.revokedAt,
      });
      this.revision.bump();
    })();
  }

  get(id: string): ApiKeyRecord | undefined {
    const r = this.getStmt.get(id);
    return r ? toRecord(r) : undefined;
  }

  /** Every key, revoked ones included, oldest first. */
  list(): ApiKeyRecord[] {
    return this.allStmt.all().map(toRecord);
  }

  /** Keys not revoked (expired ones included: the cache answers "expired" rather than "unknown"). */
  active(): ApiKeyRecord[] {
    return this.activeStmt.all().map(toRecord);
  }

  /** false when there is no such key or it was already revoked. */
  revoke(id: string, now = Date.now()): boolean {
    return this.db.transaction(() => {
      if (this.revokeStmt.run(now, id).changes !== 1) return false;
      this.revision.bump();
      return true;
    })();
  }
}
