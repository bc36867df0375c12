/**
 * @module Who is calling (CONTRACTS §7.2): turns the credentials a request brought into an Identity —
 * an `sk-aisbf-` key (SHA-256 → the in-memory cache), an access JWT (verified once, then remembered
 * until it expires), or a static `auth.tokens` entry — and issues tokens on login. Used by the
 * pipeline's identity stage and by the middleware that guards routes outside the pipeline.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AuthConfig } from '../config/auth-config.js';
import { HttpError } from '../errors/http-error.js';
import { ANONYMOUS, type Credentials, type Identity } from '../pipeline/request-meta.js';
import type { ApiKeyStore } from '../store/api-keys.js';
import type { UserStore } from '../store/users.js';
import type { CounterStore } from '../store/counters.js';
import { KEY_PREFIX, hashApiKey } from './api-key-format.js';
import type { AuthCache } from './auth-cache.js';
import type { ScopeMatcher } from './model-scope.js';
import { loadJwtSecret } from './jwt-secret.js';
import { signToken, unauthorized, verifyToken } from './jwt.js';
import { verifyPassword } from './passwords.js';

export interface IdentityServiceOptions {
  /** The live auth config (changes on reload). */
  auth(): AuthConfig;
  configDir: string;
  cache: AuthCache;
  keys: ApiKeyStore;
  users: UserStore;
  counters: CounterStore;
  clock?: () => number;
}

export interface IssuedTokens {
  access_token: string;
  refresh_token: string;
  token_type: 'bearer';
  expires_in: number;
}

const STATIC_TOKEN_MESSAGE = 'Missing or invalid proxy token: send Authorization: Bearer <token> (an sk-aisbf- API key, an access token from POST /auth/token, or one of aisbf.json auth.tokens).';
const STATIC_IDENTITY: Identity = Object.freeze({ kind: 'static', role: 'admin' }) as Identity;
const JWT_CACHE_MAX = 10_000;
const LOGIN_WINDOW_MS = 60_000;

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Tokens may be written as sha256 hex (recommended) or plain; both are compared as digests. */
function hashTokens(tokens: readonly string[]): Buffer[] {
  return tokens.map((t) => (/^[0-9a-f]{64}$/i.test(t) ? Buffer.from(t, 'hex') : sha256(t)));
}

interface AuthDerived {
  tokens: Buffer[];
  secret: Uint8Array;
  accessSeconds: number;
  refreshSeconds: number;
}

export class IdentityService {
  readonly cache: AuthCache;
  readonly keys: ApiKeyStore;
  readonly users: UserStore;
  readonly counters: CounterStore;
  private readonly opts: IdentityServiceOptions;
  private readonly now: () => number;
  /** Per auth config object (a reload makes a new one): hashed static tokens, the secret, lifetimes. */
  private readonly derived = new WeakMap<AuthConfig, AuthDerived>();
  /** Verified access tokens → identity and expiry (ms), so a JWT is checked once, not per request. */
  private readonly jwtCache = new Map<string, { identity: Identity; ver: number; expMs: number; secret: Uint8Array }>();

  constructor(opts: IdentityServiceOptions) {
    this.opts = opts;
    this.cache = opts.cache;
    this.keys = opts.keys;
    this.users = opts.users;
    this.counters = opts.counters;
    this.now = opts.clock ?? Date.now;
  }

  get enabled(): boolean {
    return this.opts.auth().enabled;
  }

  private config(): AuthDerived {
    const auth = this.opts.auth();
    let d = this.derived.get(auth);
    if (!d) {
      d = {
        tokens: hashTokens(auth.tokens),
        secret: loadJwtSecret(auth.jwt_secret, this.opts.configDir),
        accessSeconds: Math.round(auth.access_token_minutes * 60),
        refreshSeconds: Math.round(auth.refresh_token_days * 86_400),
      };
      this.derived.set(auth, d);
    }
    return d;
  }

