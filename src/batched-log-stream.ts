/**
 * @module The daemon's log destination in front of stdout (sonic-boom), the rotating log file, or (in a
 * cluster worker) the IPC channel to the primary: lines gather here and leave as one string of
 * ≥ 4 KiB, or within 100 ms of the first, so under load one write (or one message) carries ~15
 * request lines, and a quiet daemon's line still shows at once to a person.
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

/** What a batch goes to: sonic-boom (pino.destination), the rotating log file, the primary (cluster.ts). */
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

  /** The server is closing its log: hands over what is gathered, waits for the sink, drops the exit hook. */
  close(): Promise<void> {
    process.off('exit', this.onExit);
    return new Promise<void>((resolve) => {
      try {
        this.flush(() => resolve());
      } catch {
        resolve(); // a sink already destroyed has nothing more to write
      }
    });
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
    try {
      this.pass();
      this.sink.flushSync?.();
    } catch {
      // Exiting: a sink that cannot take the lines now (destroyed, not open yet, a closed channel)
      // has nothing more to give, and an exit hook must not end the process with a stack trace.
    }
  };
}
