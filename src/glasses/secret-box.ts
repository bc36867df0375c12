/**
 * @module Encryption at rest of a profile's provider keys: AES-256-GCM, a fresh 96-bit IV per seal,
 * the username as additional data (a sealed blob moved to another profile does not open). The key
 * comes from aisbf.json `glasses.encryption_key`, else env `AISBF_GLASSES_KEY`, else
 * `<configdir>/glasses.key`, generated on first use with mode 0600.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const KEY_FILE_NAME = 'glasses.key';

/**
 * Turns a configured key into 32 bytes: 64 hex characters or base64 of 32 bytes are used as they are;
 * anything else is treated as a passphrase and hashed (SHA-256).
 */
export function parseKeyMaterial(text: string): Buffer {
  const t = text.trim();
  if (/^[0-9a-f]{64}$/i.test(t)) return Buffer.from(t, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(t)) {
    const b = Buffer.from(t, t.includes('-') || t.includes('_') ? 'base64url' : 'base64');
    if (b.length === 32) return b;
  }
  return createHash('sha256').update(t, 'utf8').digest();
}

export interface KeySource {
  /** aisbf.json glasses.encryption_key, if set. */
  configured?: string;
  env?: NodeJS.ProcessEnv;
  /** The config dir, where glasses.key is kept when nothing is configured. */
  configDir: string;
}

/** Resolves the encryption key, creating `<configdir>/glasses.key` (0600) when none exists. */
export function loadEncryptionKey(src: KeySource): Buffer {
  if (src.configured) return parseKeyMaterial(src.configured);
  const fromEnv = (src.env ?? process.env).AISBF_GLASSES_KEY;
  if (fromEnv) return parseKeyMaterial(fromEnv);
  const file = join(src.configDir, KEY_FILE_NAME);
  try {
    return parseKeyMaterial(readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = randomBytes(32);
  try {
    // 'wx': if the daemon and the CLI race to create it, exactly one wins and the other reads it.
    writeFileSync(file, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return parseKeyMaterial(readFileSync(file, 'utf8'));
  }
}

const VERSION = 'v1';

export function seal(key: Buffer, plaintext: string, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
}

/** Opens a sealed value; throws when the key is wrong or the blob was altered or moved. */
export function open(key: Buffer, sealed: string, aad: string): string {
  const [version, iv, tag, ct] = sealed.split('.');
  if (version !== VERSION || iv === undefined || tag === undefined || ct === undefined) throw new Error('unknown sealed format');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
}
