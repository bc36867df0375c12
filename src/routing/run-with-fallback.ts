/**
 * @module The one attempt loop every route that calls a model goes through: tries candidates in
 * order, lets the error-policy table decide what fails over, and reports which candidate served and
 * after how many attempts.
 */
import type { Logger } from 'pino';
import type { CallContext } from '../providers/provider-adapter.js';
import { ClientGoneError } from '../providers/deadline.js';
import { ProviderError } from '../providers/provider-error.js';
import type { Runtime } from '../runtime.js';
import type { Candidate, ClientKeys } from './candidate.js';
import { resolveKey } from './resolve-key.js';

export interface AttemptOptions {
  runtime: Runtime;
  keys: ClientKeys;
  /** The client's signal (aborts when it goes away). */
  signal: AbortSignal;
  log: Logger;
}

export interface AttemptSuccess<T> {
  value: T;
  candidate: Candidate;
  attempts: number;
}

export async function runWithFallback<T>(
  candidates: readonly Candidate[],
  attempt: (c: Candidate, ctx: CallContext) => Promise<T>,
  opts: AttemptOptions,
): Promise<AttemptSuccess<T>> {
  let lastError: unknown;
  let attempts = 0;
  for (const c of candidates) {
    if (opts.signal.aborted) throw new ClientGoneError();
    let apiKey: string | undefined;
    try {
      apiKey = resolveKey(c, opts.keys, opts.runtime.config.missingKeyEnv);
    } catch (err) {
      lastError = err;
      continue;
    }
    attempts++;
    const ctx: CallContext = { model: c.model, apiKey, signal: opts.signal, timeoutMs: opts.runtime.timeoutMs(c), log: opts.log, imagePolicy: opts.runtime.imagePolicy };
    try {
      const value = await attempt(c, ctx);
      return { value, candidate: c, attempts };
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      lastError = err;
      opts.log.warn({ provider: c.providerId, model: c.model, kind: err.kind, status: err.status }, 'upstream attempt failed');
      if (!err.policy.failsOver) throw err;
    }
  }
  throw lastError ?? new ProviderError('no provider could serve this request', { kind: 'server', status: 503, provider: '-', model: '-' });
}

/**
 * Starts a stream and waits for its first part, so a failure before any byte reaches the client can
 * still fail over. Returns an iterator that yields that first part again, then the rest.
 */
export async function primeStream<P>(source: AsyncIterable<P>): Promise<AsyncIterator<P>> {
  const it = source[Symbol.asyncIterator]();
  const first = await it.next();
  let firstTaken = false;
  return {
    next: () => {
      if (!firstTaken) {
        firstTaken = true;
        return Promise.resolve(first);
      }
      return it.next();
    },
    return: async (v?: unknown) => {
      await it.return?.(v);
      return { done: true, value: undefined };
    },
  };
}
