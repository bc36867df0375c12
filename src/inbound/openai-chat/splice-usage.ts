/**
 * @module An upstream's chat completion text with its top-level `usage` member replaced (or added),
 * everything else byte for byte: the client gets what the upstream wrote (key order, whitespace,
 * number forms, escapes), and we skip re-serializing a body we only changed in one place.
 *
 * Why: a non-streamed completion is parsed for its usage and the pipeline adds `effective_context`
 * to that usage; nothing else changes. `JSON.stringify` of the whole completion was the largest of
 * our own costs on the chat path (~24 k instructions of ~530 k a request, instructions.ts), and it
 * rewrote OpenAI's pretty-printed answers compactly. Splicing the one member costs a scan that jumps
 * over string contents with `lastIndexOf`, from the end.
 *
 * The text must already have parsed as JSON (the caller parsed it): the scan does not validate.
 */

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const COMMA = 44;
const COLON = 58;

const isSpace = (c: number): boolean => c === 32 || c === 10 || c === 13 || c === 9;

/**
 * Index of the quote opening the string whose closing quote is at `close`. Inside a JSON string every
 * quote is escaped (after an odd run of backslashes), and outside strings there are no backslashes,
 * so the first quote before `close` that is not escaped opens it.
 */
function stringStart(t: string, close: number): number {
  let q = t.lastIndexOf('"', close - 1);
  for (;;) {
    let b = q;
    while (t.charCodeAt(b - 1) === BACKSLASH) b--;
    if ((q - b) % 2 === 0) return q;
    q = t.lastIndexOf('"', q - 1);
  }
}

/** Where the usage goes: `text[from, to)` is replaced by `lead` + the usage JSON. */
interface UsageSpot {
  from: number;
  to: number;
  /** '' when a usage value is replaced; `,"usage":` (or `"usage":` in an empty object) when one is added. */
  lead: string;
}

/**
 * Where `text` (a JSON object, already parsed once) has its top-level `usage` value, or where a
 * `"usage":…` member goes last when it has none. When a key appears twice, JSON.parse keeps the last,
 * so the last is found. Undefined when `text` is not an object.
 *
 * The scan runs backwards from the closing brace, because upstreams put usage near the end (OpenAI:
 * before `service_tier` and `system_fingerprint`): it stops there after a few members.
 */
function usageSpot(text: string): UsageSpot | undefined {
  let close = text.length - 1;
  while (close >= 0 && isSpace(text.charCodeAt(close))) close--;
  if (text.charCodeAt(close) !== CLOSE_BRACE) return undefined;
  // Depth below the top-level object; memberEnd: the `,` or `}` ending the member being passed.
  let depth = 0;
  let memberEnd = close;
  for (let i = close - 1; i >= 0; i--) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const open = stringStart(text, i);
      if (depth === 0 && i - open === 6 && text.startsWith('usage', open + 1)) {
        let j = i + 1;
        while (isSpace(text.charCodeAt(j))) j++;
        // A string followed by `:` is a key; otherwise it was a value.
        if (text.charCodeAt(j) === COLON) {
          j++;
          while (isSpace(text.charCodeAt(j))) j++;
          // Keep the whitespace the upstream put before the next `,` or `}`.
          let end = memberEnd;
          while (end > j && isSpace(text.charCodeAt(end - 1))) end--;
          return { from: j, to: end, lead: '' };
        }
      }
      i = open;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth++;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (depth === 0) break; // the top-level `{`: no usage member
      depth--;
    } else if (c === COMMA && depth === 0) {
      memberEnd = i;
    }
  }
  // No usage: add it after the last member (or as the only one).
  let last = close;
  while (last > 0 && isSpace(text.charCodeAt(last - 1))) last--;
  return { from: last, to: last, lead: text.charCodeAt(last - 1) === OPEN_BRACE ? '"usage":' : ',"usage":' };
}

/** `text` (a JSON object, already parsed once) with its top-level usage value replaced by `usageJson` (or added last). Undefined when `text` is not an object. */
export function spliceUsage(text: string, usageJson: string): string | undefined {
  const at = usageSpot(text);
  return at && text.slice(0, at.from) + at.lead + usageJson + text.slice(at.to);
}

/**
 * The same splice on the bytes `text` was decoded from, when every byte became one character (ASCII:
 * `bytes.length === text.length`, so the text's indexes are the bytes' indexes; raw-json.ts). The
 * answer goes out as those bytes: no UTF-8 count and re-encoding of the whole text on the way out,
 * and no header-plus-body string for node to flatten; only the usage member is encoded.
 */
export function spliceUsageBytes(bytes: Uint8Array, text: string, usageJson: string): Buffer | undefined {
  if (bytes.length !== text.length) throw new RangeError('spliceUsageBytes: the text and the bytes do not index alike');
  const at = usageSpot(text);
  if (!at) return undefined;
  const middle = Buffer.from(at.lead + usageJson);
  return Buffer.concat([bytes.subarray(0, at.from), middle, bytes.subarray(at.to)], at.from + middle.length + bytes.length - at.to);
}
