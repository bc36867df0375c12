/**
 * The bench scripts' numeric knobs: unset means the default, a number is taken, and anything else
 * stops the script naming the variable instead of benching nothing (RATE=abc once meant NaN).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { envNumber } from '../../scripts/bench/spawned.js';

const NAME = 'AISBF_TEST_BENCH_KNOB';
afterEach(() => {
  delete process.env[NAME];
});

describe('envNumber', () => {
  it('is the fallback when unset or empty, and the number when set', () => {
    expect(envNumber(NAME, 2000)).toBe(2000);
    process.env[NAME] = '';
    expect(envNumber(NAME, 2000)).toBe(2000);
    process.env[NAME] = '0';
    expect(envNumber(NAME, 2000)).toBe(0);
    process.env[NAME] = '2.5';
    expect(envNumber(NAME, 1)).toBe(2.5);
  });

  it.each(['abc', '-1', 'Infinity', '1e999'])('refuses %s, naming the variable', (raw) => {
    process.env[NAME] = raw;
    expect(() => envNumber(NAME, 1)).toThrow(`${NAME}=${JSON.stringify(raw)}: expected a number ≥ 0`);
  });
});
