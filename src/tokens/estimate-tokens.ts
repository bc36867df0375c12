/**
 * @module A token estimate that needs no vocabulary: one pass over the string's UTF-16 code units,
 * which mimics the pre-tokenizer of OpenAI's BPE encodings (words with their leading space, digits
 * in threes, punctuation runs, whitespace runs) and charges each piece what it costs on average.
 *
 * Why not tiktoken: loading its WASM and building one encoder costs ~60–70 MB of RSS for the life of
 * the process and blocks the event loop for 0.3–2.5 s. That is the price of condensation and
 * `max_request_tokens`, which need exact counts and build their encoders at start-up; it is not worth
 * paying for a figure the upstream failed to report (a stream the client left, an endpoint without a
 * usage chunk), which for any non-OpenAI model was an estimate anyway.
 *
 * The averages were fitted against cl100k_base and o200k_base on English prose, TypeScript and JSON
 * (tests/tokens/estimate-tokens.test.ts holds the corpus and the bounds it must stay within).
 */
import type { EncodingName } from './count-tokens.js';

/** Tokens of an ASCII word of length L (index), its leading space included; longer words: L / 5.6. */
const WORD = [0, 1, 1, 1.02, 1.03, 1.1, 1.09, 1.12, 1.2, 1.39, 1.64, 1.83, 2.04, 2.21, 2.49];
const WORD_CHARS_PER_TOKEN = 5.6;
/** Tokens of a run of ASCII punctuation of length L (index); longer runs: 0.45 a character. */
const PUNCT = [0, 1, 1.01, 1.18, 1.5, 2.16];
const PUNCT_PER_CHAR = 0.45;

/** Per-character costs of scripts whose words the ASCII table does not describe. */
export interface ScriptCosts {
  /** Han, kana, Hangul syllables and CJK punctuation. */
  cjk: number;
  /** Accented Latin, Greek and Cyrillic letters. */
  europeanLetter: number;
  /** Any other character outside ASCII (Arabic, Hebrew, Indic scripts, symbols…). */
  otherLetter: number;
  /** A character outside the Basic Multilingual Plane (most emoji): one surrogate pair. */
  astral: number;
}

/** cl100k_base spends more on non-Latin scripts than o200k_base, whose vocabulary is twice the size. */
export const SCRIPT_COSTS: Record<EncodingName, ScriptCosts> = {
  cl100k_base: { cjk: 1.1, europeanLetter: 0.45, otherLetter: 0.75, astral: 2 },
  o200k_base: { cjk: 0.8, europeanLetter: 0.26, otherLetter: 0.33, astral: 1.5 },
};

// ASCII character classes, looked up once per character (the loop below runs over whole prompts).
const LETTER = 1;
const DIGIT = 2;
const SPACE = 3;
const PUNCT_CLASS = 4;
const ASCII_CLASS = new Uint8Array(128).map((_, c) =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) ? LETTER : c >= 48 && c <= 57 ? DIGIT : c === 32 || c === 9 || c === 10 || c === 13 ? SPACE : PUNCT_CLASS,
);
const classOf = (c: number): number => (c < 128 ? ASCII_CLASS[c]! : 0);
const isCjk = (c: number): boolean =>
  (c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) || (c >= 0x3000 && c <= 0x30ff) || (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xff00 && c <= 0xffef);

/** Estimated tokens of `text` (0 for an empty string; fractional, the caller rounds the total). */
export function estimateTextTokens(text: string, costs: ScriptCosts): number {
  let n = 0;
  const len = text.length;
  let i = 0;
  while (i < len) {
    const c = text.charCodeAt(i);
    const cls = classOf(c);
    let j = i + 1;
    if (cls === LETTER) {
      while (j < len && classOf(text.charCodeAt(j)) === LETTER) j++;
      const l = j - i;
      n += l < WORD.length ? WORD[l]! : l / WORD_CHARS_PER_TOKEN;
    } else if (cls === DIGIT) {
      while (j < len && classOf(text.charCodeAt(j)) === DIGIT) j++;
      n += Math.ceil((j - i) / 3);
    } else if (cls === SPACE) {
      // One space before a word or punctuation travels with it; any other whitespace run is one token.
      while (j < len && classOf(text.charCodeAt(j)) === SPACE) j++;
      if (!(j - i === 1 && c === 32 && j < len)) n += 1;
    } else if (cls === PUNCT_CLASS) {
      while (j < len && classOf(text.charCodeAt(j)) === PUNCT_CLASS) j++;
      const l = j - i;
      n += l < PUNCT.length ? PUNCT[l]! : l * PUNCT_PER_CHAR;
    } else if (c >= 0xd800 && c <= 0xdbff) {
      n += costs.astral;
      j = i + 2;
    } else {
      n += isCjk(c) ? costs.cjk : c < 0x530 ? costs.europeanLetter : costs.otherLetter;
    }
    i = j;
  }
  return n;
}
