/**
 * @module An upstream body read only when its consumer asks for the next part: the skeleton shared by
 * the OpenAI chat stream's parts (openai/openai-stream-parts.ts) and the pass-through relay's chunks
 * (passthrough-http.ts). A subclass says what a read's bytes become (`took`), and may hold what one
 * read brought to hand out one at a time (`turnHeld`); this class does the reading, the waiting, the
 * end, the failure and the early stop.
 *
 * Not an async generator over `for await (… of body)`: node's readable async iterator is itself an
 * async generator around `read()` with a promise per read, and a generator around it adds a yield and
 * a resumption per part. Here `next()` reads the body itself (`read()`: everything node holds, in one)
 * when nothing is held, and a `next()` that finds nothing waits for the body's 'readable'; one promise
 * per part. Nothing is read that nobody asked for: bytes wait in node's buffer, which stops reading
 * the socket once full, so a slow consumer holds the upstream back (TCP back-pressure). ('data'
 * events were tried: node emits one per HTTP chunk, all of a socket read's before any consumer runs,
 * so the first part of a burst waited for the rest, +0.06 ms to the first byte, and pausing for
 * back-pressure cost a pause and resume per chunk.)
 *
 * It keeps the call's deadline itself (deadline.ts guardOwnStream): the clock restarts when a `next()`
 * has to wait for the body, and counts only while one waits — a consumer that stopped asking (its
 * client reads slowly) leaves the body unread, and that silence is not the upstream's. The end and
 * any failure reach the consumer through the guard, after the parts made before them.
 */
import type { Readable } from 'node:stream';
import type { StreamGuard } from './deadline.js';
import { prematureClose } from './node-http-fetch.js';

/** Reading: parts may still come. Ended, failed: told to the consumer after the parts before. Closed: told, or stopped. */
const enum State {
  Reading,
  Ended,
  Failed,
  Closed,
}

const DONE: IteratorResult<never> = Object.freeze({ done: true, value: undefined });

export abstract class PulledParts<T> implements AsyncIterableIterator<T> {
  /** Parts made and not yet taken: queue[head …]. */
  protected readonly queue: T[] = [];
  private head = 0;
  private state = State.Reading;
  /** The body's 'end' came: what is held is turned first, then `atEnd()`. */
  private bodyEnded = false;
  private error: unknown = undefined;
  /** A `next()` waiting for a part. */
  private resolve: ((r: IteratorResult<T>) => void) | undefined = undefined;
  private reject: ((err: unknown) => void) | undefined = undefined;

  constructor(
    private readonly body: Readable,
    protected readonly guard: StreamGuard,
  ) {
    guard.countWhile(this.isWaiting);
    if (body.destroyed) this.fail(body.errored ?? prematureClose());
    else body.on('readable', this.onReadable).on('end', this.onEnd).on('error', this.fail).on('close', this.onClose);
  }

  /** What one read's bytes become: parts queued now, or held for `turnHeld`. Throws for bytes the upstream got wrong. */
  protected abstract took(bytes: Buffer | Uint8Array): void;

  /** Turns one held item into parts; false when nothing is held (the next read comes then). */
  protected turnHeld(): boolean {
    return false;
  }

  /** The body ended and nothing is held: the parts of what is left (an event without its blank line). */
  protected atEnd(): void {}

  /** Failed or stopped: what is held will not be turned. */
  protected dropHeld(): void {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  /**
   * Answered at once when a part (or the end) is ready, else when the body's next bytes arrive. A
   * ready answer is `Promise.resolve`d: a `new Promise` per part would also make its two resolving
   * functions (+3.5 KB a 20-chunk stream, measured).
   */
  next(): Promise<IteratorResult<T>> {
    let r: IteratorResult<T> | undefined;
    try {
      r = this.answer();
    } catch (err) {
      return Promise.reject(err);
    }
    if (r) return Promise.resolve(r);
    // Waiting for the upstream from now: its clock starts (once per read, not per part).
    this.guard.arm();
    return new Promise(this.wait);
  }

  /** The consumer stopped early: the body goes (its connection cannot be reused mid-stream). */
  return(): Promise<IteratorResult<T>> {
    if (this.state !== State.Closed) {
      this.state = State.Closed;
      this.queue.length = this.head = 0;
      this.dropHeld();
      if (!this.body.destroyed && !this.body.readableEnded) this.body.destroy();
    }
    this.settleWaiter();
    return Promise.resolve(DONE);
  }

  private readonly isWaiting = (): boolean => this.resolve !== undefined;

  private readonly wait = (resolve: (r: IteratorResult<T>) => void, reject: (err: unknown) => void): void => {
    this.resolve = resolve;
    this.reject = reject;
  };

  /** Bytes (or the end) can be read: only a waiting `next()` reads them; otherwise they wait in node's buffer, which holds the upstream back once full. */
  private readonly onReadable = (): void => {
    if (this.resolve) this.settleWaiter();
  };

  private readonly onEnd = (): void => {
    if (this.state !== State.Reading) return;
    this.bodyEnded = true;
    if (this.resolve) this.settleWaiter();
  };

  /** Closed before its end (the connection dropped, or the request was aborted without an error). */
  private readonly onClose = (): void => {
    if (this.state === State.Reading && !this.bodyEnded) this.fail(prematureClose());
  };

  /** The parts already made still go first; nothing more is read or turned. */
  private readonly fail = (err: unknown): void => {
    if (this.state !== State.Reading) return;
    this.state = State.Failed;
    this.error = err;
    this.dropHeld();
    if (!this.body.destroyed) this.body.destroy();
    this.settleWaiter();
  };

  /**
   * Makes parts until there is one: from what the last read left, else from the next read (all the
   * bytes node holds, in one); at the body's end, from what is left.
   */
  private turn(): void {
    const queue = this.queue;
    try {
      while (queue.length === 0 && this.state === State.Reading) {
        if (this.turnHeld()) continue;
        if (this.bodyEnded) {
          this.atEnd();
          this.state = State.Ended;
          return;
        }
        const bytes = this.body.read() as Buffer | Uint8Array | null;
        if (bytes === null) return;
        this.took(bytes);
      }
    } catch (err) {
      this.fail(err);
    }
  }

  /** The next queued part. */
  private take(): T {
    const queue = this.queue;
    const part = queue[this.head++]!;
    if (this.head === queue.length) queue.length = this.head = 0;
    return part;
  }

  /** After the parts: the end (unless the deadline aborted it) or the failure, through the guard, once. */
  private over(): IteratorResult<T> {
    const state = this.state;
    if (state === State.Closed) return DONE;
    this.state = State.Closed;
    if (state === State.Failed) throw this.guard.fail(this.error);
    this.guard.ended();
    return DONE;
  }

  /**
   * What a `next()` gets now: a part, else (the parts out) the end or the failure, which it throws;
   * undefined while the body may still bring parts.
   */
  private answer(): IteratorResult<T> | undefined {
    if (this.head === this.queue.length) this.turn();
    if (this.head < this.queue.length) return { done: false, value: this.take() };
    return this.state === State.Reading ? undefined : this.over();
  }

  /** Answers the waiting `next()`, if there is something to answer. */
  private settleWaiter(): void {
    const resolve = this.resolve;
    const reject = this.reject;
    if (!resolve || !reject) return;
    let r: IteratorResult<T> | undefined;
    try {
      r = this.answer();
    } catch (err) {
      this.resolve = this.reject = undefined;
      reject(err);
      return;
    }
    if (r) {
      this.resolve = this.reject = undefined;
      resolve(r);
    }
  }
}
