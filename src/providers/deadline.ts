/**
 * @module One upstream call's deadline, shared by every adapter: a signal that aborts when the client
 * goes away or when `timeoutMs` passes (for streams: between chunks), and the classification of what
 * was thrown into ProviderError / ClientGoneError so adapters do not each decide it. An exception of
 * our own code is never a provider failure: it leaves unchanged (provider-error.ts `transportErrorKind`).
 */
import type { CallContext } from './provider-adapter.js';
import { LiteAbort, type AbortLike } from './lite-abort.js';
import { ProviderError, clientKeyRejected, transportErrorKind } from './provider-error.js';

/** The client went away: not a provider failure, nothing to fail over to. */
export class ClientGoneError extends Error {
  override readonly name = 'ClientGoneError';
  constructor() {
    super('the client closed the connection');
  }
}

/**
 * An adapter's own reading of what its SDK/transport threw: a ProviderError for an upstream or network
 * failure it recognises; another Error to throw instead (e.g. our own exception an SDK wrapped as a
 * "connection error"), which then leaves unchanged; undefined when it does not know the error.
 */
export type ErrorMapper = (err: unknown) => Error | undefined;

/** What a deadline needs of the call. */
export type DeadlineContext = Pick<CallContext, 'signal' | 'timeoutMs' | 'model' | 'keySource'>;

export interface DeadlineOptions {
  /** The providers.json id, for the errors. */
  provider: string;
  /** The model named in errors; default: `ctx.model` (listModels uses '*'). */
  model?: string;
  mapError?: ErrorMapper;
}

export class Deadline {
  /** Aborts the upstream call: a LiteAbort, so a call on our own transport builds no AbortSignal. */
  readonly lite = new LiteAbort();
  private timer: NodeJS.Timeout | undefined;
  private readonly onParentAbort = () => this.lite.abort(this.parent.reason);
  private readonly onTimeout = () => {
    // A stream's consumer that is not waiting for it (its client is slow to read, so we stopped
    // reading the upstream) holds the upstream back itself: that silence is ours, not the provider's.
    // Its next wait restarts the clock (`arm`, which also revives a timer that already fired).
    if (this.waiting !== undefined && !this.waiting()) return;
    this.timedOut = true;
    this.lite.abort(new DOMException(`no answer within ${this.timeoutMs} ms`, 'TimeoutError'));
  };
  private readonly timed: boolean;
  timedOut = false;
  /** For a stream: whether its consumer is waiting for the upstream now (the clock counts only then). */
  waiting: (() => boolean) | undefined = undefined;

  constructor(
    private readonly parent: AbortLike,
    private readonly timeoutMs: number,
  ) {
    this.timed = timeoutMs > 0 && Number.isFinite(timeoutMs);
    if (parent.aborted) this.lite.abort(parent.reason);
    else parent.addEventListener('abort', this.onParentAbort, { once: true });
    this.arm();
  }

  /** A real AbortSignal for an SDK or fetch (made on first use). */
  get signal(): AbortSignal {
    return this.lite.signal;
  }

  /**
   * Restarts the clock: a stream's consumer starts waiting, or the upstream showed life (events). No
   * allocation: the timer is reused; on a timer that already fired, `refresh()` arms it again.
   */
  arm(): void {
    if (!this.timed) return;
    if (this.timer) this.timer.refresh();
    else {
      this.timer = setTimeout(this.onTimeout, this.timeoutMs);
      this.timer.unref?.();
    }
  }

