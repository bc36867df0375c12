/**
 * @module Users of a shared gateway (CONTRACTS §7.2 item 20): a name, a role and an scrypt password
 * hash. No user is shipped; `aisbf user add` creates the first. Every change bumps the auth revision,
 * so a running daemon drops a deleted user's tokens at once.
 */
import { migrate, type Db, type Migration } from './db.js';
import { AuthRevision } from './auth-revision.js';

export const USER_MIGRATIONS: readonly Migration[] = [
  {
    id: 'users-001-create',
    sql: `CREATE TABLE users (
      name TEXT PRIMARY KEY,
      role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
      password_hash TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    )`,
  },
];

export type Role = 'admin' | 'user';
export const ROLES: readonly Role[] = ['admin', 'user'];
/** Letters, digits and _ . @ - (up to 64): safe in logs, URLs and usage records. */
export const USER_NAME_RE = /^[A-Za-z0-9_.@-]{1,64}$/;

export interface UserRecord {
  name: string;
  role: Role;
  passwordHash: string;
  /** ms since epoch. */
  createdAt: number;
  updatedAt: number;
}

interface Row {
  name: string;
  role: Role;
  password_hash: string;
  created_at: number;
  updated_at: number;
}

const toRecord = (r: Row): UserRecord => ({ name: r.name, role: r.role, passwordHash: r.password_hash, createdAt: r.created_at, updatedAt: r.updated_at });

export class UserStore {
  readonly revision: AuthRevision;
  private readonly db: Db;
  private readonly getStmt;
  private readonly allStmt;
  private readonly insertStmt;
  private readonly deleteStmt;
  private readonly passwdStmt;
  private readonly roleStmt;

  constructor(db: Db, revision = new AuthRevision(db)) {
    migrate(db, USER_MIGRATIONS);
    this.db = db;
    this.revision = revision;
    this.getStmt = db.prepare<[string], Row>('SELECT * FROM users WHERE name = ?');
    this.allStmt = db.prepare<[], Row>('SELECT * FROM users ORDER BY name');
    this.insertStmt = db.prepare<[string, string, string, number, number]>('INSERT INTO users (name, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)');
    this.deleteStmt = db.prepare<[string]>('DELETE FROM users WHERE name = ?');
    this.passwdStmt = db.prepare<[string, number, string]>('UPDATE users SET password_hash = ?, updated_at = ? WHERE name = ?');
    this.roleStmt = db.prepare<[string, number, string]>('UPDATE users SET role = ?, updated_at = ? WHERE name = ?');
  }

  get(name: string): UserRecord | undefined {
    const r = this.getStmt.get(name);
    return r ? toRecord(r) : undefined;
  }

  list(): UserRecord[] {
    return this.allStmt.all().map(toRecord);
  }

  /** false when the name is taken. */
  add(name: string, role: Role, passwordHash: string, now = Date.now()): boolean {
    return this.db.transaction(() => {
      if (this.getStmt.get(name)) return false;
      this.insertStmt.run(name, role, passwordHash, now, now);
      this.revision.bump();
      return true;
    }).immediate();
  }

  /** false when there is no such user. */
  delete(name: string): boolean {
    return this.changeOne(() => this.deleteStmt.run(name).changes);
  }

  setPassword(name: string, passwordHash: string, now = Date.now()): boolean {
    return this.changeOne(() => this.passwdStmt.run(passwordHash, now, name).changes);
  }

  setRole(name: string, role: Role, now = Date.now()): boolean {
    return this.changeOne(() => this.roleStmt.run(role, now, name).changes);
  }

  private changeOne(run: () => number): boolean {
    return this.db.transaction(() => {
      if (run() !== 1) return false;
      this.revision.bump();
      return true;
    })();
  }
}
