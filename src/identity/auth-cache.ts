/**
 * @module The in-memory view of API keys and users that every request reads: key hash → a ready
 * Identity, user name → role. Loaded once, and again only when the auth revision moved (a CLI
 * command or another process changed a key or a user) — no SQLite read per request, no hashing
 * beyond one SHA-256 of the presented key.
 */
import type { Identity } from '../pipeline/request-meta.js';
import type { ApiKeyRecord, ApiKeyStore } from '../store/api-keys.js';
import type { Role, UserStore } from '../store/users.js';
import type { AuthRevision } from '../store/auth-revision.js';
import { compileScope, type ScopeMatcher } from './model-scope.js';

export interface CachedKey {
  record: ApiKeyRecord;
  identity: Identity;
  /** undefined: every target is allowed. */
  scope?: ScopeMatcher;
}

export interface CachedUser {
  role: Role;
  /** ms of the last password or role change: tokens carrying another version are refused. */
  version: number;
}

export class AuthCache {
  private byHash = new Map<string, CachedKey>();
  /** Keys already seen, by their own text: a repeat caller costs a map lookup, not a SHA-256. */
  private byPresented = new Map<string, CachedKey>();
  private users = new Map<string, CachedUser>();
  /** Identity → its compiled scope, for the limits stage. */
  readonly scopes = new WeakMap<Identity, ScopeMatcher>();
  /** SHA-256 of keys revoked on another instance (storage.redis); refused here too. */
  private revokedElsewhere: ReadonlySet<string> = new Set();
  /** Told which keys a reload found newly revoked, so other instances can refuse them too. */
  onRevoked: ((keyHashes: string[]) => void) | undefined;

  constructor(
    private readonly keys: ApiKeyStore,
    private readonly userStore: UserStore,
    private readonly revision: AuthRevision,
  ) {
    this.reload();
  }

  /** Re-reads keys and users when another connection changed them; a few µs otherwise. */
  refreshIfChanged(): void {
    if (this.revision.changed()) this.reload();
  }

  reload(): void {
    const before = this.byHash;
    const byHash = new Map<string, CachedKey>();
    for (const record of this.keys.list()) {
      const identity: Identity = Object.freeze({
        kind: 'key',
        role: 'user',
        keyId: record.id,
        keyName: record.name,
        user: record.user ?? undefined,
        models: record.models ?? undefined,
        limits:
          record.rpm ?? record.tpm ?? record.maxParallel ?? record.budgetUsd
            ? Object.freeze({
                rpm: record.rpm ?? undefined,
                tpm: record.tpm ?? undefined,
                maxParallel: record.maxParallel ?? undefined,
                budgetUsd: record.budgetUsd ?? undefined,
                budgetPeriod: record.budgetPeriod ?? undefined,
              })
            : undefined,
      }) as Identity;
      const scope = record.models ? compileScope(record.models) : undefined;
      if (scope) this.scopes.set(identity, scope);
      byHash.set(record.keyHash, { record, identity, scope });
    }
    const users = new Map<string, CachedUser>();
    for (const u of this.userStore.list()) users.set(u.name, { role: u.role, version: u.updatedAt });
    this.byHash = byHash;
    this.byPresented = new Map();
    this.users = users;
    if (this.onRevoked) {
      const revoked: string[] = [];
      for (const [hash, k] of byHash) if (k.record.revokedAt !== null && before.get(hash)?.record.revokedAt == null) revoked.push(hash);
      if (revoked.length) this.onRevoked(revoked);
    }
  }

  /** Keys revoked on other instances (by SHA-256): this one answers them as revoked too. */
  setRevokedElsewhere(keyHashes: ReadonlySet<string>): void {
    this.revokedElsewhere = keyHashes;
    this.byPresented = new Map();
  }

  /** The key whose text is `presented`; `hash` computes its SHA-256 on a first sight only. */
  key(presented: string, hash: (key: string) => string): CachedKey | undefined {
    const seen = this.byPresented.get(presented);
    if (seen) return seen;
    let hit = this.byHash.get(hash(presented));
    if (hit && hit.record.revokedAt === null && this.revokedElsewhere.has(hit.record.keyHash)) {
      hit = { ...hit, record: { ...hit.record, revokedAt: 0 } };
    }
    // Only real keys are remembered, so random guesses cannot grow the map.
    if (hit) this.byPresented.set(presented, hit);
    return hit;
  }

  /** A key by its id (a batch's creator, looked up again when its lines run); undefined when gone. */
  keyById(id: string): CachedKey | undefined {
    for (const k of this.byHash.values()) if (k.record.id === id) return k;
    return undefined;
  }

  user(name: string): CachedUser | undefined {
    return this.users.get(name);
  }
}
