import { get_encoding } from 'tiktoken';
import { describe, expect, it } from 'vitest';
import { countTextTokens } from '../../src/tokens/count-tokens.js';

describe('counting tokens of hostile text', () => {
  it('counts a 2 MiB run without a break (tiktoken alone aborts with "unreachable", or takes seconds)', () => {
    const n = countTextTokens('a'.repeat(2 * 1024 * 1024));
    // Estimated at 3 bytes a token: never below the exact count (1 token per 8 a's), never absurd.
    expect(n).toBe(Math.ceil((2 * 1024 * 1024) / 3));
  });

  it('stays exact for long prose, counted in pieces', () => {
    const prose = 'The quick brown fox jumps over the lazy dog. '.repeat(8_000);
    const enc = get_encoding('cl100k_base');
    expect(countTextTokens(prose)).toBe(enc.encode_ordinary(prose).length);
    enc.free();
  });
});
