import { describe, expect, it } from 'vitest';
import { randomToken } from '../src/random-id.js';

describe('randomToken', () => {
  it('gives hex and base64url text of the asked length', () => {
    expect(randomToken(12)).toMatch(/^[0-9a-f]{24}$/);
    expect(randomToken(12, 'base64url')).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(randomToken(24)).toHaveLength(48);
  });

  it('never hands out the same bytes twice, across many refills of its pool', () => {
    const seen = new Set<string>();
    // 20,000 × 12 bytes: the 4 KiB pool is refilled ~60 times.
    for (let i = 0; i < 20_000; i++) seen.add(randomToken(12));
    expect(seen.size).toBe(20_000);
  });

  it('refuses more than 256 bytes at once', () => {
    expect(() => randomToken(257)).toThrow(RangeError);
  });
});