  /**
   * The identity behind `creds`; ANONYMOUS when auth is off. Throws 401 for missing, unknown,
   * revoked or expired credentials and 400 for a credential no key could be (a `/` or NUL in it).
   * Synchronous for keys and static tokens; a JWT not seen before is verified asynchronously.
   */
  resolve(creds: Credentials | undefined): Identity | Promise<Identity> {
    if (!this.opts.auth().enabled) return ANONYMOUS;
    const fromBearer = creds?.bearer !== undefined && creds.bearer !== '';
    const presented = fromBearer ? creds!.bearer! : creds?.apiKey;
    if (!presented) throw unauthorized(STATIC_TOKEN_MESSAGE);
    const header = fromBearer ? 'Authorization' : 'X-API-Key';
    if (presented.startsWith(KEY_PREFIX)) return this.resolveKey(presented, header);
    const cfg = this.config();
    if (cfg.tokens.length > 0 && this.isStaticToken(presented, cfg.tokens)) return STATIC_IDENTITY;
    checkShape(presented, header);
    if (presented.split('.').length === 3) return this.resolveJwt(presented, cfg.secret);
    throw unauthorized(STATIC_TOKEN_MESSAGE);
  }

  private isStaticToken(token: string, tokens: readonly Buffer[]): boolean {
    const digest = sha256(token);
    let ok = false;
    // Every entry is compared, so the time taken does not say which one matched.
    for (const t of tokens) if (t.length === digest.length && timingSafeEqual(t, digest)) ok = true;
    return ok;
  }

  private resolveKey(key: string, header: string): Identity {
    checkShape(key, header);
    this.cache.refreshIfChanged();
    // Looked up by SHA-256 (what is stored); equal hashes mean equal keys.
    const hit = this.cache.key(key, hashApiKey);
    if (!hit) throw unauthorized('Invalid API key: no such key (aisbf key list shows the keys)');
    if (hit.record.revokedAt !== null) throw unauthorized('Invalid API key: this key was revoked', 'key_revoked');
    if (hit.record.expiresAt !== null && hit.record.expiresAt <= this.now()) throw unauthorized('Invalid API key: this key has expired', 'key_expired');
    return hit.identity;
  }

  private async resolveJwt(token: string, secret: Uint8Array): Promise<Identity> {
    const now = this.now();
    this.cache.refreshIfChanged();
    const hit = this.jwtCache.get(token);
    if (hit && hit.secret === secret) {
      if (hit.expMs <= now) {
        this.jwtCache.delete(token);
        throw unauthorized('Token has expired', 'token_expired');
      }
      return this.checkUser(hit.identity, hit.ver);
    }
    const claims = await verifyToken(secret, token, 'access', now);
    const identity = this.checkUser(Object.freeze({ kind: 'user', role: claims.role, user: claims.sub }) as Identity, claims.ver);
    if (this.jwtCache.size >= JWT_CACHE_MAX) this.jwtCache.delete(this.jwtCache.keys().next().value as string);
    this.jwtCache.set(token, { identity, ver: claims.ver, expMs: claims.exp * 1000, secret });
    return identity;
  }

  /** A token outlives neither its user nor the user's last password or role change. */
  private checkUser(identity: Identity, ver: number): Identity {
    const u = this.cache.user(identity.user!);
    if (!u) throw unauthorized(`Invalid token: user "${identity.user}" no longer exists`);
    if (ver !== u.version || u.role !== identity.role) throw unauthorized('Invalid token: the user changed their password or role since it was issued; log in again');
    return identity;
  }

