/**
 * @module An OpenAI chat stream's body → parts, driven by the body's own 'data' events. An ordinary
 * content chunk (no finish_reason, no usage object, no error) goes on as its upstream bytes, unparsed;
 * the rest is parsed, and a chunk's usage is lifted into a `usage` part so the SSE writer alone
 * decides where usage goes.
 *
 * Not an async generator over `for await (… of body)`: node's readable async iterator is itself an
 * async generator that calls `read()` after a 'readable' event and makes a promise per chunk, and the
 * parts generator around it added a yield and a resumption per part. Here a read's events become
 * parts in the 'data' listener and a waiting `next()` gets its part at once (one promise per part);
 * parts nobody waits for yet are queued, and past QUEUE_HIGH_WATER the body is paused until the
 * queue is empty, so a slow consumer still holds the upstream back (TCP back-pressure) as before.
 *
 * It keeps its own deadline (deadline.ts guardOwnStream): a read that brings events restarts the
 * clock; the end and any failure reach the consumer through the guard, after the parts before them.
 */
import type { Readable } from 'node:stream';
import { RawChunkPart, type ChatCompletionChunk, type ChatStreamPart } from '../provider-adapter.js';
import { ProviderError } from '../provider-error.js';
import type { StreamGuard } from '../deadline.js';
import { prematureClose } from '../node-http-fetch.js';
import { unreadableBody, upstreamError } from './map-openai-error.js';
import { SseDataReader } from './sse-data-reader.js';

/** The most a stream event (or a line) may hold before it ends: as the pass-through usage tap's bound. */
export const MAX_EVENT_BYTES = 16 * 1024 * 1024;

/**
 * How many bytes of events may wait in the queue before the body is paused. node's parser emits one
 * 'data' per HTTP chunk, all of one socket read in a row, before a consumer can take any: pausing at
 * the first queued part would pause and resume the body once per chunk whenever an upstream's chunks
 * arrive together (measured: +5 k instructions a chunk). As much as node's own read buffer holds.
 */
const QUEUE_HIGH_WATER = 64 * 1024;

/** Reading: parts may still come. Ended, failed: told to the consumer when the queue is empty. Closed: told, or stopped. */
const enum State {
  Reading,
  Ended,
  Failed,
  Closed,
}

const DONE: IteratorResult<ChatStreamPart> = Object.freeze({ done: true, value: undefined });

export class OpenAIStreamParts implements AsyncIterableIterator<ChatStreamPart> {
  private readonly reader = new SseDataReader();
  /** Parts made and not yet taken: queue[head …]. */
  private readonly queue: ChatStreamPart[] = [];
  private head = 0;
  /** The events' bytes behind the queued parts (for QUEUE_HIGH_WATER). */
  private queuedBytes = 0;
  private state = State.Reading;
  /** `[DONE]` came: the rest of the body is read to its end (the keep-alive connection) and ignored. */
  private sawDone = false;
  private paused = false;
  private error: unknown = undefined;
  /** A `next()` waiting for a part. */
  private resolve: ((r: IteratorResult<ChatStreamPart>) => void) | undefined = undefined;
  private reject: ((err: unknown) => void) | undefined = undefined;

