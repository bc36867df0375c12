/**
 * @module The glasses app's profiles table (Frame-Backend's `profiles`, CONTRACTS.md §2 and §6.12–13):
 * the auth key only as a salted scrypt hash, the provider keys only as an AES-256-GCM blob (plus the
 * NAMES of the keys that are set, so reports need no decryption), the custom prompt and counters.
 * Plain SQL; hashing and sealing happen in src/glasses before values reach here.
 */
import { migrate, type Db, type Migration } from './db.js';

export const PROFILE_MIGRATIONS: readonly Migration[] = [
  {
    id: 'glasses-profiles-001-create',
    sql: `CREATE TABLE glasses_profiles (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      username TEXT NOT NULL UNIQUE,
      auth_hash TEXT NOT NULL,
      api_keys_sealed TEXT NOT NULL DEFAULT '',
      api_key_names TEXT NOT NULL DEFAULT '[]',
      prompt TEXT,
      created_at INTEGER NOT NULL,
      last_activity INTEGER,
      total_requests INTEGER NOT NULL DEFAULT 0
    )`,
  },
];

export interface ProfileRecord {
  id: number;
  username: string;
  authHash: string;
  /** '' when no provider keys are set. */
  apiKeysSealed: string;
  apiKeyNames: string[];
  /** null: the configured default prompt applies. */
  prompt: string | null;
  /** ms since epoch (UTC). */
  createdAt: number;
  lastActivity: number | null;
  totalRequests: number;
}

interface Row {
  id: number;
  username: string;
  auth_hash: string;
  api_keys_sealed: string;
  api_key_names: string;
  prompt: string | null;
  created_at: number;
  last_activity: number | null;
  total_requests: number;
}

function toRecord(r: Row): ProfileRecord {
  let names: string[] = [];
  try {
    names = JSON.parse(r.api_key_names) as string[];
  } catch {
    names = [];
  }
  return {
    id: r.id,
    username: r.username,
    authHash: r.auth_hash,
    apiKeysSealed: r.api_keys_sealed,
    apiKeyNames: names,
    prompt: r.prompt,
    createdAt: r.created_at,
    lastActivity: r.last_activity,
    totalRequests: r.total_requests,
  };
}

/** Usernames appear in URLs (`/prompt-{username}`) and reports: a conservative alphabet. */
export const USERNAME_RE = /^[A-Za-z0-9_.@-]{1,64}$/;

export class ProfileStore {
  private readonly byName;
  private readonly all;
  private readonly insert;
  private readonly updateKeys;
  private readonly updatePrompt;
  private readonly updateAuth;
  private readonly countRequest;
  private readonly remove;

  constructor(private readonly db: Db) {
    migrate(db, PROFILE_MIGRATIONS);
    this.byName = db.prepare<[string], Row>('SELECT * FROM glasses_profiles WHERE username = ?');
    this.all = db.prepare<[], Row>('SELECT * FROM glasses_profiles ORDER BY username');
    this.insert = db.prepare<[string, string, number]>('INSERT INTO glasses_profiles (username, auth_hash, created_at) VALUES (?, ?, ?) ON CONFLICT(username) DO NOTHING');
    this.updateKeys = db.prepare<[string, string, number, string]>('UPDATE glasses_profiles SET api_keys_sealed = ?, api_key_names = ?, last_activity = ? WHERE username = ?');
    this.updatePrompt = db.prepare<[string | null, string]>('UPDATE glasses_profiles SET prompt = ? WHERE username = ?');
    this.updateAuth = db.prepare<[string, string]>('UPDATE glasses_profiles SET auth_hash = ? WHERE username = ?');
    this.countRequest = db.prepare<[number, string]>('UPDATE glasses_profiles SET total_requests = total_requests + 1, last_activity = ? WHERE username = ?');
    this.remove = db.prepare<[string]>('DELETE FROM glasses_profiles WHERE username = ?');
  }

  get(username: string): ProfileRecord | undefined {
    const r = this.byName.get(username);
    return r ? toRecord(r) : undefined;
  }

  list(): ProfileRecord[] {
    return this.all.all().map(toRecord);
  }

  /** false when the username is taken. */
  create(username: string, authHash: string, now = Date.now()): boolean {
    return this.insert.run(username, authHash, now).changes === 1;
  }

  setAuthHash(username: string, authHash: string): boolean {
    return this.updateAuth.run(authHash, username).changes === 1;
  }

  setApiKeys(username: string, sealed: string, names: readonly string[], now = Date.now()): boolean {
    return this.updateKeys.run(sealed, JSON.stringify(names), now, username).changes === 1;
  }

  /** null restores the default prompt. */
  setPrompt(username: string, prompt: string | null): boolean {
    return this.updatePrompt.run(prompt, username).changes === 1;
  }

  recordRequest(username: string, now = Date.now()): void {
    this.countRequest.run(now, username);
  }

  delete(username: string): boolean {
    return this.remove.run(username).changes === 1;
  }
}
