/**
 * @module Errors in Anthropic's envelope `{"type":"error","error":{"type","message"}}` with Anthropic's
 * error types, for the Messages routes: anything thrown is first mapped by the one OpenAI mapping
 * (status, scrubbed message, headers), then re-dressed, so the two envelopes never disagree.
 */
import { toErrorParts } from '../../server/errors.js';

/** Anthropic's error type for an HTTP status (docs: "HTTP errors"). */
export function anthropicErrorType(status: number): string {
  switch (status) {
    case 400:
    case 422:
      return 'invalid_request_error';
    case 401:
      return 'authentication_error';
    case 402:
      return 'billing_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 503:
    case 529:
      return 'overloaded_error';
    case 504:
      return 'timeout_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

export interface AnthropicErrorParts {
  status: number;
  body: { type: 'error'; error: { type: string; message: string }; request_id?: string };
  headers: Record<string, string>;
}

export function toAnthropicError(err: unknown, requestId?: string): AnthropicErrorParts {
  const p = toErrorParts(err);
  const body: AnthropicErrorParts['body'] = { type: 'error', error: { type: anthropicErrorType(p.status), message: p.body.error.message } };
  if (requestId) body.request_id = requestId;
  return { status: p.status, body, headers: p.headers };
}

export function anthropicErrorResponse(err: unknown, requestId?: string): Response {
  const { status, body, headers } = toAnthropicError(err, requestId);
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}
