/**
 * The vocabulary-free estimate against tiktoken's exact counts, per encoding, on prose in seven
 * languages, TypeScript and a chat request's JSON (tests/tokens/fixtures). The bound is per text: an
 * estimate stands in for a figure the upstream did not report, so ±20% on any one kind of text is the
 * promise (docs/context.md "Counting").
 */
import { readdirSync, readFileSync } from 'node:fs';
import { get_encoding } from 'tiktoken';
import { describe, expect, it } from 'vitest';
import { estimateTextTokens, SCRIPT_COSTS } from '../../src/tokens/estimate-tokens.js';

const DIR = new URL('./fixtures/', import.meta.url);
const FIXTURES = readdirSync(DIR).sort();

describe.each(['cl100k_base', 'o200k_base'] as const)('estimateTextTokens vs %s', (encoding) => {
  const enc = get_encoding(encoding);

  it.each(FIXTURES)('%s: within 20% of the exact count', (file) => {
    const text = readFileSync(new URL(file, DIR), 'utf8');
    const exact = enc.encode_ordinary(text).length;
    const estimate = estimateTextTokens(text, SCRIPT_COSTS[encoding]);
    expect(exact).toBeGreaterThan(80);
    expect(Math.abs(estimate - exact) / exact).toBeLessThan(0.2);
  });

  it('counts the pieces the pre-tokenizer makes: a word with its space, digits in threes, a whitespace run', () => {
    const costs = SCRIPT_COSTS[encoding];
    expect(estimateTextTokens('', costs)).toBe(0);
    expect(estimateTextTokens('hello', costs)).toBeCloseTo(1.1);
    expect(estimateTextTokens('hello world', costs)).toBeCloseTo(2.2);
    expect(estimateTextTokens('1234567', costs)).toBe(3);
    expect(estimateTextTokens('a\n\n    b', costs)).toBe(3);
    // One emoji is one surrogate pair, charged once.
    expect(estimateTextTokens('🙂', costs)).toBe(costs.astral);
  });
});
