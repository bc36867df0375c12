/**
 * @module Access and refresh tokens (CONTRACTS §7.2 item 21): HS256 JWTs with `sub`, `role`, `type`,
 * `iat`, `exp`, signed and verified by `jose` with the algorithm pinned (so `alg: none` and any other
 * algorithm are refused). Every failure is a 401 whose message says what was wrong.
 */
import type { errors as JoseErrors } from 'jose';
import { HttpError } from '../errors/http-error.js';
import type { Role } from '../store/users.js';

export type TokenType = 'access' | 'refresh';

export interface TokenClaims {
  sub: string;
  role: Role;
  type: TokenType;
  /** The user's version (ms of their last password or role change) when issued. */
  ver: number;
  /** Seconds since epoch. */
  iat: number;
  exp: number;
}

export interface TokenLifetimes {
  accessSeconds: number;
  refreshSeconds: number;
}

const ALG = 'HS256';

let joseLoad: Promise<typeof import('jose')> | undefined;
/** jose (~45 ms to load) comes in on the first token signed or verified, not at the server's start. */
const loadJose = () => (joseLoad ??= import('jose'));

export function unauthorized(message: string, code = 'invalid_api_key'): HttpError {
  return new HttpError(401, message, { code, headers: { 'www-authenticate': 'Bearer' } });
}

export async function signToken(secret: Uint8Array, sub: string, role: Role, ver: number, type: TokenType, lifetimeSeconds: number, nowMs = Date.now()): Promise<string> {
  const { SignJWT } = await loadJose();
  const iat = Math.floor(nowMs / 1000);
  return new SignJWT({ role, type, ver })
    .setProtectedHeader({ alg: ALG, typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt(iat)
    .setExpirationTime(iat + Math.max(1, Math.round(lifetimeSeconds)))
    .sign(secret);
}

/** Verifies signature, algorithm, expiry and `type`; throws a 401 HttpError naming the problem. */
export async function verifyToken(secret: Uint8Array, token: string, expected: TokenType, nowMs = Date.now()): Promise<TokenClaims> {
  const { jwtVerify, errors } = await loadJose();
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, secret, { algorithms: [ALG], currentDate: new Date(nowMs), requiredClaims: ['sub', 'iat', 'exp'] }));
  } catch (err) {
    // The same code as an expired token found in the identity cache, so a client can tell "log in again".
    throw unauthorized(describeJoseError(errors, err), err instanceof errors.JWTExpired ? 'token_expired' : 'invalid_api_key');
  }
  const { sub, role, type, ver, iat, exp } = payload;
  if (type !== 'access' && type !== 'refresh') throw unauthorized('Invalid token: it has no type claim (access or refresh)');
  if (type !== expected) throw unauthorized('Invalid token type', 'invalid_token_type');
  if (typeof sub !== 'string' || (role !== 'admin' && role !== 'user') || typeof ver !== 'number' || typeof iat !== 'number' || typeof exp !== 'number') {
    throw unauthorized('Invalid token: its claims are incomplete');
  }
  return { sub, role, type, ver, iat, exp };
}

function describeJoseError(errors: typeof JoseErrors, err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'Token has expired';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'Invalid token: only HS256-signed tokens are accepted';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'Invalid token: signature verification failed';
  if (err instanceof errors.JWTClaimValidationFailed) return `Invalid token: ${err.message}`;
  return 'Invalid token: not a well-formed JWT';
}