  /** POST /auth/token: checks the password (with the brute-force limit) and issues both tokens. */
  async login(username: string, password: string, clientIp: string): Promise<IssuedTokens> {
    const max = this.opts.auth().max_login_failures_per_minute;
    const now = this.now();
    const userKey = `login:user:${username.slice(0, 128)}`;
    const ipKey = `login:ip:${clientIp}`;
    for (const k of [userKey, ipKey]) {
      const r = await this.counters.tryConsume(k, LOGIN_WINDOW_MS, max, 0, now);
      if (!r.ok) {
        const secs = Math.max(1, Math.ceil(r.retryAfterMs / 1000));
        throw new HttpError(429, `Too many failed logins${k === userKey ? ' for this user' : ' from this address'}; try again in ${secs} s.`, {
          code: 'rate_limit_exceeded',
          headers: { 'retry-after': String(secs) },
        });
      }
    }
    const user = this.users.get(username);
    const ok = await verifyPassword(password, user?.passwordHash);
    if (!ok || !user) {
      await this.counters.add(userKey, LOGIN_WINDOW_MS, 1, now);
      await this.counters.add(ipKey, LOGIN_WINDOW_MS, 1, now);
      throw unauthorized('Incorrect username or password', 'invalid_credentials');
    }
    const cfg = this.config();
    return {
      access_token: await signToken(cfg.secret, user.name, user.role, user.updatedAt, 'access', cfg.accessSeconds, now),
      refresh_token: await signToken(cfg.secret, user.name, user.role, user.updatedAt, 'refresh', cfg.refreshSeconds, now),
      token_type: 'bearer',
      expires_in: cfg.accessSeconds,
    };
  }

  /** POST /auth/refresh: a new access token for a valid refresh token of a user that still exists. */
  async refresh(refreshToken: string): Promise<{ access_token: string; token_type: 'bearer'; expires_in: number }> {
    const cfg = this.config();
    const now = this.now();
    const claims = await verifyToken(cfg.secret, refreshToken, 'refresh', now);
    this.cache.refreshIfChanged();
    const u = this.cache.user(claims.sub);
    if (!u) throw unauthorized(`Invalid token: user "${claims.sub}" no longer exists`);
    if (claims.ver !== u.version) throw unauthorized('Invalid token: the user changed their password or role since it was issued; log in again');
    return { access_token: await signToken(cfg.secret, claims.sub, u.role, u.version, 'access', cfg.accessSeconds, now), token_type: 'bearer', expires_in: cfg.accessSeconds };
  }

  /**
   * The live identity of a caller stored earlier (a batch's creator, issue 16): the key's current
   * identity (scope, limits) or the user as they are now; 401 when the key was revoked or expired
   * or the user is gone. Static and anonymous callers come back as they were.
   */
  stillValid(stored: Identity): Identity {
    if (!this.opts.auth().enabled || stored.kind === 'anonymous' || stored.kind === 'static') return stored;
    this.cache.refreshIfChanged();
    if (stored.kind === 'key') {
      const hit = stored.keyId ? this.cache.keyById(stored.keyId) : undefined;
      if (!hit) throw unauthorized('Invalid API key: the key that made this batch no longer exists');
      if (hit.record.revokedAt !== null) throw unauthorized('Invalid API key: the key that made this batch was revoked', 'key_revoked');
      if (hit.record.expiresAt !== null && hit.record.expiresAt <= this.now()) throw unauthorized('Invalid API key: the key that made this batch has expired', 'key_expired');
      return hit.identity;
    }
    const u = stored.user ? this.cache.user(stored.user) : undefined;
    if (!u) throw unauthorized(`Invalid token: user "${stored.user ?? ''}" no longer exists`);
    return Object.freeze({ kind: 'user', role: u.role, user: stored.user }) as Identity;
  }

  /**
   * The model scope of a key identity (model lists show only what the key may call); undefined
   * when every target is allowed (no scope, a user token, a static token, auth off).
   */
  scopeOf(identity: Identity | undefined): ScopeMatcher | undefined {
    return identity?.kind === 'key' ? this.cache.scopes.get(identity) : undefined;
  }

  /** The admin API changed keys in this process: reload now (other processes see the revision). */
  invalidate(): void {
    this.cache.reload();
  }
}

/** A key or token never holds `/` or NUL; such a value is a client mistake, not a wrong key. */
function checkShape(value: string, header: string): void {
  if (value.includes('/') || value.includes('\0')) {
    throw new HttpError(400, `The ${header} header holds a malformed credential: API keys and tokens never contain "/" or NUL characters.`, { code: 'invalid_header', param: header });
  }
}
