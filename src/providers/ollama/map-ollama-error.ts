/**
 * @module What the `ollama` SDK throws → ProviderError kinds, keeping Ollama's own message.
 *
 * - An HTTP error is the SDK's (unexported) `ResponseError` {error, status_code}: Ollama's body is
 *   `{"error":"model 'x' not found"}` with 404, 400 for a bad request (e.g. "does not support tools"),
 *   5xx when the runner fails. Retry-After comes from the response the call's fetch recorded.
 * - An `{"error": …}` line in the middle of an NDJSON stream (status already 200) surfaces as a plain
 *   `Error` with Ollama's message: the runner failed, so `server`. Only once the upstream has answered
 *   (the call recorded its response): a plain Error before that is ours, and is not a provider failure.
 * - A stream that ends without its `done` line was cut short: `connection`.
 * - "fetch failed" / "terminated" (refused, reset, DNS, cut mid-body: a network code in the cause
 *   chain) are reworded with their cause.
 * - Anything else is left to the deadline, which lets our own exceptions through unchanged.
 */
import { ProviderError, kindFromStatus, parseRetryAfter, transportErrorKind } from '../provider-error.js';
import type { OllamaCall } from './ollama-client.js';

const STREAM_CUT = 'Did not receive done or success response in stream.';

interface OllamaResponseError {
  name: 'ResponseError';
  error: string;
  status_code: number;
}

function isResponseError(err: unknown): err is OllamaResponseError {
  const e = err as Partial<OllamaResponseError> | null;
  return !!e && e.name === 'ResponseError' && typeof e.status_code === 'number';
}

export function mapOllamaError(provider: string, model: string, call?: OllamaCall) {
  return (err: unknown): Error | undefined => {
    if (isResponseError(err)) {
      const status = err.status_code;
      const message = err.error || `HTTP ${status}`;
      return new ProviderError(message, {
        kind: kindFromStatus(status, message),
        status,
        provider,
        model,
        retryAfterMs: parseRetryAfter(call?.response?.headers.get('retry-after')),
        cause: err,
      });
    }
    if (!(err instanceof Error)) return undefined;
    if (err.constructor === Error && call?.response?.ok) {
      if (err.message === STREAM_CUT) return new ProviderError("Ollama's stream ended before its final (done) line", { kind: 'connection', provider, model, cause: err });
      if (err.message === 'Missing body') return new ProviderError('Ollama answered without a body', { kind: 'malformed', provider, model, cause: err });
      return new ProviderError(err.message || 'Ollama reported an error mid-stream', { kind: 'server', provider, model, cause: err });
    }
    const cause = (err as { cause?: { message?: unknown } }).cause;
    const kind = err.name === 'TypeError' ? transportErrorKind(err) : undefined;
    if (kind !== undefined) {
      const why = cause && typeof cause.message === 'string' ? cause.message : err.message;
      return new ProviderError(`Ollama connection failed: ${why}`, { kind, provider, model, cause: err });
    }
    return undefined;
  };
}