  /** Stops the clock and detaches from the client's signal. */
  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.parent.removeEventListener('abort', this.onParentAbort);
  }

  /** Aborts the upstream request (the consumer stopped reading). */
  abort(): void {
    this.clear();
    this.lite.abort(new ClientGoneError());
  }

  /**
   * Classifies a thrown error. If our clock fired, whatever came out is the abort's echo: a timeout.
   * Errors the adapter already made (ProviderError) pass through; an abort without our clock is the
   * client leaving; then the adapter's mapper, then network/upstream errors by their codes. Anything
   * else is our own exception and is returned unchanged, so it is never counted against a provider.
   */
  classify(err: unknown, provider: string, model: string, mapError?: ErrorMapper, keySource?: CallContext['keySource']): unknown {
    if (err instanceof ClientGoneError) return err;
    if (this.timedOut && !(err instanceof ProviderError && err.status !== undefined)) {
      return new ProviderError(`no answer within ${Math.round(this.timeoutMs / 100) / 10} s`, { kind: 'timeout', provider, model, cause: err });
    }
    let out: unknown = err;
    if (!(err instanceof ProviderError)) {
      if (this.parent.aborted || this.lite.reason instanceof ClientGoneError) return new ClientGoneError();
      const mapped = mapError?.(err);
      if (mapped) out = mapped;
      else {
        const kind = transportErrorKind(err);
        if (kind === undefined) return err;
        out = new ProviderError((err as Error).message || kind, { kind, provider, model, cause: err });
      }
    }
    if (keySource !== undefined && keySource !== 'config' && out instanceof ProviderError && out.kind === 'auth') return clientKeyRejected(out, keySource);
    return out;
  }
}

/**
 * Runs one non-streamed upstream call under a deadline and classifies whatever it throws.
 */
export function withDeadline<T>(ctx: DeadlineContext, opts: DeadlineOptions, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  return underDeadline(ctx, opts, (d) => run(d.signal));
}

/**
 * As withDeadline, for a call on our own transport (node-http-fetch.ts reads only an AbortLike):
 * no AbortSignal is built for it (lite-abort.ts says why that matters per request).
 */
export function withLiteDeadline<T>(ctx: DeadlineContext, opts: DeadlineOptions, run: (signal: AbortLike) => Promise<T>): Promise<T> {
  return underDeadline(ctx, opts, (d) => run(d.lite));
}

async function underDeadline<T>(ctx: DeadlineContext, opts: DeadlineOptions, run: (d: Deadline) => Promise<T>): Promise<T> {
  const d = new Deadline(ctx.signal, ctx.timeoutMs);
  try {
    return await run(d);
  } catch (err) {
    throw d.classify(err, opts.provider, opts.model ?? ctx.model, opts.mapError, ctx.keySource);
  } finally {
    d.clear();
  }
}

/**
 * Wraps a streamed upstream call: `open` starts the request (under the deadline), `convert` turns the
 * provider's events into parts. The clock restarts on each upstream event; errors are classified; if
 * the consumer stops early the upstream request is aborted.
 *
 * A plain iterator rather than async generators: each generator layer costs every chunk a few promise
 * hops and allocations, and a stream passes every one of its chunks through here. Like a generator,
 * nothing starts before the first `next()`.
 */
export function guardStream<E, P>(
  ctx: DeadlineContext,
  opts: DeadlineOptions,
  open: (signal: AbortSignal) => Promise<AsyncIterable<E>>,
  convert: (events: AsyncIterable<E>) => AsyncIterable<P>,
): AsyncIterableIterator<P> {
  return new GuardedStream(ctx, opts, (d) => open(d.signal), convert);
}

/**
 * What a stream that keeps its own deadline calls (guardOwnStream): the clock when its consumer waits,
 * and the guard's one classification for whatever it throws.
 */
export interface StreamGuard {
  /** The consumer waits for the upstream from now: the clock restarts. */
  arm(): void;
  /**
   * The clock counts only while `waiting()` is true: a consumer that stopped asking (its client is
   * slow to read) leaves the upstream unread, and that silence is not the provider's.
   */
  countWhile(waiting: () => boolean): void;
  /** What the stream throws instead of `err` (classified; the stream is over). */
  fail(err: unknown): unknown;
  /** The upstream ended: throws (classified) when that end was an abort's (a timeout, the client gone). */
  ended(): void;
}

