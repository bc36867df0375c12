/**
 * @module Maps the Anthropic SDK's errors onto the error-policy kinds. The `error.type` of Anthropic's
 * body (`{"type":"error","error":{"type","message"}}`) decides first, the HTTP status second: an
 * `error` event inside a stream has a type but no status.
 */
import Anthropic from '@anthropic-ai/sdk';
import { ProviderError, kindFromStatus, parseRetryAfter, transportErrorKind, type ProviderErrorKind } from '../provider-error.js';

/** The status each error type comes with, for stream `error` events that have none. */
const STATUS_OF_TYPE: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

const PROMPT_TOO_LONG_RE = /prompt is too long|too many (?:input )?tokens|context (?:window|length)|exceeds? .*(?:context|maximum)/i;

function kindOf(type: string | null, status: number, message: string): ProviderErrorKind {
  switch (type) {
    case 'overloaded_error':
    case 'api_error':
      return 'server';
    case 'rate_limit_error':
      return 'rate_limit';
    case 'authentication_error':
    case 'permission_error':
    case 'billing_error':
      // Our key (or its account) cannot be used: a provider failure, try the next candidate.
      return 'auth';
    case 'not_found_error':
      return 'not_found';
    case 'request_too_large':
      return 'too_large';
    case 'timeout_error':
      return 'timeout';
    case 'invalid_request_error':
      return PROMPT_TOO_LONG_RE.test(message) ? 'context_length' : status === 413 ? 'too_large' : 'bad_request';
    default:
      return kindFromStatus(status, message);
  }
}

/**
 * The SDK's errors → ProviderError. `APIConnectionError` wraps whatever the transport threw: a real
 * network error (a code in its cause chain) is a connection failure; anything else is our own
 * exception and is handed back unwrapped, to leave unchanged.
 */
export function mapAnthropicError(provider: string, model: string) {
  return (err: unknown): Error | undefined => {
    if (!(err instanceof Anthropic.APIError) || err instanceof Anthropic.APIUserAbortError) return undefined;
    if (err instanceof Anthropic.APIConnectionTimeoutError) return new ProviderError('upstream timed out', { kind: 'timeout', provider, model, cause: err });
    if (err instanceof Anthropic.APIConnectionError) {
      const cause = (err as { cause?: unknown }).cause;
      if (cause !== undefined && transportErrorKind(cause) === undefined) return cause instanceof Error ? cause : err;
      const kind = cause === undefined ? 'connection' : (transportErrorKind(cause) ?? 'connection');
      return new ProviderError((cause as Error | undefined)?.message ?? err.message, { kind, provider, model, cause: err });
    }
    const type = typeof err.type === 'string' ? err.type : null;
    const status = err.status ?? (type ? STATUS_OF_TYPE[type] : undefined) ?? 502;
    const message = err.apiMessage || err.message.replace(/^\d{3}\s+/, '') || `HTTP ${status}`;
    return new ProviderError(message, {
      kind: kindOf(type, status, message),
      status,
      provider,
      model,
      code: type,
      retryAfterMs: parseRetryAfter(err.headers?.get('retry-after')),
      cause: err,
    });
  };
}
