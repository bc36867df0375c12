import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { copyWith } from '../src/copy-with.js';

// %HaveSameMap, compiled after the flag is set: whether two objects share one hidden class.
setFlagsFromString('--allow-natives-syntax');
const haveSameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;

describe('copyWith', () => {
  it('copies the source and sets the fields, new ones after the source’s, leaving the source as it was', () => {
    const req = { model: 'a', messages: [{ role: 'user', content: 'hi' }], temperature: 0.2 };
    const body = copyWith(req, { model: 'b', stream: false });
    expect(body).toEqual({ model: 'b', messages: req.messages, temperature: 0.2, stream: false });
    expect(Object.keys(body)).toEqual(['model', 'messages', 'temperature', 'stream']);
    expect(req).toEqual({ model: 'a', messages: req.messages, temperature: 0.2 });
    expect(body.messages).toBe(req.messages);
  });

  it('a field set to undefined is left out of JSON, as a deleted one would be', () => {
    expect(JSON.stringify(copyWith({ a: 1, stream_options: { include_usage: true } }, { stream_options: undefined }))).toBe('{"a":1}');
  });

  it('gives every copy of same-shaped sources one hidden class, where a spread with a new key may not', () => {
    const parsed = () => JSON.parse('{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21}') as Record<string, number>;
    const copies = Array.from({ length: 50 }, () => copyWith(parsed(), { effective_context: 12 }));
    for (const c of copies) expect(haveSameMap(c, copies[0]!)).toBe(true);
  });
});
