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
import { countTextTokens, encoderFor, estimateTextsTokens } from '../../src/tokens/count-tokens.js';

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
    // Malformed UTF-16 (a lone surrogate, at the end or before a letter) still gets a finite figure.
    expect(estimateTextTokens('a\ud83d', costs)).toBeCloseTo(1 + costs.astral);
    expect(estimateTextTokens('\udc00b', costs)).toBeCloseTo(costs.otherLetter + 1);
    expect(estimateTextTokens('   \n\t ', costs)).toBe(1);
  });
});

describe('estimateTextsTokens', () => {
  it('estimates until the encoder is built, then counts exactly; cached estimates and counts of one text stay apart', () => {
    const text = readFileSync(new URL('en.txt', DIR), 'utf8').repeat(2);
    expect(text.length).toBeGreaterThan(512); // long enough for the hash-keyed cache
    const estimate = estimateTextsTokens([text], 'o200k_base');
    expect(estimate).toBe(Math.ceil(estimateTextTokens(text, SCRIPT_COSTS.o200k_base)));
    expect(estimateTextsTokens([text], 'o200k_base')).toBe(estimate); // the second time from the cache
    encoderFor('o200k_base');
    const exact = get_encoding('o200k_base').encode_ordinary(text).length;
    expect(exact).not.toBe(estimate);
    expect(countTextTokens(text, 'o200k_base')).toBe(exact);
    expect(estimateTextsTokens([text], 'o200k_base')).toBe(exact);
  });
});
