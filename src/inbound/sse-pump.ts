/**
 * @module Writes a stream of ready-made SSE frame texts to the client, for every SSE writer (chat,
 * Responses, Messages): straight onto node's socket (the frames of one tick in one write, back-pressure
 * honoured) or as a web stream (app.request, browsers). An optional keep-alive frame
 * (Anthropic's `ping`) goes out whenever nothing was written for `keepAliveMs`: one timer per stream,
 * never one per chunk.
 */
import type { ServerResponse } from 'node:http';

export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

export interface PumpOptions {
  /** Written when the stream was silent this long (ms). */
  keepAliveMs?: number;
  keepAliveFrame?: string;
  /** How long a client may take nothing while the pump waits to write (client-stall.ts). */
  stall?: StallLimit;
  /** The client went away: stop the upstream. */
  onClose(): void;
}

/**
 * A client that reads nothing for `ms` while the pump waits to write is gone as far as the stream is
 * concerned: the stream ends as if it had left (the upstream cancelled, the request recorded as
 * aborted, no failure counted against the provider). Without it such a client would hold its
 * upstream request open for as long as the upstream itself waits (the provider's deadline does not
 * count while aisbf waits on the client: deadline.ts). Its one timer (StallWatch) is armed when the
 * socket first asks us to wait and restarted at each wait after, so a stream that flows never arms it.
 */
export interface StallLimit {
  ms: number;
  /** Told once, when the limit ended the stream (the route's log line). */
  onStall(): void;
  /**
   * For a web stream body: closes node's response under it (SseSocket closes its own). Without one
   * (in-process) the body errors instead; under @hono/node-server an errored body would be written
   * to the log with its stack and an `Error: …` line to the client, so it is not used there.
   */
  destroy?: () => void;
}

/**
 * One timer per stream for its stall limit: `waiting()` when a wait on the client starts (re-arming
 * the same timer: no timer per wait, which a web body may make per chunk), `stop()` when the stream
 * ends. It ends the stream only if the wait it was armed for is still on.
 */
class StallWatch {
  private timer: NodeJS.Timeout | undefined;
  constructor(
    private readonly limit: StallLimit,
    private readonly stillWaiting: () => boolean,
    private readonly endStream: () => void,
  ) {}
  waiting(): void {
    // refresh() also re-arms a timer that already fired while nobody waited.
    if (this.timer) this.timer.refresh();
    else this.timer = setTimeout(this.fire, this.limit.ms).unref();
  }
  stop(): void {
    clearTimeout(this.timer);
  }
  private readonly fire = (): void => {
    if (!this.stillWaiting()) return;
    this.limit.onStall();
    this.endStream();
  };
}

const encoder = new TextEncoder();

/** A silence watchdog: `touch()` on every write; `tick` writes the keep-alive frame when due. */
class KeepAlive {
  private last = Date.now();
  private timer: NodeJS.Timeout | undefined;
  constructor(ms: number | undefined, write: () => void) {
    if (!ms) return;
    this.timer = setInterval(() => {
      if (Date.now() - this.last >= ms) {
        this.last = Date.now();
        write();
      }
    }, Math.max(50, Math.floor(ms / 2)));
    this.timer.unref?.();
  }
  touch(): void {
    // No clock read per chunk when no keep-alive was asked for (chat streams).
    if (this.timer) this.last = Date.now();
  }
  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

/** Frames are SSE text, or bytes already framed (an upstream's own event, forwarded as it came). */
export type SseFrame = string | Uint8Array;

/** Where a pump writes SSE frames: node's socket (SseSocket) or a web stream (pumpedSseBody). */
export interface SseSink {
  /** The client left (or cancelled the body): write nothing more. */
  readonly closed: boolean;
  /** Writes a frame; a promise only when the client asks to wait. */
  write(frame: SseFrame): Promise<void> | undefined;
  /** Ends the response (once the frames are done). */
  end(): void;
}

/**
 * One SSE response on node's socket: the headers at once, the frames of one tick in one write (node's
 * own corking, see `write`), back-pressure honoured, and `closed` once the client left (after telling
 * `onClose`, which stops the upstream).
 */
export class SseSocket implements SseSink {
  closed = false;
  private readonly keepAlive: KeepAlive;
  /** The frames of this tick not yet handed to node, joined into one (see `write`). */
  private held: SseFrame | undefined = undefined;
  /** Set while node asks us to wait (its last write returned false), until 'drain' or 'close'. */
  private waiting: Promise<void> | undefined = undefined;
  private readonly flush = (): void => {
    const held = this.held;
    this.held = undefined;
    if (held === undefined || this.closed) return;
    try {
      this.send(held);
    } catch (err) {
      // Outside the pump's await now (a tick callback): what node throws would take the process down.
      // The stream ends broken instead, and 'close' stops the upstream as for a client that left.
      this.res.destroy(err as Error);
    }
  };

  /** Destroying the response closes it unfinished: 'close' then ends the wait and tells onClose. */
  private readonly stall: StallWatch | undefined;

