/**
 * @module The catalogue's answers, kept across restarts: the rates @pydantic/genai-prices gave for a
 * (provider, model), stored as JSON under the catalogue's version. Loading the catalogue costs ~70 ms
 * of the event loop and ~20 MB of RSS for the life of the process (measured, Node 20); with its
 * answers here a restarted daemon serves and prices its usual models without loading it at all.
 * Rows of another catalogue version are deleted when the store opens, and the table is bounded: a
 * client that invents model names cannot grow it without limit.
 */
import { migrate, withBusyTimeout, type Db, type Migration } from './db.js';

export const PRICE_RATES_MIGRATIONS: readonly Migration[] = [
  {
    id: 'price-rates-001-create',
    sql: `
      CREATE TABLE price_rates (
        key TEXT PRIMARY KEY,
        catalogue TEXT NOT NULL,
        rates TEXT NOT NULL,
        saved_at INTEGER NOT NULL
      );
    `,
  },
];

/** Rows kept at most (the price book's own in-memory memo has the same bound). */
export const MAX_PRICE_ROWS = 5000;
/** A write waits this long for another process's lock, then gives up (the answer is kept next time). */
const WRITE_BUSY_MS = 50;

export class PriceRatesStore {
  private readonly getStmt;
  private readonly putStmt;
  private rows: number;

  /** Opens the table for `catalogue` (the catalogue's version) and drops other versions' rows. */
  constructor(
    private readonly db: Db,
    readonly catalogue: string,
  ) {
    migrate(db, PRICE_RATES_MIGRATIONS);
    db.prepare('DELETE FROM price_rates WHERE catalogue <> ?').run(catalogue);
    this.rows = (db.prepare('SELECT COUNT(*) AS n FROM price_rates').get() as { n: number }).n;
    this.getStmt = db.prepare<[string, string]>('SELECT rates FROM price_rates WHERE key = ? AND catalogue = ?').pluck();
    this.putStmt = db.prepare('INSERT OR REPLACE INTO price_rates (key, catalogue, rates, saved_at) VALUES (?, ?, ?, ?)');
  }

  /** The stored JSON for `key`, or undefined (also when the database cannot answer: a cache miss). */
  get(key: string): string | undefined {
    try {
      return this.getStmt.get(key, this.catalogue) as string | undefined;
    } catch {
      return undefined;
    }
  }

  /** Stores `json` under `key`; false when the table is full or the database busy (nothing else happens). */
  put(key: string, json: string): boolean {
    if (this.rows >= MAX_PRICE_ROWS) return false;
    try {
      withBusyTimeout(this.db, WRITE_BUSY_MS, () => this.putStmt.run(key, this.catalogue, json, Date.now()));
      this.rows++; // a key is put only after a miss, so a replaced row seldom counts twice
      return true;
    } catch {
      // A cache: busy, read-only or full, the rates were still answered; the next process asks again.
      return false;
    }
  }
}
