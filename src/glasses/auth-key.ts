/**
 * @module Profile auth keys are stored only as scrypt hashes with a per-profile salt. Verifying
 * costs tens of milliseconds (on the libuv pool, off the event loop), so a successful check is
 * remembered in memory — tied to the stored hash, so a key changed or a profile deleted from the CLI
 * takes effect on the next request.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { scryptHash, scryptVerify } from '../identity/passwords.js';

/** `scrypt$N$r$p$<salt b64>$<hash b64>` */
export const hashAuthKey = scryptHash;
export const verifyAuthKey = scryptVerify;

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
