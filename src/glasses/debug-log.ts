/**
 * @module The `debug_messages` of a `/process` answer: lines `[HH:MM:SS] [TAG] text` (UTC), plain
 * ASCII — the glasses' display cannot show emoji or other non-ASCII, and keys never appear.
 */
import { redactText } from '../log.js';

export type DebugTag = 'START' | 'IMAGE' | 'AI' | 'CHECK' | 'JUDGE' | 'ERROR' | 'DONE';

export class DebugLog {
  readonly lines: string[] = [];
  constructor(private readonly now: () => number = Date.now) {}

  add(tag: DebugTag, text: string): void {
    const time = new Date(this.now()).toISOString().slice(11, 19);
    this.lines.push(`[${time}] [${tag}] ${toAscii(redactText(text))}`);
  }
}

/** Replaces every character outside printable ASCII with "?", and collapses line breaks. */
export function toAscii(text: string): string {
  return text.replace(/[\r\n\t]+/g, ' ').replace(/[^\x20-\x7e]/g, '?');
}
