/**
 * @module Maps the openai SDK's errors (used for OpenAI and every OpenAI-compatible upstream) onto
 * the error-policy kinds, keeping the upstream's message, code and param.
 */
import OpenAI from 'openai';
import { ProviderError, kindFromStatus, parseRetryAfter } from '../provider-error.js';

interface UpstreamErrorBody {
  message?: unknown;
  code?: unknown;
  param?: unknown;
  type?: unknown;
}

/** A non-2xx answer (or an `{"error":…}` SSE event) as a ProviderError, in the upstream's words. */
export function upstreamError(provider: string, model: string, status: number | undefined, payload: unknown, retryAfter: string | null | undefined, cause?: unknown): ProviderError {
  const raw = (payload as { error?: unknown } | undefined)?.error ?? payload;
  const body: UpstreamErrorBody = raw && typeof raw === 'object' ? (raw as UpstreamErrorBody) : { message: raw };
  const effective = status ?? 502;
  const message = typeof body.message === 'string' && body.message ? body.message : `HTTP ${effective}`;
  const code = typeof body.code === 'string' ? body.code : typeof body.type === 'string' ? body.type : null;
  // No status: an error event inside a 200 stream, i.e. the upstream failed midway.
  const kind = status === undefined ? 'server' : code === 'context_length_exceeded' ? 'context_length' : kindFromStatus(effective, message);
  return new ProviderError(message, {
    kind,
    status: effective,
    provider,
    model,
    code,
    param: typeof body.param === 'string' ? body.param : null,
    retryAfterMs: parseRetryAfter(retryAfter),
    cause,
  });
}

export function mapOpenAIError(provider: string, model: string) {
  return (err: unknown): ProviderError | undefined => {
    if (!(err instanceof OpenAI.APIError) || err instanceof OpenAI.APIUserAbortError) return undefined;
    if (err instanceof OpenAI.APIConnectionTimeoutError) return new ProviderError('upstream timed out', { kind: 'timeout', provider, model, cause: err });
    if (err instanceof OpenAI.APIConnectionError) {
      const cause = (err as { cause?: Error }).cause;
      return new ProviderError(cause?.message ?? err.message, { kind: 'connection', provider, model, cause: err });
    }
    // The SDK keeps the body's `error` member; without one its message is "<status> <text>".
    const payload = err.error ?? { message: err.message.replace(/^\d{3}\s+/, '') };
    return upstreamError(provider, model, err.status ?? 502, payload, err.headers?.get('retry-after'), err);
  };
}
