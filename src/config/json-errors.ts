/**
 * @module Parses a config file's JSON and, when it is invalid, says where (line and column) and what
 * in words a person recognises: a comment, a trailing comma, a missing comma or quote, an early end.
 * JSON.parse does the parsing; the small scanner below runs only on failure, to find the spot.
 */

export interface JsonErrorAt {
  line: number;
  column: number;
  message: string;
}

export type JsonResult = { ok: true; value: unknown } | { ok: false; error: JsonErrorAt };

export function parseJsonText(text: string): JsonResult {
  // A UTF-8 byte order mark (some Windows editors write one) is not an error worth stopping for.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch (err) {
    return { ok: false, error: locateJsonError(body) ?? { line: 1, column: 1, message: (err as Error).message } };
  }
}

class Stop extends Error {
  constructor(
    readonly at: number,
    readonly what: string,
  ) {
    super(what);
  }
}

function lineColumn(text: string, at: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < at && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: at - lineStart + 1 };
}

function describeChar(ch: string | undefined): string {
  if (ch === undefined) return 'the end of the file';
  if (ch === '\n') return 'a line break';
  return JSON.stringify(ch);
}

/** The first syntax error in `text` (undefined if the scanner finds none). Iterative: any depth. */
export function locateJsonError(text: string): JsonErrorAt | undefined {
  let i = 0;
  const n = text.length;
  const ws = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
    if (text[i] === '/' && (text[i + 1] === '/' || text[i + 1] === '*')) {
      throw new Stop(i, `a comment (${text[i + 1] === '/' ? '//' : '/* */'}): JSON does not allow comments; remove it`);
    }
  };
  const unexpected = (expected: string): never => {
    if (i >= n) throw new Stop(i, `the file ends too early (expected ${expected}); is a closing } or ] missing?`);
    throw new Stop(i, `unexpected ${describeChar(text[i])}, expected ${expected}`);
  };
  const str = () => {
    if (text[i] === "'") throw new Stop(i, 'a single-quoted string: JSON needs double quotes (")');
    if (text[i] !== '"') unexpected('a double-quoted string');
    i++;
    while (i < n && text[i] !== '"') {
      const c = text.charCodeAt(i);
      if (c < 0x20) throw new Stop(i, 'a line break or control character inside a string; is a closing " missing?');
      if (text[i] === '\\') {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) throw new Stop(i, 'an invalid \\u escape (needs 4 hex digits)');
          i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) throw new Stop(i, `an invalid escape \\${e ?? ''} in a string`);
        i += 2;
        continue;
      }
      i++;
    }
    if (i >= n) throw new Stop(i, 'the file ends inside a string; is a closing " missing?');
    i++;
  };
  const scalar = () => {
    const rest = text.slice(i, i + 40);
    const num = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(rest);
    if (num && num[0] !== '-') {
      i += num[0].length;
      return;
    }
    for (const word of ['true', 'false', 'null']) {
      if (rest.startsWith(word)) {
        i += word.length;
        return;
      }
    }
    const word = /^[A-Za-z_$][\w$]*/.exec(rest)?.[0];
    if (word) throw new Stop(i, `unexpected word ${JSON.stringify(word)}: strings need double quotes, and true/false/null are lower case`);
    unexpected('a value');
  };

  // Containers: a stack of 'o' (object) / 'a' (array) and what each expects next.
  const stack: Array<'o' | 'a'> = [];
  try {
    ws();
    for (;;) {
      // Expecting a value.
      if (text[i] === '{') {
        i++;
        ws();
        if (text[i] === '}') {
          i++;
        } else {
          stack.push('o');
          str();
          ws();
          if (text[i] !== ':') unexpected('":" after the key');
          i++;
          ws();
          continue;
        }
      } else if (text[i] === '[') {
        i++;
        ws();
        if (text[i] === ']') {
          i++;
        } else {
          stack.push('a');
          continue;
        }
      } else if (text[i] === '"' || text[i] === "'") {
        str();
      } else {
        scalar();
      }
      // After a value: close containers or take a comma.
      for (;;) {
        ws();
        const top = stack[stack.length - 1];
        if (top === undefined) {
          if (i < n) throw new Stop(i, `unexpected ${describeChar(text[i])} after the end of the JSON value`);
          return undefined;
        }
        const close = top === 'o' ? '}' : ']';
        if (text[i] === close) {
          stack.pop();
          i++;
          continue;
        }
        if (text[i] !== ',') {
          if (i < n && text[i] !== '}' && text[i] !== ']') throw new Stop(i, `unexpected ${describeChar(text[i])}; is a comma missing before it?`);
          unexpected(`"," or "${close}"`);
        }
        const comma = i;
        i++;
        ws();
        if (text[i] === '}' || text[i] === ']') throw new Stop(comma, `a trailing comma before "${text[i]}": JSON does not allow one; remove it`);
        if (top === 'o') {
          str();
          ws();
          if (text[i] !== ':') unexpected('":" after the key');
          i++;
          ws();
        }
        break;
      }
    }
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
    return { ...lineColumn(text, err.at), message: err.what };
  }
}
