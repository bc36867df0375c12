/**
 * @module The embedded SQLite database (better-sqlite3, WAL) shared by every table family, and a tiny
 * migration runner: each family (health state, jobs, profiles …) owns its own ordered migrations.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type Db = Database.Database;

export interface Migration {
  /** Unique and stable, e.g. "health-001-create". Never renamed once shipped. */
  id: string;
  sql: string;
}

export function openDatabase(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT (datetime(\'now\')))');
  return db;
}

/** Applies the migrations not yet applied, each in its own transaction, in the order given. */
export function migrate(db: Db, migrations: readonly Migration[]): void {
  const applied = new Set((db.prepare('SELECT id FROM schema_migrations').all() as Array<{ id: string }>).map((r) => r.id));
  const record = db.prepare('INSERT INTO schema_migrations (id) VALUES (?)');
  for (const m of migrations) {
    if (applied.has(m.id)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.id);
    })();
  }
}
