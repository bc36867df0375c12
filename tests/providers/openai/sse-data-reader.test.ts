import { describe, expect, it } from 'vitest';
import { SseDataReader, type SseEvent } from '../../../src/providers/openai/sse-data-reader.js';

const bytes = (s: string) => Buffer.from(s, 'utf8');
const frameText = (e: SseEvent) => (e.frame ? e.frame.toString('utf8') : undefined);

/** Every event the reader gives for these reads, then for the end of the bytes, as [text, frame]. */
function read(reader: SseDataReader, chunks: Array<string | Buffer>): Array<[string, string | undefined]> {
  const out: SseEvent[] = [];
  for (const c of chunks) out.push(...reader.push(typeof c === 'string' ? bytes(c) : c));
  return [...out, ...reader.end()].map((e) => [e.text(), frameText(e)]);
}

describe('SseDataReader', () => {
  it('joins multi-line data, ignores comments and event names, and copes with split reads and CRLF', () => {
    const got = read(new SseDataReader(), ['data: {"a":', '1}\r\n\r\n: keep-alive\n\nevent: x\ndata: line1\ndata: line2\n\n', 'data: [DONE]\n\n']);
    expect(got.map(([t]) => t)).toEqual(['{"a":1}', 'line1\nline2', '[DONE]']);
  });

  it('an event framed exactly `data: …\\n\\n` within one read comes with its own bytes; others do not', () => {
    const got = read(new SseDataReader(), [
      'data: {"a":1}\n\n: ping\n\ndata: {"b":2}\n\n', // two exact events around a comment
      'data:{"c":3}\n\n', // no space after the colon
      'data: {"d":4}\r\n\r\n', // CRLF
      'event: x\ndata: {"e":5}\n\n', // another line in the event
      'data: {"f":', // split between reads
      '6}\n\n',
      'data: {"g":7}\n', // split between the data line and the blank line
      '\n',
    ]);
    expect(got).toEqual([
      ['{"a":1}', 'data: {"a":1}\n\n'],
      ['{"b":2}', 'data: {"b":2}\n\n'],
      ['{"c":3}', undefined],
      ['{"d":4}', undefined],
      ['{"e":5}', undefined],
      ['{"f":6}', undefined],
      ['{"g":7}', undefined],
    ]);
  });

  it('answers the events a read completes, at that read, and a Latin-1 view byte for byte', () => {
    const r = new SseDataReader();
    expect(r.push(bytes('data: one\n\ndata: tw')).map((e) => e.latin1)).toEqual(['one']);
    expect(r.push(bytes('o\n'))).toEqual([]);
    expect(r.push(bytes('\n')).map((e) => e.text())).toEqual(['two']);
    expect(r.end()).toEqual([]);
    const [e] = new SseDataReader().push(bytes('data: é\n\n'));
    expect(e!.latin1).toBe('\u00c3\u00a9');
    expect(e!.text()).toBe('é');
  });

  it('a CRLF split between reads, "data:" without a space, and an empty data line', () => {
    expect(read(new SseDataReader(), ['data:x\r', '\n\r', '\ndata:\n\n']).map(([t]) => t)).toEqual(['x', '']);
  });

  it('a character split between reads is decoded whole, each reader keeping its own bytes', () => {
    const a = bytes('data: café\n\n');
    const b = bytes('data: été\n\n');
    const ra = new SseDataReader();
    const rb = new SseDataReader();
    const at = a.indexOf(0xa9);
    // Interleaved: A stops inside "é", B reads a whole event, then A goes on.
    expect(ra.push(a.subarray(0, at))).toEqual([]);
    expect(rb.push(b).map((e) => e.text())).toEqual(['été']);
    expect(ra.push(a.subarray(at)).map((e) => e.text())).toEqual(['café']);
    // Every byte on its own.
    expect(read(new SseDataReader(), [...b].map((x) => Buffer.of(x))).map(([t]) => t)).toEqual(['été']);
  });

  it('a long event in many reads is joined once its line ends', () => {
    const payload = 'x'.repeat(300_000);
    const whole = bytes(`data: ${payload}\n\n`);
    const r = new SseDataReader();
    const events: SseEvent[] = [];
    for (let i = 0; i < whole.length; i += 1000) events.push(...r.push(whole.subarray(i, i + 1000)));
    expect(events.map((e) => e.text().length)).toEqual([300_000]);
  });

  it('pendingBytes counts what has not ended: a line cut between reads, an event\'s data lines', () => {
    const r = new SseDataReader();
    r.push(bytes('data: abc'));
    expect(r.pendingBytes).toBe(9);
    r.push(bytes('def'));
    expect(r.pendingBytes).toBe(12);
    r.push(bytes('\ndata: gh\n'));
    expect(r.pendingBytes).toBe(8); // the data of two lines, "abcdef" and "gh"; no partial line
    expect(r.push(bytes('\n')).map((e) => e.text())).toEqual(['abcdef\ngh']);
    expect(r.pendingBytes).toBe(0);
  });

  it('the end of the bytes: an event without its blank line is one; a cut line is not', () => {
    expect(read(new SseDataReader(), ['data: a\n\ndata: b\n']).map(([t]) => t)).toEqual(['a', 'b']);
    const r = new SseDataReader();
    expect(r.push(bytes('data: x\n\n')).map((e) => e.text())).toEqual(['x']);
    expect(r.push(bytes('data: é\n').subarray(0, 7))).toEqual([]);
    expect(r.end()).toEqual([]);
  });
});
