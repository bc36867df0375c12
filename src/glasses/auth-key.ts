/**
 * @module Profile auth keys are stored only as scrypt hashes with a per-profile salt. Verifying
 * costs tens of milliseconds (on the libuv pool, off the event loop), so a successful check is
 * remembered in memory — tied to the stored hash, so a key changed or a profile deleted from the CLI
 * takes effect on the next request.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

const N = 16384;
const R = 8;
const P = 1;
const LEN = 32;

function scryptAsync(key: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(key, salt, LEN, { N: n, r, p, maxmem: 64 * 1024 * 1024 }, (err, out) => (err ? reject(err) : resolve(out)));
  });
}

/** `scrypt$N$r$p$<salt b64>$<hash b64>` */
export async function hashAuthKey(key: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(key, salt, N, R, P);
  return ['scrypt', N, R, P, salt.toString('base64'), hash.toString('base64')].join('$');
}

export async function verifyAuthKey(key: string, stored: string): Promise<boolean> {
  const [alg, n, r, p, salt, hash] = stored.split('$');
  if (alg !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scryptAsync(key, Buffer.from(salt, 'base64'), Number(n), Number(r), Number(p));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Remembers (stored hash, key) pairs that verified, as a keyed digest — never the key itself. */
export class AuthKeyVerifier {
  private readonly pepper = randomBytes(32);
  private readonly ok = new Map<string, Buffer>();

  constructor(private readonly maxEntries = 1000) {}

  private digest(key: string): Buffer {
    return createHash('sha256').update(this.pepper).update(key, 'utf8').digest();
  }

  async verify(key: string, stored: string): Promise<boolean> {
    if (!key) return false;
    const d = this.digest(key);
    const known = this.ok.get(stored);
    if (known && timingSafeEqual(known, d)) return true;
    if (!(await verifyAuthKey(key, stored))) return false;
    if (this.ok.size >= this.maxEntries) this.ok.delete(this.ok.keys().next().value as string);
    this.ok.set(stored, d);
    return true;
  }
}
