/**
 * @module The events of one SSE byte stream, read chunk by chunk: `push` answers the events a read
 * completed, `end` the one left when the bytes end. Each event gives its data three ways: as Latin-1
 * (one character per byte: for checks of ASCII patterns, never for content), as UTF-8 text, and, when
 * the upstream framed it exactly `data: <data>\n\n` within one read, as the event's own bytes, which a
 * writer sends on without decoding and re-encoding them.
 *
 * Lines are found in a Latin-1 view of each read (its offsets are byte offsets), and text is decoded
 * only from whole lines: a read that ends inside a multi-byte character needs no decoder state, since
 * a line break byte never occurs inside one. A line split between reads is joined once, when it ends;
 * nothing already read is copied again, however long an event is.
 *
 * A plain reader, not an async generator over the body: the stream's parser loops over what one read
 * completed, so an event costs no promise hop of its own between the bytes and its part.
 */

import type { EventData } from '../openai-types.js';

/** One event's data (an EventData: RawChunkPart sends its frame, or decodes its text when asked). */
export class SseEvent implements EventData {
  constructor(
    /** The first data line's value is buf[start, end). */
    private readonly buf: Buffer,
    private readonly start: number,
    private readonly end: number,
    /** The data as Latin-1: byte for byte, for checks of ASCII patterns. */
    readonly latin1: string,
    /** The event's own bytes when it is exactly `data: <data>\n\n`. */
    readonly frame: Buffer | undefined,
    /** Further data lines' values, decoded (rare: most events have one data line). */
    private readonly more?: readonly string[],
  ) {}

  /** The data as UTF-8 text (several data lines joined by "\n"). */
  text(): string {
    const first = this.buf.toString('utf8', this.start, this.end);
    return this.more ? [first, ...this.more].join('\n') : first;
  }
}


const NL = 10;

export class SseDataReader {
  /** The bytes of a line not ended yet (the end of earlier reads). */
  private partial: Buffer[] = [];
  private partialBytes = 0;
  /** The data bytes of the pending event's lines. */
  private eventBytes = 0;
  /** The pending event's first data line (`dataBuf` undefined: none yet), kept as SseEvent keeps it. */
  private dataBuf: Buffer | undefined;
  private dataStart = 0;
  private dataEnd = 0;
  private dataLatin1 = '';
  /** Its further data lines: their text, and their Latin-1 views. */
  private more: string[] | undefined;
  private moreLatin1: string[] | undefined;

  /** Bytes held for what has not ended yet (a line, an event): its caller bounds it. */
  get pendingBytes(): number {
    return this.partialBytes + this.eventBytes;
  }

  /** The events this read completed, in order. */
  push(chunk: Buffer): SseEvent[] {
    const out: SseEvent[] = [];
    let from = 0;
    if (this.partial.length) {
      const nl = chunk.indexOf(NL);
      if (nl === -1) {
        this.partial.push(chunk);
        this.partialBytes += chunk.length;
        return out;
      }
      const line = Buffer.concat([...this.partial, chunk.subarray(0, nl + 1)]);
      this.partial = [];
      this.partialBytes = 0;
      this.line(line, line.toString('latin1'), 0, line.length - 1, -1, out);
      from = nl + 1;
    }
    const s = chunk.toString('latin1');
    // Where the pending event began in this read (-1: in an earlier one, so it has no frame).
    let eventStart = this.dataBuf ? -1 : from;
    let pos = from;
    let nl: number;
    while ((nl = s.indexOf('\n', pos)) !== -1) {
      if (this.line(chunk, s, pos, nl, eventStart, out)) eventStart = nl + 1;
      pos = nl + 1;
    }
    if (pos < chunk.length) {
      this.partial.push(pos === 0 ? chunk : chunk.subarray(pos));
      this.partialBytes += chunk.length - pos;
    }
    return out;
  }

  /**
   * What the stream's last bytes hold: an event whose data lines ended but no blank line followed is
   * still one; a line the bytes cut off is not.
   */
  end(): SseEvent[] {
    this.partial = [];
    this.partialBytes = 0;
    return this.dataBuf ? [this.take(undefined)] : [];
  }

  /**
   * One line, [pos, nl) of `buf` (`s` its Latin-1 view); true when it ended an event or a run of
   * lines that was none (a blank line), so the next line starts the next event.
   */
  private line(buf: Buffer, s: string, pos: number, nl: number, eventStart: number, out: SseEvent[]): boolean {
    const end = nl > pos && s.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    if (end === pos) {
      if (this.dataBuf) {
        // Exactly `data: <data>\n\n` in this read: one data line with its space starting the event (no
        // other line fits before it in 6 bytes), ended by a bare \n, and a bare \n for the blank line.
        const exact = eventStart >= 0 && !this.more && this.dataBuf === buf && this.dataStart === eventStart + 6 && this.dataEnd + 1 === pos && nl === pos;
        out.push(this.take(exact ? buf.subarray(eventStart, nl + 1) : undefined));
      }
      return true;
    }
    if (s.startsWith('data:', pos)) {
      const start = s.charCodeAt(pos + 5) === 32 ? pos + 6 : pos + 5;
      this.eventBytes += end - start;
      if (!this.dataBuf) {
        this.dataBuf = buf;
        this.dataStart = start;
        this.dataEnd = end;
        this.dataLatin1 = s.slice(start, end);
      } else {
        (this.more ??= []).push(buf.toString('utf8', start, end));
        (this.moreLatin1 ??= []).push(s.slice(start, end));
      }
    }
    // `event:`, `id:`, `retry:` and comments carry nothing a chat stream needs.
    return false;
  }

  /** The pending event, which the reader then forgets. */
  private take(frame: Buffer | undefined): SseEvent {
    const e = new SseEvent(this.dataBuf!, this.dataStart, this.dataEnd, this.moreLatin1 ? [this.dataLatin1, ...this.moreLatin1].join('\n') : this.dataLatin1, frame, this.more);
    this.dataBuf = undefined;
    this.eventBytes = 0;
    this.more = undefined;
    this.moreLatin1 = undefined;
    return e;
  }
}