/**
 * As guardStream, for a stream opened on our own transport (an AbortLike, no AbortSignal built) whose
 * parts iterator calls the guard itself (pulled-parts.ts): `countWhile` once, `arm` when its consumer
 * starts waiting,
 * rejects with `guard.fail(err)` for what fails, calls `ended()` after its last part. Its parts then
 * reach the consumer without the guard's own `.then` per part: one promise and one microtask turn
 * fewer per chunk, on the streams every OpenAI chat chunk and every relayed pass-through read pass.
 */
export function guardOwnStream<P>(
  ctx: DeadlineContext,
  opts: DeadlineOptions,
  open: (signal: AbortLike, guard: StreamGuard) => Promise<AsyncIterable<P>>,
): AsyncIterableIterator<P> {
  return new GuardedStream<P, P>(ctx, opts, (d, guard) => open(d.lite, guard), undefined);
}

class GuardedStream<E, P> implements AsyncIterableIterator<P>, StreamGuard {
  private d: Deadline | undefined;
  private it: AsyncIterator<P> | undefined;
  /** Over: the upstream ended, failed, or the consumer stopped. */
  private finished = false;
  /** A converted stream's consumer is waiting for its next part (the clock counts only then). */
  private asking = false;
  private readonly isAsking = (): boolean => this.asking;

  constructor(
    private readonly ctx: DeadlineContext,
    private readonly opts: DeadlineOptions,
    private readonly open: (d: Deadline, guard: StreamGuard) => Promise<AsyncIterable<E>>,
    /** Undefined: the opened stream guards itself (guardOwnStream). */
    private readonly convert: ((events: AsyncIterable<E>) => AsyncIterable<P>) | undefined,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<P>> {
    if (this.finished) return Promise.resolve({ done: true, value: undefined });
    if (!this.convert) {
      // The stream arms and classifies itself; only opening it is ours to classify.
      return this.it ? this.it.next() : this.start().then((it) => it.next(), this.onError);
    }
    this.asking = true;
    if (this.it) {
      // The clock restarts when the consumer asks (the SDK reads only when asked), and again per event.
      this.d!.arm();
      return this.it.next().then(this.onResult, this.onError);
    }
    return this.start().then((it) => it.next()).then(this.onResult, this.onError);
  }

  arm(): void {
    this.d!.arm();
  }

  countWhile(waiting: () => boolean): void {
    this.d!.waiting = waiting;
  }

  fail(err: unknown): unknown {
    this.finished = true;
    const d = this.d;
    if (!d) return err;
    d.clear();
    return d.classify(err, this.opts.provider, this.opts.model ?? this.ctx.model, this.opts.mapError, this.ctx.keySource);
  }

  ended(): void {
    const d = this.d!;
    // The SDKs end a stream quietly when its request is aborted: a timeout or a departed client
    // must not look like a complete answer.
    if (d.lite.aborted) throw this.fail(d.lite.reason ?? new Error('aborted'));
    this.finished = true;
    d.clear();
  }

  async return(value?: unknown): Promise<IteratorResult<P>> {
    if (!this.finished) {
      this.finished = true;
      try {
        await this.it?.return?.();
      } finally {
        this.d?.abort();
      }
    }
    return { done: true, value: value as P };
  }

  private async start(): Promise<AsyncIterator<P>> {
    const d = (this.d = new Deadline(this.ctx.signal, this.ctx.timeoutMs));
    const opened = await this.open(d, this);
    const convert = this.convert;
    if (!convert) return (this.it = (opened as unknown as AsyncIterable<P>)[Symbol.asyncIterator]());
    d.waiting = this.isAsking;
    const src = opened[Symbol.asyncIterator]();
    const armed: AsyncIterableIterator<E> = {
      next: () => src.next().then((r) => (r.done || d.arm(), r)),
      return: (v?: unknown) => (src.return ? src.return(v) : Promise.resolve({ done: true, value: v as E })),
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    return (this.it = convert(armed)[Symbol.asyncIterator]());
  }

  private readonly onResult = (r: IteratorResult<P>): IteratorResult<P> => {
    this.asking = false;
    if (r.done) this.ended();
    return r;
  };

  private readonly onError = (err: unknown): never => {
    this.asking = false;
    throw this.fail(err);
  };
}
