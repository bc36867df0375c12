/**
 * spliceUsage: an upstream's completion text with its top-level usage replaced, every other byte as
 * it came. Hand-picked texts for the traps (keys and quotes inside strings, nesting, whitespace,
 * duplicates), then seeded random objects checked against JSON.parse.
 */
import { describe, expect, it } from 'vitest';
import { spliceUsage, spliceUsageBytes } from '../../../src/inbound/openai-chat/splice-usage.js';
import { seededRandom } from '../../../src/routing/weighted-order.js';

const U = '{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5,"effective_context":3}';

describe('spliceUsage', () => {
  it.each([
    ['usage last', '{"id":"x","usage":{"prompt_tokens":3}}', `{"id":"x","usage":${U}}`],
    ['usage first', '{"usage":{"a":[1,{"b":2}]},"id":"x"}', `{"usage":${U},"id":"x"}`],
    ['usage in the middle, null', '{"id":"x","usage":null,"model":"m"}', `{"id":"x","usage":${U},"model":"m"}`],
    ['no usage: added last', '{"id":"x","choices":[]}', `{"id":"x","choices":[],"usage":${U}}`],
    ['empty object', '{}', `{"usage":${U}}`],
    ['empty object with spaces', ' { } \n', ` {"usage":${U} } \n`],
    ['a nested usage key is not the top-level one', '{"choices":[{"usage":{"x":1}}],"meta":{"usage":2}}', `{"choices":[{"usage":{"x":1}}],"meta":{"usage":2},"usage":${U}}`],
    ['"usage" as a string value, not a key', '{"note":"usage","usage":1}', `{"note":"usage","usage":${U}}`],
    ['escaped quotes and a key-like text in a string', '{"c":"say \\"usage\\":{} \\\\","usage":{}}', `{"c":"say \\"usage\\":{} \\\\","usage":${U}}`],
    ['a string ending in an escaped backslash', '{"c":"a\\\\","usage":0}', `{"c":"a\\\\","usage":${U}}`],
    ['brackets and braces inside strings', '{"c":"}]{[,:","usage":{"p":1},"z":"{"}', `{"c":"}]{[,:","usage":${U},"z":"{"}`],
    ['duplicate usage: the last (the one JSON.parse keeps) replaced', '{"usage":1,"id":"x","usage":2}', `{"usage":1,"id":"x","usage":${U}}`],
    ['unicode-escaped key name: appended, so it wins', '{"us\\u0061ge":1}', `{"us\\u0061ge":1,"usage":${U}}`],
  ])('%s', (_name, text, expected) => {
    expect(spliceUsage(text, U)).toBe(expected);
    expect(JSON.parse(spliceUsage(text, U)!).usage).toEqual(JSON.parse(U));
    // The same splice on the text's bytes (all these texts are ASCII).
    expect(spliceUsageBytes(Buffer.from(text), text, U)!.toString('latin1')).toBe(expected);
  });

  it('keeps OpenAI’s pretty-printed layout around the value', () => {
    const text = '{\n  "id": "chatcmpl-1",\n  "usage": {\n    "prompt_tokens": 3\n  },\n  "service_tier": "default"\n}\n';
    expect(spliceUsage(text, U)).toBe(`{\n  "id": "chatcmpl-1",\n  "usage": ${U},\n  "service_tier": "default"\n}\n`);
    const last = '{\n  "id": "chatcmpl-1",\n  "usage": {\n    "prompt_tokens": 3\n  }\n}';
    expect(spliceUsage(last, U)).toBe(`{\n  "id": "chatcmpl-1",\n  "usage": ${U}\n}`);
    expect(spliceUsage('{\n  "id": "x"\n}', U)).toBe(`{\n  "id": "x","usage":${U}\n}`);
  });

  it('is undefined for a text that is not an object', () => {
    for (const t of ['[1,2]', '"usage"', '42', 'null', '']) {
      expect(spliceUsage(t, U)).toBeUndefined();
      expect(spliceUsageBytes(Buffer.from(t), t, U)).toBeUndefined();
    }
  });

  it('on bytes: refuses bytes that do not index like the text, encodes a non-ASCII usage as UTF-8', () => {
    const text = '{"c":"é","usage":1}';
    expect(() => spliceUsageBytes(Buffer.from(text), text, U)).toThrow(/do not index alike/);
    const ascii = '{"id":"x","usage":{},"z":0}';
    const usage = '{"note":"débit ✓"}';
    const out = spliceUsageBytes(Buffer.from(ascii), ascii, usage)!;
    expect(out.toString('utf8')).toBe(`{"id":"x","usage":${usage},"z":0}`);
    expect(out.length).toBe(Buffer.byteLength(`{"id":"x","usage":${usage},"z":0}`));
  });

  it('matches JSON.parse on seeded random objects, compact and indented', () => {
    const random = seededRandom(2026);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const KEYS = ['usage', 'id', 'choices', 'u', 'usage2', 'a"b', 'c\\', 'usag', '{', ','];
    const STRINGS = ['', 'usage', '"usage":1', '\\', '\\"', '}', ']', '{[', 'é ✓', '\n\t', 'a,b:c'];
    const value = (depth: number): unknown => {
      const r = random();
      if (depth > 3 || r < 0.35) return pick([null, true, 0, -1.5e-7, 12345678901, ...STRINGS]);
      if (r < 0.6) return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(random() * 5); i > 0; i--) o[pick(KEYS)] = value(depth + 1);
      return o;
    };
    for (let n = 0; n < 2000; n++) {
      const obj: Record<string, unknown> = {};
      for (let i = Math.floor(random() * 6); i > 0; i--) obj[pick(KEYS)] = value(1);
      const text = JSON.stringify(obj, null, n % 2 ? 2 : undefined);
      const out = spliceUsage(text, U)!;
      expect(JSON.parse(out)).toEqual({ ...obj, usage: JSON.parse(U) });
      if (Buffer.byteLength(text) === text.length) expect(spliceUsageBytes(Buffer.from(text), text, U)!.toString('utf8')).toBe(out);
      // Everything but the usage member is the upstream's text: nothing else moved.
      if ('usage' in obj) expect(out.length - U.length).toBe(text.length - JSON.stringify(obj.usage, null, n % 2 ? 2 : undefined).replace(/\n/g, '\n' + ' '.repeat(2)).length);
    }
  });
});