  constructor(
    private readonly res: ServerResponse,
    status: number,
    headers: Record<string, string>,
    opts: PumpOptions,
  ) {
    this.stall = opts.stall && new StallWatch(opts.stall, () => this.waiting !== undefined && !this.closed, () => res.destroy());
    res.once('close', () => {
      this.stall?.stop();
      if (res.writableFinished) return;
      this.closed = true;
      this.held = undefined;
      opts.onClose();
    });
    if (!res.headersSent) res.writeHead(status, headers);
    this.keepAlive = new KeepAlive(opts.keepAliveMs, () => {
      if (!this.closed && opts.keepAliveFrame) this.write(opts.keepAliveFrame);
    });
  }

  /**
   * Takes a frame (nothing once the client left); a promise while the socket asks to wait. The frames
   * of one tick (one upstream read often carries a dozen events) are held and handed to node once, at
   * the end of the tick: an upstream's own events from one read lie side by side in its buffer, so
   * they join as one view of it, no copy; texts join as one string. Node already sent them in one
   * socket write (it corks its socket for a tick), but each `res.write` is still a chunked-encoding
   * frame of four socket writes through node's HTTP and stream code, ~2.5 k instructions: a tenth of
   * what a forwarded chunk cost (docs/performance.md). Nothing waits longer than before: node's cork
   * held them to the same moment.
   */
  write(frame: SseFrame): Promise<void> | undefined {
    if (this.closed || frame === '') return undefined;
    this.keepAlive.touch();
    const held = this.held;
    if (held === undefined) {
      this.held = frame;
      process.nextTick(this.flush);
    } else {
      const joined = join(held, frame);
      if (joined !== undefined) this.held = joined;
      else {
        this.held = frame;
        this.send(held);
      }
    }
    return this.waiting;
  }

  private send(frame: SseFrame): void {
    const res = this.res;
    if (res.write(frame) || this.closed || this.waiting) return;
    this.stall?.waiting();
    this.waiting = new Promise<void>((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        this.waiting = undefined;
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  }

  /** Stops the keep-alive timer and ends the response (with the frames still held), unless the client already left. */
  end(): void {
    this.keepAlive.stop();
    this.stall?.stop();
    if (this.closed) return;
    const held = this.held;
    this.held = undefined;
    if (held === undefined) this.res.end();
    else this.res.end(held);
  }
}

/**
 * Two frames as one, when that costs no copy: views that lie side by side in one buffer, or two texts
 * (a string join is a rope until node writes it). Otherwise undefined: they go as two writes.
 */
function join(a: SseFrame, b: SseFrame): SseFrame | undefined {
  if (typeof a === 'string') return typeof b === 'string' ? a + b : undefined;
  if (typeof b === 'string' || a.buffer !== b.buffer || a.byteOffset + a.byteLength !== b.byteOffset) return undefined;
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength + b.byteLength);
}

/**
 * A web stream body that `pump` writes through a sink, as it would write node's socket: it starts on
 * the first read, waits while the reader's queue is full, closes when the pump returns and errors
 * when it throws; a cancel closes the sink (and calls `onCancel`, which stops the upstream). An
 * optional keep-alive frame goes out whenever nothing was written for `keepAliveMs`.
 */
export function pumpedSseBody(pump: (sink: SseSink) => Promise<void>, onCancel: () => void, opts: Omit<PumpOptions, 'onClose'> = {}): ReadableStream<Uint8Array> {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let keepAlive: KeepAlive | undefined;
  let started = false;
  let wake: (() => void) | undefined;
  const resume = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  // The reader went (a cancel) or took nothing for the stall limit: the sink closes, the pump's wait
  // ends, the upstream stops — once, whichever came first.
  const stop = (): boolean => {
    if (sink.closed) return false;
    sink.closed = true;
    keepAlive?.stop();
    stall?.stop();
    resume();
    onCancel();
    return true;
  };
  const limit = opts.stall;
  const stall =
    limit &&
    new StallWatch(
      limit,
      () => wake !== undefined,
      () => {
        if (!stop()) return;
        // The response is closed under the body (or, in-process, the body errors).
        if (limit.destroy) limit.destroy();
        else controller.error(new Error('the client read nothing for server.client_stall_seconds'));
      },
    );
  const sink = {
    closed: false,
    write(frame: SseFrame): Promise<void> | undefined {
      if (sink.closed || frame === '') return undefined;
      keepAlive?.touch();
      controller.enqueue(typeof frame === 'string' ? encoder.encode(frame) : frame);
      if ((controller.desiredSize ?? 1) > 0) return undefined;
      stall?.waiting();
      return new Promise<void>((r) => (wake = r));
    },
    // The body closes when the pump returns, and errors when it throws: its end() comes first.
    end(): void {
      keepAlive?.stop();
      stall?.stop();
    },
  };
  return new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      keepAlive = new KeepAlive(opts.keepAliveMs, () => {
        if (!sink.closed && opts.keepAliveFrame) controller.enqueue(encoder.encode(opts.keepAliveFrame));
      });
    },
    pull() {
      if (started) return resume();
      started = true;
      pump(sink).then(
        () => {
          if (!sink.closed) controller.close();
        },
        (err: unknown) => {
          keepAlive?.stop();
          if (!sink.closed) controller.error(err);
        },
      );
    },
    cancel() {
      stop();
    },
  });
}
