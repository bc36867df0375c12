/**
 * @module Reads a file line by line as it streams (never whole), with each line's number and byte
 * range, so a batch line can later be read back alone from its offset.
 */
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

export interface FileLine {
  /** 1-based, as OpenAI's errors count them. */
  lineNo: number;
  offset: number;
  length: number;
  text: string;
  /** Longer than the reader's limit: `text` is empty and the bytes were skipped. */
  tooLong?: boolean;
}

const NL = 0x0a;

export async function* readLines(path: string, maxLineBytes = Number.MAX_SAFE_INTEGER): AsyncGenerator<FileLine> {
  let lineNo = 0;
  let start = 0; // file offset of the current line
  let pending: Buffer[] = [];
  let pendingLen = 0;
  let pos = 0; // file offset of the current chunk
  for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
    let from = 0;
    for (let i = chunk.indexOf(NL); i !== -1; i = chunk.indexOf(NL, from)) {
      const piece = chunk.subarray(from, i);
      lineNo++;
      if (pendingLen + piece.length > maxLineBytes) yield { lineNo, offset: start, length: pendingLen + piece.length, text: '', tooLong: true };
      else {
        const buf = pendingLen ? Buffer.concat([...pending, piece], pendingLen + piece.length) : piece;
        yield { lineNo, offset: start, length: buf.length, text: buf.toString('utf8') };
      }
      pending = [];
      pendingLen = 0;
      from = i + 1;
      start = pos + from;
    }
    if (from < chunk.length) {
      // Past the limit the bytes are only counted: one giant "line" (a binary file) never sits in memory.
      if (pendingLen + chunk.length - from <= maxLineBytes) pending.push(chunk.subarray(from));
      else pending = [];
      pendingLen += chunk.length - from;
    }
    pos += chunk.length;
  }
  if (pendingLen) {
    lineNo++;
    if (pendingLen > maxLineBytes) yield { lineNo, offset: start, length: pendingLen, text: '', tooLong: true };
    else yield { lineNo, offset: start, length: pendingLen, text: Buffer.concat(pending, pendingLen).toString('utf8') };
  }
}

/**
 * Reads a byte range back (one line, or several that follow each other), from a file opened once
 * (positional reads may overlap). Shorter than asked when the file is.
 */
export async function readRange(fh: FileHandle, offset: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  const { bytesRead } = await fh.read(buf, 0, length, offset);
  return buf.subarray(0, bytesRead);
}

export function openForLines(path: string): Promise<FileHandle> {
  return open(path, 'r');
}
