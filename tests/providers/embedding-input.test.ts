import { describe, expect, it } from 'vitest';
import { embeddingTexts } from '../../src/providers/embedding-input.js';
import { ProviderError } from '../../src/providers/provider-error.js';

describe('embedding input for text-only providers', () => {
  it('takes a string or a non-empty list of strings', () => {
    expect(embeddingTexts('hi', 'p', 'm', 'X')).toEqual(['hi']);
    expect(embeddingTexts(['a', 'b'], 'p', 'm', 'X')).toEqual(['a', 'b']);
  });

  for (const [what, input] of [
    ['token ids', [1, 2, 3]],
    ['lists of token ids', [[1, 2]]],
    ['an empty list', []],
  ] as const) {
    it(`refuses ${what} with a 400 naming input`, () => {
      let err: unknown;
      try {
        embeddingTexts(input as never, 'p', 'm', 'Gemini');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ProviderError);
      expect((err as ProviderError).clientStatus).toBe(400);
      expect((err as ProviderError).param).toBe('input');
      expect((err as ProviderError).message).toContain('Gemini embeddings take text');
    });
  }
});
