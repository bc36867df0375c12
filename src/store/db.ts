/**
 * @module The embedded SQLite database (better-sqlite3, WAL) shared by every table family, and a tiny
 * migration runner: each family (health state, jobs, profiles …) owns its own ordered migrations.
 *
 * A transaction that reads before it writes runs `.immediate()`: it takes the write lock at BEGIN,
 * where the busy timeout applies. Deferred, its read takes a snapshot, and when it then writes while
 * another process (a cluster worker writing usage rows) holds or has moved past that snapshot, SQLite
 * answers SQLITE_BUSY or SQLITE_BUSY_SNAPSHOT at once, with no busy wait (waiting could deadlock).
 * Transactions that write first need nothing: their first statement waits for the lock.
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

/** How long a statement waits for a lock another process holds. */
const BUSY_TIMEOUT_MS = 5000;
/**
 * SQLite's page cache per connection, in KiB when negative. better-sqlite3 builds SQLite with 16 MB
 * (SQLITE_DEFAULT_CACHE_SIZE=-16000), and a daemon that appends usage rows fills it: ~2 MB of native
 * memory a minute at 200 req/s until 16 MB. SQLite's own default of 2 MB keeps what the request path
 * touches (the tail of the usage table and its indexes); the file stays in the OS page cache anyway.
 */
const CACHE_SIZE = -2000;
/** For a synchronous sleep between tries (openDatabase runs at start, before anything is served). */
const SLEEP = new Int32Array(new SharedArrayBuffer(4));

/**
 * Switches the file to WAL. On a fresh file that takes an exclusive lock, and when several processes
 * open it together (cluster workers starting) SQLite answers SQLITE_BUSY at once: it skips the busy
 * handler where waiting could deadlock. So this tries again for as long as a busy wait would; the
 * mode is kept in the file, so once one process has switched it the others find it done.
 */
function switchToWal(db: Db): void {
  const until = Date.now() + BUSY_TIMEOUT_MS;
  for (let pause = 2; ; pause = Math.min(pause * 2, 100)) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() >= until) throw err;
    }
    Atomics.wait(SLEEP, 0, 0, pause);
  }
}

export function openDatabase(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = new Database(path);
  // First: every later statement waits for a lock another process (a cluster worker starting beside
  // this one, a CLI command) holds instead of failing at once — all but the switch to WAL, below.
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  switchToWal(db);
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma(`cache_size = ${CACHE_SIZE}`);
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT (datetime(\'now\')))');
  return db;
}

/**
 * One connection's busy timeout, its pragmas prepared once: `db.pragma()` compiles its statement on
 * every call (10–14 µs each), and a usage batch made three of them, ~30 µs of every batch's stall of
 * the event loop (the same reason auth-revision.ts prepares `PRAGMA data_version`). A pragma that
 * sets a value answers a row, hence `get()` and not `run()`.
 */
class BusyTimeout {
  private readonly read: Database.Statement;
  /** One statement per value our code sets (a handful: the usage batch's, the price cache's, the default). */
  private readonly setters = new Map<number, Database.Statement>();

  constructor(private readonly db: Db) {
    this.read = db.prepare('PRAGMA busy_timeout').pluck();
  }

  get(): number {
    return Number(this.read.get()) || BUSY_TIMEOUT_MS;
  }

  set(ms: number): void {
    let stmt = this.setters.get(ms);
    if (!stmt) {
      // An integer we chose (never input), so it can be written into the statement.
      if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`busy timeout must be a whole number of ms, not ${ms}`);
      stmt = this.db.prepare(`PRAGMA busy_timeout = ${ms}`);
      this.setters.set(ms, stmt);
    }
    stmt.get();
  }
}
const BUSY_TIMEOUTS = new WeakMap<Db, BusyTimeout>();

/**
 * Runs `fn` with the connection's busy timeout lowered to `ms`, then restores it: a write off the
 * request path's critical work (a usage batch, a cached price) waits briefly for another process's
 * lock and gives up, instead of stalling the event loop for the connection's 5 s.
 */
export function withBusyTimeout<T>(db: Db, ms: number, fn: () => T): T {
  let busy = BUSY_TIMEOUTS.get(db);
  if (!busy) BUSY_TIMEOUTS.set(db, (busy = new BusyTimeout(db)));
  const previous = busy.get();
  busy.set(ms);
  try {
    return fn();
  } finally {
    busy.set(previous);
  }
}

/**
 * Applies the migrations not yet applied, each in its own transaction, in the order given. Several
 * processes may open a fresh database at once (cluster workers starting together): each migration
 * takes the write lock first (IMMEDIATE) and checks again under it, so exactly one process applies
 * it and the others see it applied — never "table … already exists".
 */
export function migrate(db: Db, migrations: readonly Migration[]): void {
  const applied = new Set((db.prepare('SELECT id FROM schema_migrations').all() as Array<{ id: string }>).map((r) => r.id));
  const isApplied = db.prepare('SELECT 1 FROM schema_migrations WHERE id = ?').pluck();
  const record = db.prepare('INSERT INTO schema_migrations (id) VALUES (?)');
  for (const m of migrations) {
    if (applied.has(m.id)) continue;
    db.transaction(() => {
      if (isApplied.get(m.id)) return;
      db.exec(m.sql);
      record.run(m.id);
    }).immediate();
  }
}
