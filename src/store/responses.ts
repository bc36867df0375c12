/**
 * @module Stored Responses API responses (`store`, default true) and their input items, in SQLite, so
 * `previous_response_id`, `GET /v1/responses/{id}`, `…/input_items` and `DELETE` work on every
 * provider. Writes leave the request's path: `put` queues the row (readable at once from memory) and
 * one flush per tick writes the queue in a transaction. Rows older than the retention are deleted,
 * at most once an hour, during a flush. Each row belongs to the identity that created it.
 */
import { migrate, type Db, type Migration } from './db.js';

export const RESPONSE_MIGRATIONS: readonly Migration[] = [
  {
    id: 'responses-001-create',
    sql: `CREATE TABLE stored_responses (
      id TEXT PRIMARY KEY,
      owner TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      previous_response_id TEXT,
      response TEXT NOT NULL,
      input_items TEXT NOT NULL
    );
    CREATE INDEX stored_responses_created ON stored_responses (created_at);`,
  },
];

export interface StoredResponse {
  id: string;
  owner: string;
  /** Unix seconds. */
  createdAt: number;
  previousResponseId: string | null;
  /** The `response` object as the client received it. */
  response: Record<string, unknown>;
  /** This request's input items (typed, with ids). */
  inputItems: Array<Record<string, unknown>>;
}

interface Row {
  id: string;
  owner: string;
  created_at: number;
  previous_response_id: string | null;
  response: string;
  input_items: string;
}

/** Deepest previous_response_id chain followed (a loop or a runaway chain stops here). */
const MAX_CHAIN = 1000;
const PURGE_EVERY_MS = 3600_000;

export interface ResponseStoreOptions {
  /** history.retention_days, read at each purge (config reloads apply). */
  retentionDays(): number;
  /** ms since epoch. */
  now?(): number;
}

export class ResponseStore {
  private readonly pending = new Map<string, StoredResponse>();
  private flushing = false;
  private lastPurge = 0;
  private readonly now: () => number;
  private readonly insert;
  private readonly select;
  private readonly remove;
  private readonly purge;

  constructor(
    private readonly db: Db,
    private readonly opts: ResponseStoreOptions,
  ) {
    migrate(db, RESPONSE_MIGRATIONS);
    this.now = opts.now ?? Date.now;
    this.insert = db.prepare('INSERT OR REPLACE INTO stored_responses (id, owner, created_at, previous_response_id, response, input_items) VALUES (?, ?, ?, ?, ?, ?)');
    this.select = db.prepare('SELECT * FROM stored_responses WHERE id = ?');
    this.remove = db.prepare('DELETE FROM stored_responses WHERE id = ?');
    this.purge = db.prepare('DELETE FROM stored_responses WHERE created_at < ?');
  }

  private cutoff(): number {
    return Math.floor(this.now() / 1000 - this.opts.retentionDays() * 86400);
  }

  /** Queues a response for writing; visible to `get` at once. */
  put(r: StoredResponse): void {
    this.pending.set(r.id, r);
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes what is queued (also called on close). */
  flush(): void {
    this.flushing = false;
    if (!this.db.open) return;
    const rows = [...this.pending.values()];
    this.db.transaction(() => {
      for (const r of rows) this.insert.run(r.id, r.owner, r.createdAt, r.previousResponseId, JSON.stringify(r.response), JSON.stringify(r.inputItems));
      if (this.now() - this.lastPurge >= PURGE_EVERY_MS) {
        this.lastPurge = this.now();
        this.purge.run(this.cutoff());
      }
    })();
    for (const r of rows) if (this.pending.get(r.id) === r) this.pending.delete(r.id);
  }

  /** A stored response of `owner`, unless unknown, deleted or past the retention. */
  get(id: string, owner: string): StoredResponse | undefined {
    let r = this.pending.get(id);
    if (!r) {
      const row = this.select.get(id) as Row | undefined;
      if (!row) return undefined;
      r = {
        id: row.id,
        owner: row.owner,
        createdAt: row.created_at,
        previousResponseId: row.previous_response_id,
        response: JSON.parse(row.response) as Record<string, unknown>,
        inputItems: JSON.parse(row.input_items) as Array<Record<string, unknown>>,
      };
    }
    if (r.owner !== owner || r.createdAt < this.cutoff()) return undefined;
    return r;
  }

  delete(id: string, owner: string): boolean {
    if (!this.get(id, owner)) return false;
    this.pending.delete(id);
    this.remove.run(id);
    return true;
  }

  /**
   * The conversation so far, as items, for a request with previous_response_id: every response of the
   * chain from the oldest, its input items then its output. Undefined when any link is gone.
   */
  history(id: string, owner: string): Array<Record<string, unknown>> | undefined {
    const chain: StoredResponse[] = [];
    for (let cur: string | null = id; cur !== null && chain.length < MAX_CHAIN; ) {
      const r = this.get(cur, owner);
      if (!r) return chain.length ? flatten(chain) : undefined;
      chain.push(r);
      cur = r.previousResponseId;
    }
    return flatten(chain);
  }
}

function flatten(newestFirst: StoredResponse[]): Array<Record<string, unknown>> {
  const items: Array<Record<string, unknown>> = [];
  for (let i = newestFirst.length - 1; i >= 0; i--) {
    const r = newestFirst[i]!;
    items.push(...r.inputItems);
    const output = r.response.output;
    if (Array.isArray(output)) items.push(...(output as Array<Record<string, unknown>>));
  }
  return items;
}
