/**
 * @module The client-gone and deadline signals of the request path, without an AbortSignal per request.
 *
 * Node builds an AbortSignal as an EventTarget: creating one and adding or removing a listener cost
 * microseconds and several objects each, and every request made two (the client's, read from
 * @hono/node-server, and its upstream call's deadline) with a listener pair on each. Without them
 * (scripts/bench/ab.ts, four alternating rounds; docs/performance.md "AbortSignals"): CPU per chat
 * request −20% at c=16 and −9% at c=64, peak RSS at c=64 139–180 → 125–132 MB, and a c=1 scavenge
 * promotes 63 KB instead of 292. So the request path passes `AbortLike` — the part of AbortSignal it
 * uses, which a real AbortSignal also satisfies — and `LiteAbort` implements it with a flag and a
 * listener list. Where an API needs a real AbortSignal (an SDK, global fetch, AbortSignal.any),
 * `toAbortSignal` makes one on demand that aborts with it.
 */

/** A listener as AbortSignal takes them: a function or an object with handleEvent. */
export type AbortListener = (() => void) | { handleEvent(): void };

/** What the request path reads of an abort signal. A real AbortSignal fits it. */
export interface AbortLike {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: AbortListener, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: AbortListener): void;
}

/**
 * An abort flag with listeners. Listeners run once, in the order added, when `abort` is first called
 * (a listener added after that is never called: check `aborted` first, as with AbortSignal).
 */
export class LiteAbort implements AbortLike {
  aborted = false;
  reason: unknown = undefined;
  /** One listener is the common case: kept without an array. */
  private one: AbortListener | undefined;
  private more: AbortListener[] | undefined;
  private real: AbortController | undefined;

  addEventListener(_type: 'abort', listener: AbortListener): void {
    if (this.aborted) return;
    if (this.more) this.more.push(listener);
    else if (this.one === undefined) this.one = listener;
    else {
      this.more = [this.one, listener];
      this.one = undefined;
    }
  }

  removeEventListener(_type: 'abort', listener: AbortListener): void {
    if (this.one === listener) this.one = undefined;
    else if (this.more) {
      const i = this.more.indexOf(listener);
      if (i !== -1) this.more.splice(i, 1);
    }
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.more ?? (this.one ? [this.one] : []);
    this.one = this.more = undefined;
    this.real?.abort(reason);
    // Every listener runs even if one throws (as with EventTarget); the first error then goes on to
    // whoever aborted.
    let failure: { err: unknown } | undefined;
    for (const l of listeners) {
      try {
        if (typeof l === 'function') l();
        else l.handleEvent();
      } catch (err) {
        failure ??= { err };
      }
    }
    if (failure) throw failure.err;
  }

  /** A real AbortSignal that aborts with this one (made on first use). */
  get signal(): AbortSignal {
    if (!this.real) {
      this.real = new AbortController();
      if (this.aborted) this.real.abort(this.reason);
    }
    return this.real.signal;
  }
}

/** A real AbortSignal for an API that needs one (an SDK, fetch, AbortSignal.any). */
export function toAbortSignal(s: AbortLike): AbortSignal {
  return s instanceof LiteAbort ? s.signal : (s as AbortSignal);
}
