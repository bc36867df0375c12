import { describe, expect, it } from 'vitest';
import { listOr } from '../../src/routing/list-or.js';

describe('listOr', () => {
  it('joins the ids, from any iterable, in their order', () => {
    expect(listOr(['a', 'b', 'c'], '(none)')).toBe('a, b, c');
    expect(listOr(new Set(['x']), '(none)')).toBe('x');
  });

  it("says the caller's wording when there are none", () => {
    expect(listOr([], 'none configured')).toBe('none configured');
    expect(listOr(new Map<string, number>().keys(), '(no candidates)')).toBe('(no candidates)');
  });
});