  constructor(
    private readonly body: Readable,
    private readonly guard: StreamGuard,
    private readonly retryAfter: string | null,
    private readonly provider: string,
    private readonly model: string,
  ) {
    if (body.destroyed) this.fail(body.errored ?? prematureClose());
    else body.on('data', this.onData).on('end', this.onEnd).on('error', this.fail).on('close', this.onClose);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<ChatStreamPart>> {
    if (this.head < this.queue.length) return Promise.resolve({ done: false, value: this.take() });
    if (this.state === State.Reading) return new Promise(this.wait);
    try {
      return Promise.resolve(this.over());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** The consumer stopped early: the body goes (its connection cannot be reused mid-stream). */
  return(): Promise<IteratorResult<ChatStreamPart>> {
    if (this.state !== State.Closed) {
      this.state = State.Closed;
      this.queue.length = this.head = this.queuedBytes = 0;
      if (!this.body.destroyed && !this.body.readableEnded) this.body.destroy();
    }
    this.settleWaiter();
    return Promise.resolve(DONE);
  }

  private readonly wait = (resolve: (r: IteratorResult<ChatStreamPart>) => void, reject: (err: unknown) => void): void => {
    this.resolve = resolve;
    this.reject = reject;
  };

  private readonly onData = (bytes: Buffer | Uint8Array): void => {
    if (this.state !== State.Reading || this.sawDone) return;
    const reader = this.reader;
    const events = reader.push(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    // An event that never ends (no line break, or data lines without the blank line) is the upstream's
    // fault: it fails as malformed instead of holding memory until the deadline.
    if (reader.pendingBytes > MAX_EVENT_BYTES) return this.fail(new ProviderError(`a stream event is longer than ${MAX_EVENT_BYTES} bytes`, { kind: 'malformed', provider: this.provider, model: this.model }));
    if (events.length === 0) return;
    this.guard.arm();
    const queue = this.queue;
    try {
      for (const ev of events) {
        this.queuedBytes += ev.latin1.length;
        if (ev.latin1 === '[DONE]') {
          this.sawDone = true;
          break;
        }
        // The check reads the Latin-1 view (its patterns are ASCII); an ordinary chunk framed exactly
        // `data: …\n\n` goes on as its own bytes, decoded only if something asks for its text.
        if (isPlainContentChunk(ev.latin1)) queue.push(new RawChunkPart(ev));
        else this.parsed(ev.text());
      }
    } catch (err) {
      return this.fail(err);
    }
    this.settleWaiter();
    if (this.queuedBytes > QUEUE_HIGH_WATER && this.head < queue.length && !this.paused) {
      this.paused = true;
      this.body.pause();
    }
  };

  private readonly onEnd = (): void => {
    if (this.state !== State.Reading) return;
    if (!this.sawDone) {
      try {
        for (const ev of this.reader.end()) {
          if (ev.latin1 === '[DONE]') break;
          this.parsed(ev.text());
        }
      } catch (err) {
        return this.fail(err);
      }
    }
    this.state = State.Ended;
    this.settleWaiter();
  };

  /** Closed before its end (the connection dropped, or the request was aborted without an error). */
  private readonly onClose = (): void => {
    if (this.state === State.Reading) this.fail(prematureClose());
  };

  private readonly fail = (err: unknown): void => {
    if (this.state !== State.Reading) return;
    this.state = State.Failed;
    this.error = err;
    if (!this.body.destroyed) this.body.destroy();
    this.settleWaiter();
  };

  /** The next queued part; the body reads on once the queue is empty. */
  private take(): ChatStreamPart {
    const queue = this.queue;
    const part = queue[this.head++]!;
    if (this.head === queue.length) {
      queue.length = this.head = this.queuedBytes = 0;
      if (this.paused) {
        this.paused = false;
        this.body.resume();
      }
    }
    return part;
  }

  /** After the queue: the end (unless the deadline aborted it) or the failure, through the guard, once. */
  private over(): IteratorResult<ChatStreamPart> {
    const state = this.state;
    if (state === State.Closed) return DONE;
    this.state = State.Closed;
    if (state === State.Failed) throw this.guard.fail(this.error);
    this.guard.ended();
    return DONE;
  }

  /** Answers a waiting `next()`, if there is one and something to answer. */
  private settleWaiter(): void {
    const resolve = this.resolve;
    if (!resolve) return;
    if (this.head < this.queue.length) {
      this.resolve = this.reject = undefined;
      resolve({ done: false, value: this.take() });
    } else if (this.state !== State.Reading) {
      const reject = this.reject!;
      this.resolve = this.reject = undefined;
      try {
        resolve(this.over());
      } catch (err) {
        reject(err);
      }
    }
  }

  /** The parts of a chunk that is not a plain content chunk (the first, the finish, usage, errors): a few a stream. */
  private parsed(data: string): void {
    let chunk: ChatCompletionChunk & { error?: unknown };
    try {
      chunk = JSON.parse(data) as typeof chunk;
    } catch (err) {
      throw unreadableBody(err, 'a stream event', this.provider, this.model);
    }
    if (chunk.error !== undefined && chunk.choices === undefined) throw upstreamError(this.provider, this.model, undefined, chunk, this.retryAfter);
    const usage = chunk.usage;
    if (usage) {
      if (chunk.choices.length > 0) {
        const { usage: _omit, ...rest } = chunk;
        this.queue.push({ type: 'chunk', chunk: rest as ChatCompletionChunk, final: rest.choices.some((c) => c.finish_reason) });
      }
      this.queue.push({ type: 'usage', usage });
    } else if (chunk.choices.length > 0) {
      this.queue.push({ type: 'chunk', chunk, final: chunk.choices.some((c) => c.finish_reason) });
    }
  }
}

/**
 * What rules a chunk out of the fast path, in one pass: a finish reason with a value, an error, a
 * usage key not followed by `:null`. The keys' opening quotes are left out on purpose: a pattern
 * that starts with `"` stops at every quote of the chunk (~40), one that starts with `_`, `e` or `u`
 * lets the regex engine skip ahead (~50 against ~140 ns on a 250-byte chunk). It matches whatever the
 * quoted pattern matched and a little more (a content string ending in "error", a key ending in
 * `_reason`): such a chunk is parsed, which is slower, never wrong.
 */
const NOT_PLAIN = /_reason":"|error"|usage"(?!:null)/;

/**
 * Whether an SSE payload is an ordinary chunk that can be forwarded as it came: its last finish
 * reason is `null` (compact, as OpenAI writes it), and it has no finish reason with a value, no usage
 * object and no error. Inside JSON strings quotes are escaped, so these can only match the chunk's
 * own keys. Anything else (spaced serializers included) is parsed: slower, never wrong. The finish
 * reason is looked for from the end, where OpenAI writes it (`includes` scanned from the start).
 * The whole check: ~290 → ~85 ns on a 250-byte chunk (Node 20).
 */
export function isPlainContentChunk(data: string): boolean {
  const f = data.lastIndexOf('"finish_reason":');
  return f !== -1 && data.startsWith('null', f + 16) && !NOT_PLAIN.test(data);
}
