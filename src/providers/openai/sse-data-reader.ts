/**
 * @module The `data:` payloads of one SSE byte stream, read chunk by chunk: `push` answers the events
 * a chunk completed (events of several data lines joined by "\n"), `end` those left when the bytes end.
 *
 * A plain reader, not an async generator over the body: the stream's parser loops over what one read
 * completed, so an event costs no promise hop of its own between the bytes and its part.
 *
 * One reader per stream: a read can end inside a multi-byte character, and the decoder keeps those
 * bytes for that stream's next read. (A decoder shared between streams once handed one stream's
 * partial character to whichever stream read next.) `StringDecoder`, not `TextDecoder`: on Node 20 a
 * streaming `TextDecoder.decode` goes through ICU, ~210 ns for a 250-byte chunk against ~60.
 */
import { StringDecoder } from 'node:string_decoder';

export class SseDataReader {
  private readonly decoder = new StringDecoder('utf8');
  /** The text after the last line break: the start of a line still arriving. */
  private rest = '';
  /** The data lines of the event being read. */
  private data: string[] = [];

  /** The events this chunk completed, in order. */
  push(chunk: Uint8Array): string[] {
    return this.lines(this.decoder.write(chunk));
  }

  /** What the stream's last bytes hold: an event not closed by a blank line is still one. */
  end(): string[] {
    const out = this.lines(this.decoder.end());
    if (this.data.length) out.push(this.take());
    return out;
  }

  private lines(text: string): string[] {
    const out: string[] = [];
    const buf = this.rest === '' ? text : this.rest + text;
    let pos = 0;
    let nl: number;
    // Positions into one string instead of slicing the rest off after every line.
    while ((nl = buf.indexOf('\n', pos)) !== -1) {
      const end = nl > pos && buf.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      if (end === pos) {
        if (this.data.length) out.push(this.take());
      } else if (buf.startsWith('data:', pos)) {
        this.data.push(buf.slice(buf.charCodeAt(pos + 5) === 32 ? pos + 6 : pos + 5, end));
      }
      // `event:`, `id:`, `retry:` and comments carry nothing a chat stream needs.
      pos = nl + 1;
    }
    this.rest = pos === 0 ? buf : buf.slice(pos);
    return out;
  }

  private take(): string {
    const d = this.data;
    this.data = [];
    return d.length === 1 ? d[0]! : d.join('\n');
  }
}
