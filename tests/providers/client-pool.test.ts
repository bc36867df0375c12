import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../src/providers/client-pool.js';
import { floatsToBase64 } from '../../src/providers/float32-base64.js';

describe('ClientPool', () => {
  it('builds one client per key for its endpoint, and reuses it', () => {
    const built: Array<[string | undefined, string]> = [];
    const pool = new ClientPool('http://up/v1', (key, endpoint) => {
      built.push([key, endpoint]);
      return { key };
    });
    const a = pool.get('k1');
    expect(pool.get('k1')).toBe(a);
    expect(pool.get('k2')).not.toBe(a);
    expect(pool.get(undefined)).toEqual({ key: undefined });
    expect(pool.get('k1')).toBe(a);
    expect(built).toEqual([
      ['k1', 'http://up/v1'],
      ['k2', 'http://up/v1'],
      [undefined, 'http://up/v1'],
    ]);
  });

  it('is bounded and evicts the least recently used client', () => {
    let n = 0;
    const pool = new ClientPool('e', () => ({ n: n++ }), 2);
    const a = pool.get('a');
    pool.get('b');
    expect(pool.get('a')).toBe(a); // a is now the most recently used
    pool.get('c'); // evicts b
    expect(pool.size).toBe(2);
    expect(pool.get('a')).toBe(a);
    expect(pool.get('b')).toEqual({ n: 3 }); // rebuilt
  });
});

describe('floatsToBase64', () => {
  it('encodes little-endian float32, as OpenAI answers encoding_format "base64"', () => {
    const b64 = floatsToBase64([1, -2.5, 0.125]);
    const buf = Buffer.from(b64, 'base64');
    expect(buf.byteLength).toBe(12);
    expect([buf.readFloatLE(0), buf.readFloatLE(4), buf.readFloatLE(8)]).toEqual([1, -2.5, 0.125]);
    expect(floatsToBase64([1])).toBe('AACAPw==');
  });
});
