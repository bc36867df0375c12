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

export function mapOpenAIError(provider: string, model: string) {
  return (err: unknown): ProviderError | undefined => {
    if (!(err instanceof OpenAI.APIError) || err instanceof OpenAI.APIUserAbortError) return undefined;
    if (err instanceof OpenAI.APIConnectionTimeoutError) return new ProviderError('upstream timed out', { kind: 'timeout', provider, model, cause: err });
    if (err instanceof OpenAI.APIConnectionError) {
      const cause = (err as { cause?: Error }).cause;
      return new ProviderError(cause?.message ?? err.message, { kind: 'connection', provider, model, cause: err });
    }
    const status = err.status ?? 502;
    const body = (err.error ?? {}) as UpstreamErrorBody;
    const upstreamMessage = typeof body.message === 'string' && body.message ? body.message : err.message.replace(/^\d{3}\s+/, '') || `HTTP ${status}`;
    const code = typeof body.code === 'string' ? body.code : typeof body.type === 'string' ? body.type : null;
    const kind = code === 'context_length_exceeded' ? 'context_length' : kindFromStatus(status, upstreamMessage);
    return new ProviderError(upstreamMessage, {
      kind,
      status,
      provider,
      model,
      code,
      param: typeof body.param === 'string' ? body.param : null,
      retryAfterMs: parseRetryAfter(err.headers?.get('retry-after')),
      cause: err,
    });
  };
}
