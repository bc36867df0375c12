/**
 * @module The JWT signing secret: aisbf.json `auth.jwt_secret` (`${ENV}` allowed) or, when unset, a
 * random secret created once in `<config dir>/jwt.secret` (0600) and read back on later starts — so
 * tokens survive restarts and no default secret is ever shipped.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const JWT_SECRET_FILE = 'jwt.secret';

export function loadJwtSecret(configured: string | undefined, configDir: string): Uint8Array {
  if (configured) return new TextEncoder().encode(configured);
  const file = join(configDir, JWT_SECRET_FILE);
  const read = () => {
    const text = readFileSync(file, 'utf8').trim();
    if (text.length < 32) throw new Error(`${file} holds fewer than 32 characters; delete it to have a new secret generated`);
    return new TextEncoder().encode(text);
  };
  try {
    return read();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  try {
    // 'wx': when the daemon and a CLI command race to create it, one wins and the other reads it.
    writeFileSync(file, `${randomBytes(48).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return read();
}
