import { describe, expect, it } from 'vitest';
import { SseDataReader } from '../../../src/providers/openai/sse-data-reader.js';

const bytes = (s: string) => new TextEncoder().encode(s);

/** Every event the reader gives for these reads, then for the end of the bytes. */
function read(reader: SseDataReader, chunks: Array<string | Uint8Array>): string[] {
  const out: string[] = [];
  for (const c of chunks) out.push(...reader.push(typeof c === 'string' ? bytes(c) : c));
  return [...out, ...reader.end()];
}

describe('SseDataReader', () => {
  it('joins multi-line data, ignores comments and event names, and copes with split reads and CRLF', () => {
    const got = read(new SseDataReader(), ['data: {"a":', '1}\r\n\r\n: keep-alive\n\nevent: x\ndata: line1\ndata: line2\n\n', 'data: [DONE]\n\n']);
    expect(got).toEqual(['{"a":1}', 'line1\nline2', '[DONE]']);
  });

  it('answers the events a read completes, at that read', () => {
    const r = new SseDataReader();
    expect(r.push(bytes('data: one\n\ndata: tw'))).toEqual(['one']);
    expect(r.push(bytes('o\n'))).toEqual([]);
    expect(r.push(bytes('\n'))).toEqual(['two']);
    expect(r.end()).toEqual([]);
  });

  it('a CRLF split between reads, "data:" without a space, and an empty data line', () => {
    expect(read(new SseDataReader(), ['data:x\r', '\n\r', '\ndata:\n\n'])).toEqual(['x', '']);
  });

  it('a character split between reads is decoded whole, each reader keeping its own bytes', () => {
    const a = bytes('data: café\n\n');
    const b = bytes('data: été\n\n');
    const ra = new SseDataReader();
    const rb = new SseDataReader();
    const at = a.indexOf(0xa9);
    // Interleaved: A stops inside "é", B reads a whole event, then A goes on.
    expect(ra.push(a.subarray(0, at))).toEqual([]);
    expect(rb.push(b)).toEqual(['été']);
    expect(ra.push(a.subarray(at))).toEqual(['café']);
    // Every byte on its own.
    const one = new SseDataReader();
    expect(read(one, [...b].map((x) => Uint8Array.of(x)))).toEqual(['été']);
  });

  it('the end of the bytes: an event without its blank line is one; a cut character is U+FFFD', () => {
    expect(read(new SseDataReader(), ['data: a\n\ndata: b\n'])).toEqual(['a', 'b']);
    const cut = bytes('data: é\n').subarray(0, 7);
    const r = new SseDataReader();
    expect(r.push(bytes('data: x\n\n'))).toEqual(['x']);
    expect(r.push(cut)).toEqual([]);
    // The line never ended, so it is not an event; the decoder's leftover byte does not leak anywhere.
    expect(r.end()).toEqual([]);
  });
});
