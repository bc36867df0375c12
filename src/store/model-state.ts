/**
 * @module Stopped models (`POST /admin/models/{id}/stop`): one row per stopped provider id or
 * `provider/model`, so a stop survives a restart.
 */
import { migrate, type Db, type Migration } from './db.js';

export const MODEL_STATE_MIGRATIONS: readonly Migration[] = [
  {
    id: 'model-state-001-create',
    sql: 'CREATE TABLE stopped_models (id TEXT PRIMARY KEY, stopped_at INTEGER NOT NULL)',
  },
];

export class ModelStateStore {
  private readonly listStmt;
  private readonly stopStmt;
  private readonly startStmt;

  constructor(db: Db) {
    migrate(db, MODEL_STATE_MIGRATIONS);
    this.listStmt = db.prepare('SELECT id, stopped_at FROM stopped_models');
    this.stopStmt = db.prepare('INSERT INTO stopped_models (id, stopped_at) VALUES (?, ?) ON CONFLICT(id) DO NOTHING');
    this.startStmt = db.prepare('DELETE FROM stopped_models WHERE id = ?');
  }

  /** id → ms since epoch when it was stopped. */
  load(): Map<string, number> {
    const rows = this.listStmt.all() as Array<{ id: string; stopped_at: number }>;
    return new Map(rows.map((r) => [r.id, r.stopped_at]));
  }

  stop(id: string, at: number): void {
    this.stopStmt.run(id, at);
  }

  start(id: string): void {
    this.startStmt.run(id);
  }
}
