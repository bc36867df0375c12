/**
 * @module Reads what a server wrote to its log since an offset, and shows pino's JSON lines as short
 * human lines, for `aisbf daemon`'s failure report.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';

export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** The last `max` lines written to `path` after byte `offset` (at most `window` bytes, 64 KiB by default, are read). */
export function linesSince(path: string, offset: number, max = 15, window = 65536): string[] {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return [];
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(offset > size ? 0 : offset, size - window);
    const buf = Buffer.alloc(size - start);
    readSync(fd, buf, 0, buf.length, start);
    return buf.toString('utf8').split('\n').filter((l) => l.trim() !== '').slice(-max);
  } finally {
    closeSync(fd);
  }
}

/** `{"level":"error","msg":"x","err":{…}}` → `error: x (…)`; anything else unchanged. */
export function humanLogLine(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const o = JSON.parse(line) as { level?: string | number; msg?: string; err?: { message?: string }; problems?: string[]; url?: string };
    const extra = [o.url, o.err?.message, ...(o.problems ?? [])].filter(Boolean).join('; ');
    return `${String(o.level ?? 'log')}: ${o.msg ?? ''}${extra ? ` (${extra})` : ''}`;
  } catch {
    return line;
  }
}
