/**
 * @module Random ids for things made per request (completion, message, item and tool-call ids): bytes
 * from a pool refilled from the CSPRNG 4 KiB at a time, as node's randomUUID does. A `randomBytes` call
 * per id asks the kernel every time (~5 µs each on the test VM; a stream made several).
 */
import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

/** `bytes` random bytes (at most 256) as hex or base64url text. */
export function randomToken(bytes: number, encoding: 'hex' | 'base64url' = 'hex'): string {
  if (bytes > 256) throw new RangeError('randomToken: at most 256 bytes');
  if (offset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const out = pool.toString(encoding, offset, offset + bytes);
  // Each byte is handed out once.
  offset += bytes;
  return out;
}
