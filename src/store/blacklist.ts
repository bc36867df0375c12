/**
 * @module The glasses app's IP blacklist (Frame-Backend's `blacklisted_ips`). Read on every request —
 * a primary-key lookup — so an IP added or lifted from the CLI while the daemon runs takes effect at
 * once.
 */
import { migrate, type Db, type Migration } from './db.js';

export const BLACKLIST_MIGRATIONS: readonly Migration[] = [
  {
    id: 'glasses-blacklist-001-create',
    sql: `CREATE TABLE glasses_blacklist (
      ip TEXT PRIMARY KEY,
      blacklisted_at INTEGER NOT NULL,
      reason TEXT NOT NULL DEFAULT 'Manual blacklist'
    )`,
  },
];

export interface BlacklistEntry {
  ip: string;
  /** ms since epoch (UTC). */
  blacklistedAt: number;
  reason: string;
}

/** IPv4-mapped IPv6 (`::ffff:1.2.3.4`) is the same client as `1.2.3.4`; case does not matter in IPv6. */
export function normalizeIp(ip: string): string {
  const t = ip.trim().toLowerCase();
  return t.startsWith('::ffff:') && t.includes('.') ? t.slice(7) : t;
}

export class BlacklistStore {
  private readonly lookup;
  private readonly upsert;
  private readonly del;
  private readonly all;

  constructor(db: Db) {
    migrate(db, BLACKLIST_MIGRATIONS);
    this.lookup = db.prepare<[string], { ip: string }>('SELECT ip FROM glasses_blacklist WHERE ip = ?');
    this.upsert = db.prepare<[string, number, string]>(
      'INSERT INTO glasses_blacklist (ip, blacklisted_at, reason) VALUES (?, ?, ?) ON CONFLICT(ip) DO UPDATE SET reason = excluded.reason',
    );
    this.del = db.prepare<[string]>('DELETE FROM glasses_blacklist WHERE ip = ?');
    this.all = db.prepare<[], { ip: string; blacklisted_at: number; reason: string }>('SELECT * FROM glasses_blacklist ORDER BY blacklisted_at');
  }

  has(ip: string): boolean {
    return this.lookup.get(normalizeIp(ip)) !== undefined;
  }

  add(ip: string, reason = 'Manual blacklist', now = Date.now()): void {
    this.upsert.run(normalizeIp(ip), now, reason);
  }

  /** false when the IP was not listed. */
  remove(ip: string): boolean {
    return this.del.run(normalizeIp(ip)).changes === 1;
  }

  list(): BlacklistEntry[] {
    return this.all.all().map((r) => ({ ip: r.ip, blacklistedAt: r.blacklisted_at, reason: r.reason }));
  }
}
