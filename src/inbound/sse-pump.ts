/**
 * @module Writes a stream of ready-made SSE frame texts to the client, for every SSE writer (chat,
 * Responses, Messages): straight onto node's socket (first frame uncorked, later frames of one tick in one write,
 * back-pressure honoured) or as a web stream (app.request, browsers). An optional keep-alive frame
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
  /** The client went away: stop the upstream. */
  onClose(): void;
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

/**
 * One SSE response on node's socket: the headers at once, the first frame uncorked (time to first
 * byte is what a chat UI feels), later frames of the same tick corked into one write, back-pressure
 * honoured, and `closed` once the client left (after telling `onClose`, which stops the upstream).
 */
export class SseSocket {
  closed = false;
  private corked = false;
  private first = true;
  private readonly keepAlive: KeepAlive;

  constructor(
    private readonly res: ServerResponse,
    status: number,
    headers: Record<string, string>,
    opts: PumpOptions,
  ) {
    res.once('close', () => {
      if (res.writableFinished) return;
      this.closed = true;
      opts.onClose();
    });
    if (!res.headersSent) res.writeHead(status, headers);
    this.keepAlive = new KeepAlive(opts.keepAliveMs, () => {
      if (!this.closed && opts.keepAliveFrame) res.write(opts.keepAliveFrame);
    });
  }

  /** Writes a frame (nothing once the client left); a promise only when the socket asks to wait. */
  write(frame: SseFrame): Promise<void> | undefined {
    if (this.closed || frame === '') return undefined;
    this.keepAlive.touch();
    if (this.first) this.first = false;
    else if (!this.corked) {
      this.corked = true;
      this.res.cork();
      process.nextTick(this.uncork);
    }
    if (this.res.write(frame) || this.closed) return undefined;
    const res = this.res;
    return new Promise<void>((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  }

  /** Stops the keep-alive timer (before the frames' source is settled). */
  stop(): void {
    this.keepAlive.stop();
  }

  /** Ends the response, unless the client already left. */
  end(): void {
    this.keepAlive.stop();
    if (!this.closed) this.res.end();
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.res.uncork();
  };
}

/** Writes a generator's frames to node's response (the Responses and Messages writers). */
export async function writeSse(res: ServerResponse, status: number, headers: Record<string, string>, frames: AsyncGenerator<SseFrame>, opts: PumpOptions): Promise<void> {
  const out = new SseSocket(res, status, headers, opts);
  try {
    for await (const frame of frames) {
      if (out.closed) break;
      const wait = out.write(frame);
      if (wait) await wait;
    }
  } finally {
    out.stop();
    if (out.closed) await frames.return(undefined);
    else out.end();
  }
}

/** The same frames as a web stream body; cancelling it stops the frames. */
export function sseBody(frames: AsyncGenerator<SseFrame>, opts: Omit<PumpOptions, 'onClose'> = {}): ReadableStream<Uint8Array> {
  let keepAlive: KeepAlive | undefined;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      keepAlive = new KeepAlive(opts.keepAliveMs, () => {
        if (opts.keepAliveFrame) controller.enqueue(encoder.encode(opts.keepAliveFrame));
      });
    },
    async pull(controller) {
      for (;;) {
        const r = await frames.next();
        if (r.done) {
          keepAlive?.stop();
          controller.close();
          return;
        }
        if (r.value === '') continue;
        keepAlive?.touch();
        controller.enqueue(typeof r.value === 'string' ? encoder.encode(r.value) : r.value);
        return;
      }
    },
    async cancel() {
      keepAlive?.stop();
      await frames.return(undefined);
    },
  });
}
