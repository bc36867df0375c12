/**
 * @module Password hashing for users: scrypt (node:crypto, on the libuv pool) with a per-user salt,
 * stored as `scrypt$N$r$p$salt$hash`, compared in constant time. Only logins pay for it; API keys
 * are SHA-256 and never go through here.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

const N = 16384;
const R = 8;
const P = 1;
const LEN = 32;
export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;

function scryptAsync(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, LEN, { N: n, r, p, maxmem: 64 * 1024 * 1024 }, (err, out) => (err ? reject(err) : resolve(out)));
  });
}

/** A salted scrypt hash of a secret: `scrypt$N$r$p$<salt b64>$<hash b64>` (user passwords, glasses profile keys). */
export async function scryptHash(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(secret, salt, N, R, P);
  return ['scrypt', N, R, P, salt.toString('base64'), hash.toString('base64')].join('$');
}

/** Whether `secret` matches a `scryptHash` result, compared in constant time. */
export async function scryptVerify(secret: string, stored: string): Promise<boolean> {
  const [alg, n, r, p, salt, hash] = stored.split('$');
  if (alg !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scryptAsync(secret, Buffer.from(salt, 'base64'), Number(n), Number(r), Number(p));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export const hashPassword = scryptHash;

/** A hash no password matches: unknown users cost the same scrypt as known ones (no timing oracle). */
const DUMMY = `scrypt$${N}$${R}$${P}$${randomBytes(16).toString('base64')}$${randomBytes(LEN).toString('base64')}`;

export async function verifyPassword(password: string, stored: string | undefined): Promise<boolean> {
  if (password.length > MAX_PASSWORD_LENGTH) return false;
  const ok = await scryptVerify(password, stored ?? DUMMY);
  return stored !== undefined && ok;
}

/** Why a new password is refused, or undefined when it is fine. */
export function passwordProblem(password: string): string | undefined {
  if (password.length < MIN_PASSWORD_LENGTH) return `the password must be at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > MAX_PASSWORD_LENGTH) return `the password must be at most ${MAX_PASSWORD_LENGTH} characters`;
  if (password.includes('\0')) return 'the password contains a NUL character';
  return undefined;
}
