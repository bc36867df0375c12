/**
 * @module The shape of an API key: `sk-aisbf-` + 43 base64url characters (256 random bits), its
 * SHA-256 (the only thing stored) and the short hint shown in lists.
 */
import { createHash, randomBytes } from 'node:crypto';

export const KEY_PREFIX = 'sk-aisbf-';
/** A `--key VALUE` given by hand: the prefix, then 16 to 200 URL-safe characters. */
export const KEY_RE = /^sk-aisbf-[A-Za-z0-9_-]{16,200}$/;

export function generateApiKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function keyHint(key: string): string {
  return `${key.slice(0, KEY_PREFIX.length + 4)}…${key.slice(-4)}`;
}

export function newKeyId(): string {
  return `key_${randomBytes(8).toString('hex')}`;
}
