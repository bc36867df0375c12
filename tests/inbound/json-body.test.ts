/**
 * checkJsonDepth at its edges: the deepest accepted body, the first refused one, and the path the
 * 400 names (keys, indexes and a caller's prefix), found without recursion past the limit.
 */
import { describe, expect, it } from 'vitest';
import { HttpError } from '../../src/errors/http-error.js';
import { MAX_JSON_DEPTH, checkJsonDepth, parseJsonBody } from '../../src/inbound/json-body.js';

/** `levels` nested containers, the innermost empty: objects keyed `k` or arrays. */
function nest(levels: number, kind: 'object' | 'array'): unknown {
  let v: unknown = kind === 'object' ? {} : [];
  for (let i = 1; i < levels; i++) v = kind === 'object' ? { k: v } : [v];
  return v;
}

function refusal(fn: () => void): HttpError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HttpError);
    return err as HttpError;
  }
  throw new Error('expected a refusal');
}

describe('checkJsonDepth', () => {
  it.each(['object', 'array'] as const)('accepts %s nesting of exactly MAX_JSON_DEPTH levels', (kind) => {
    expect(() => checkJsonDepth(nest(MAX_JSON_DEPTH, kind))).not.toThrow();
  });

  it('refuses one level more, naming the path to the first container past the limit', () => {
    const err = refusal(() => checkJsonDepth({ a: [1, 'x', { b: nest(MAX_JSON_DEPTH - 2, 'object') }] }));
    expect(err.status).toBe(400);
    expect(err.options.code).toBe('json_too_deep');
    // Root (1) → a (2) → [2] (3) → b (4) → 61 more levels of k: the 65th container is reached by a.[2].b and 61 keys.
    expect(err.options.param).toBe(`a[2].b${'.k'.repeat(MAX_JSON_DEPTH - 3)}`);
    expect(err.message).toContain(`deeper than ${MAX_JSON_DEPTH} levels`);
  });

  it('names array indexes, and joins a prefix with a dot before a key and directly before an index', () => {
    const deepArray = nest(MAX_JSON_DEPTH + 1, 'array') as unknown[];
    expect(refusal(() => checkJsonDepth(deepArray)).options.param).toBe('[0]'.repeat(MAX_JSON_DEPTH));
    expect(refusal(() => checkJsonDepth(deepArray, 'input')).options.param).toBe(`input${'[0]'.repeat(MAX_JSON_DEPTH)}`);
    expect(refusal(() => checkJsonDepth(nest(MAX_JSON_DEPTH + 1, 'object'), 'metadata')).options.param).toBe(`metadata.${'k.'.repeat(MAX_JSON_DEPTH - 1)}k`);
  });

  it('checks every branch, not only the first', () => {
    const body = { first: nest(MAX_JSON_DEPTH - 1, 'object'), second: [{}, nest(MAX_JSON_DEPTH, 'array')] };
    expect(refusal(() => checkJsonDepth(body)).options.param).toBe(`second[1]${'[0]'.repeat(MAX_JSON_DEPTH - 2)}`);
  });

  it('survives 100,000 levels (no stack overflow) and ignores primitives', () => {
    const text = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(refusal(() => parseJsonBody(`{"x":${text}}`)).options.param).toBe(`x${'[0]'.repeat(MAX_JSON_DEPTH - 1)}`);
    for (const v of [null, 1, 'x', true, undefined]) expect(() => checkJsonDepth(v)).not.toThrow();
  });
});
