/**
 * @module The daemon's log destination in front of stdout (sonic-boom) or the rotating log file:
 * lines gather here and leave as one string of ≥ 4 KiB, or within 100 ms of the first, so under
 * load one write carries ~15 request lines, and a quiet daemon's line still shows at once to a person.
 *
 * Why not sonic-boom's own batching (`minLength`): on every write it measures the UTF-8 length of
 * its whole pending buffer (`Buffer.byteLength` of a string grown by `+=`, so flattened and scanned
 * each time): up to 4 KiB copied and counted per request line, most of the 9.5 k instructions a chat
 * request spent in `Buffer.byteLength` (instructions.ts; docs/performance.md). Here a line is an
 * array push.
 *
 * At exit (a fatal error, a signal) what is gathered goes to the sink and the sink is flushed
 * synchronously, so the last lines are not lost.
 */

/** What a batch goes to: sonic-boom (pino.destination), the rotating log file. */
export interface BatchSink {
  write(chunk: string): boolean;
  flush(cb?: (err?: Error) => void): void;
  /** Writes what the sink holds before returning (used at exit). */
  flushSync?(): void;
}

export class BatchedLogStream {
  private lines: string[] = [];
  private chars = 0;
  private timer: NodeJS.Timeout | undefined = undefined;

  constructor(
    private readonly sink: BatchSink,
    /** A batch leaves once it holds this many characters (UTF-16 units: a line's bytes need not be counted). */
    private readonly maxChars = 4096,
    /** …or this long after its first line. */
    private readonly maxDelayMs = 100,
  ) {
    process.on('exit', this.onExit);
  }

  /** pino's destination contract: takes a whole line; never blocks. */
  write(line: string): boolean {
    this.lines.push(line);
    this.chars += line.length;
    if (this.chars >= this.maxChars) this.pass();
    else if (this.timer === undefined) this.timer = setTimeout(this.pass, this.maxDelayMs).unref();
    return true;
  }

  /** Hands over what is gathered, then calls back once the sink has written it. */
  flush(cb?: (err?: Error) => void): void {
    this.pass();
    this.sink.flush(cb);
  }

  /** No more exit hook (the server closed its log). */
  detach(): void {
    process.off('exit', this.onExit);
  }

  private readonly pass = (): void => {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.lines.length === 0) return;
    const batch = this.lines.length === 1 ? this.lines[0]! : this.lines.join('');
    this.lines = [];
    this.chars = 0;
    this.sink.write(batch);
  };

  private readonly onExit = (): void => {
    this.pass();
    try {
      this.sink.flushSync?.();
    } catch {
      // Exiting: a sink that cannot write now (destroyed, not open yet) has nothing more to give.
    }
  };
}
