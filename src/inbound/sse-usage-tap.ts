/**
 * @module Reads the token usage out of a relayed (pass-through) SSE stream as its bytes go by, so
 * the request settles with real tokens when the stream ends. The bytes are relayed untouched; only
 * complete `data:` lines that mention `"usage"` are parsed (a handful per stream), so a content
 * chunk costs one decode and one substring search.
 */
import { StringDecoder } from 'node:string_decoder';
import type { Usage } from '../providers/openai-types.js';

/** A line longer than this (a malformed upstream) is not kept waiting for its end. */
const MAX_CARRY = 16 * 1024 * 1024;

export class SseUsageTap {
  private carry = '';
  /** Its own per stream: a read can end inside a character. StringDecoder: ~3× cheaper a chunk than TextDecoder's streaming decode on Node 20. */
  private readonly decoder = new StringDecoder('utf8');

  /** `onData` gets each parsed `data:` payload that mentions usage, in stream order. */
  constructor(private readonly onData: (payload: Record<string, unknown>) => void) {}

  feed(chunk: Uint8Array): void {
    const text = this.carry + this.decoder.write(chunk);
    const last = text.lastIndexOf('\n');
    if (last < 0) {
      this.carry = text.length > MAX_CARRY ? '' : text;
      return;
    }
    this.carry = text.length - last - 1 > MAX_CARRY ? '' : text.slice(last + 1);
    const at = text.indexOf('"usage"');
    if (at < 0 || at > last) return;
    let start = text.lastIndexOf('\n', at) + 1;
    // Only the lines from the first mention on: earlier ones cannot carry usage.
    while (start <= last) {
      let end = text.indexOf('\n', start);
      if (end < 0 || end > last) end = last;
      if (text.startsWith('data:', start)) {
        const line = text.slice(start + 5, end);
        if (line.includes('"usage"')) this.parse(line);
      }
      start = end + 1;
    }
  }

  private parse(json: string): void {
    try {
      const v: unknown = JSON.parse(json);
      if (v !== null && typeof v === 'object') this.onData(v as Record<string, unknown>);
    } catch {
      // Not ours to judge: the client gets the bytes as they came.
    }
  }
}

/** What the relay needs: bytes in, usage out when the stream ended. */
export interface StreamUsageReader {
  feed(chunk: Uint8Array): void;
  usage(): Usage | undefined;
}
