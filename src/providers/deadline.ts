/**
 * @module One upstream call's deadline, shared by every adapter: a signal that aborts when the client
 * goes away or when `timeoutMs` passes (for streams: between chunks), and the classification of what
 * was thrown into ProviderError / ClientGoneError so adapters do not each decide it.
 */
import { ProviderError, kindFromTransportError, type ProviderErrorKind } from './provider-error.js';

/** The client went away: not a provider failure, nothing to fail over to. */
export class ClientGoneError extends Error {
  override readonly name = 'ClientGoneError';
  constructor() {
    super('the client closed the connection');
  }
}

export class Deadline {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private readonly onParentAbort = () => this.controller.abort(this.parent.reason);
  timedOut = false;

  constructor(
    private readonly parent: AbortSignal,
    private readonly timeoutMs: number,
  ) {
    if (parent.aborted) this.controller.abort(parent.reason);
    else parent.addEventListener('abort', this.onParentAbort, { once: true });
    this.arm();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Restarts the clock (a stream chunk arrived). */
  arm(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.timeoutMs > 0 && Number.isFinite(this.timeoutMs)) {
      this.timer = setTimeout(() => {
        this.timedOut = true;
        this.controller.abort(new DOMException(`no answer within ${this.timeoutMs} ms`, 'TimeoutError'));
      }, this.timeoutMs);
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
    this.controller.abort(new ClientGoneError());
  }

  /**
   * Classifies a thrown error. Errors the adapter already made (ProviderError) pass through; an abort
   * is a timeout if our clock fired, else the client left.
   */
  classify(err: unknown, provider: string, model: string, mapKnown?: (err: unknown) => ProviderError | undefined): Error {
    if (err instanceof ProviderError || err instanceof ClientGoneError) return err;
    if (this.timedOut) {
      return new ProviderError(`no answer within ${Math.round(this.timeoutMs / 100) / 10} s`, { kind: 'timeout', provider, model, cause: err });
    }
    if (this.parent.aborted || this.controller.signal.reason instanceof ClientGoneError) return new ClientGoneError();
    const known = mapKnown?.(err);
    if (known) return known;
    const kind: ProviderErrorKind = kindFromTransportError(err);
    const msg = (err as Error)?.message ?? String(err);
    return new ProviderError(msg, { kind, provider, model, cause: err });
  }
}

/**
 * Runs one non-streamed upstream call under a deadline and classifies whatever it throws.
 */
export async function withDeadline<T>(
  parent: AbortSignal,
  timeoutMs: number,
  provider: string,
  model: string,
  run: (signal: AbortSignal) => Promise<T>,
  mapKnown?: (err: unknown) => ProviderError | undefined,
): Promise<T> {
  const d = new Deadline(parent, timeoutMs);
  try {
    return await run(d.signal);
  } catch (err) {
    throw d.classify(err, provider, model, mapKnown);
  } finally {
    d.clear();
  }
}

/**
 * Wraps a streamed upstream call: `open` starts the request (under the deadline), `convert` turns the
 * provider's events into parts. The clock restarts on each upstream event; errors are classified; if
 * the consumer stops early the upstream request is aborted.
 */
export async function* guardStream<E, P>(
  parent: AbortSignal,
  timeoutMs: number,
  provider: string,
  model: string,
  open: (signal: AbortSignal) => Promise<AsyncIterable<E>>,
  convert: (events: AsyncIterable<E>) => AsyncIterable<P>,
  mapKnown?: (err: unknown) => ProviderError | undefined,
): AsyncGenerator<P> {
  const d = new Deadline(parent, timeoutMs);
  let finished = false;
  try {
    const source = await open(d.signal);
    async function* rearming(): AsyncGenerator<E> {
      for await (const ev of source) {
        d.arm();
        yield ev;
      }
    }
    yield* convert(rearming());
    // The SDKs end a stream quietly when its request is aborted: a timeout or a departed client
    // must not look like a complete answer.
    if (d.signal.aborted) throw d.signal.reason ?? new Error('aborted');
    finished = true;
  } catch (err) {
    finished = true;
    throw d.classify(err, provider, model, mapKnown);
  } finally {
    if (!finished) d.abort();
    d.clear();
  }
}
