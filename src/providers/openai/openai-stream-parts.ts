/**
 * @module An OpenAI chat stream's body → parts, driven by the body's own 'data' events. An ordinary
 * content chunk (no finish_reason, no usage object, no error) goes on as its upstream bytes, unparsed;
 * the rest is parsed, and a chunk's usage is lifted into a `usage` part so the SSE writer alone
 * decides where usage goes.
 *
 * Not an async generator over `for await (… of body)`: node's readable async iterator is itself an
 * async generator around `read()` with a promise per read, and the parts generator around it added a
 * yield and a resumption per part. Here `next()` reads the body itself (`read()`: everything node
 * holds, in one) when it has no event left to turn, and a `next()` that finds nothing waits for the
 * body's 'readable'; one promise per part. Nothing is read that nobody asked for: bytes wait in
 * node's buffer, which stops reading the socket once full, so a slow consumer holds the upstream
 * back (TCP back-pressure) as before. ('data' events were tried: node emits one per HTTP chunk, all
 * of a socket read's before any consumer runs, so the first part of a burst waited for the rest,
 * +0.06 ms to the first byte, and pausing for back-pressure cost a pause and resume per chunk.)
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
import { SseDataReader, type SseEvent } from './sse-data-reader.js';

/** The most a stream event (or a line) may hold before it ends: as the pass-through usage tap's bound. */
export const MAX_EVENT_BYTES = 16 * 1024 * 1024;

/** Reading: parts may still come. Ended, failed: told to the consumer after the parts before. Closed: told, or stopped. */
const enum State {
  Reading,
  Ended,
  Failed,
  Closed,
}

const DONE: IteratorResult<ChatStreamPart> = Object.freeze({ done: true, value: undefined });

export class OpenAIStreamParts implements AsyncIterableIterator<ChatStreamPart> {
  private readonly reader = new SseDataReader();
  /** The events of the last read, turned into parts one at a time as parts are asked for: events[next …]. */
  private events: readonly SseEvent[] = [];
  private nextEvent = 0;
  /** Parts made from one event and not yet taken: queue[head …] (more than one only for a parsed chunk with usage). */
  private readonly queue: ChatStreamPart[] = [];
  private head = 0;
  private state = State.Reading;
  /** The body's 'end' came: what the reader still holds is read once the last read's events are turned. */
  private bodyEnded = false;
  /** `[DONE]` came: the rest of the body is read to its end (the keep-alive connection) and ignored. */
  private sawDone = false;
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
    else body.on('readable', this.onReadable).on('end', this.onEnd).on('error', this.fail).on('close', this.onClose);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /**
   * Answered at once when a part (or the end) is ready, else when the body's next bytes arrive. A
   * ready answer is `Promise.resolve`d: a `new Promise` per part would also make its two resolving
   * functions (+3.5 KB a 20-chunk stream, measured).
   */
  next(): Promise<IteratorResult<ChatStreamPart>> {
    let r: IteratorResult<ChatStreamPart> | undefined;
    try {
      r = this.answer();
    } catch (err) {
      return Promise.reject(err);
    }
    return r ? Promise.resolve(r) : new Promise(this.wait);
  }

  /** The consumer stopped early: the body goes (its connection cannot be reused mid-stream). */
  return(): Promise<IteratorResult<ChatStreamPart>> {
    if (this.state !== State.Closed) {
      this.state = State.Closed;
      this.queue.length = this.head = 0;
      this.events = [];
      if (!this.body.destroyed && !this.body.readableEnded) this.body.destroy();
    }
    this.settleWaiter();
    return Promise.resolve(DONE);
  }

  private readonly wait = (resolve: (r: IteratorResult<ChatStreamPart>) => void, reject: (err: unknown) => void): void => {
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
    this.events = [];
    if (!this.body.destroyed) this.body.destroy();
    this.settleWaiter();
  };

  /**
   * Turns events into parts until there is one: the last read's next event, else the next read's (all
   * the bytes node holds, in one); at the body's end, what the reader still holds. One event at a
   * time, so the first part of a burst goes to the client before the burst's other events are looked
   * at. A read with events restarts the deadline's clock.
   */
  private turn(): void {
    const queue = this.queue;
    try {
      while (queue.length === 0 && this.state === State.Reading) {
        if (this.nextEvent < this.events.length) {
          this.turnEvent(this.events[this.nextEvent++]!);
          continue;
        }
        if (this.bodyEnded) {
          if (!this.sawDone) for (const ev of this.reader.end()) {
            if (ev.latin1 === '[DONE]') break;
            this.parsed(ev.text());
          }
          this.state = State.Ended;
          return;
        }
        const bytes = this.body.read() as Buffer | Uint8Array | null;
        if (bytes === null) return;
        if (this.sawDone) continue;
        const reader = this.reader;
        this.events = reader.push(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
        this.nextEvent = 0;
        // An event that never ends (no line break, or data lines without the blank line) is the upstream's
        // fault: it fails as malformed instead of holding memory until the deadline.
        if (reader.pendingBytes > MAX_EVENT_BYTES) throw new ProviderError(`a stream event is longer than ${MAX_EVENT_BYTES} bytes`, { kind: 'malformed', provider: this.provider, model: this.model });
        if (this.events.length > 0) this.guard.arm();
      }
    } catch (err) {
      this.fail(err);
    }
  }

  private turnEvent(ev: SseEvent): void {
    if (ev.latin1 === '[DONE]') {
      // The rest of the body is read on to its end, and ignored.
      this.sawDone = true;
      this.events = [];
      return;
    }
    // The check reads the Latin-1 view (its patterns are ASCII); an ordinary chunk framed exactly
    // `data: …\n\n` goes on as its own bytes, decoded only if something asks for its text.
    if (isPlainContentChunk(ev.latin1)) this.queue.push(new RawChunkPart(ev));
    else this.parsed(ev.text());
  }

  /** The next queued part. */
  private take(): ChatStreamPart {
    const queue = this.queue;
    const part = queue[this.head++]!;
    if (this.head === queue.length) queue.length = this.head = 0;
    return part;
  }

  /** After the parts: the end (unless the deadline aborted it) or the failure, through the guard, once. */
  private over(): IteratorResult<ChatStreamPart> {
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
  private answer(): IteratorResult<ChatStreamPart> | undefined {
    if (this.head === this.queue.length) this.turn();
    if (this.head < this.queue.length) return { done: false, value: this.take() };
    return this.state === State.Reading ? undefined : this.over();
  }

  /** Answers the waiting `next()`, if there is something to answer. */
  private settleWaiter(): void {
    const resolve = this.resolve;
    const reject = this.reject;
    if (!resolve || !reject) return;
    let r: IteratorResult<ChatStreamPart> | undefined;
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
