/**
 * @module OpenAI's error envelope `{"error":{"message","type","param","code"}}` for anything thrown:
 * our HttpError, a ProviderError (the error-policy table decides the status), anything else a bare
 * 500. Messages are scrubbed of anything that looks like a credential; stack traces never reach a client.
 */
import { ProviderError } from '../../providers/provider-error.js';
import { redactText } from '../../log.js';
import { HttpError, envelope, errorTypeForStatus, type ErrorEnvelope } from '../../errors/http-error.js';
import { describeProviderError } from '../../routing/describe-provider-error.js';

export interface ErrorResponseParts {
  status: number;
  body: ErrorEnvelope;
  headers: Record<string, string>;
}

/** Maps anything thrown to status, envelope and headers. Unknown errors become a bare 500. */
export function toErrorParts(err: unknown): ErrorResponseParts {
  if (err instanceof HttpError) {
    const body = envelope(redactText(err.message), err.options.type ?? errorTypeForStatus(err.status), err.options.param ?? null, err.options.code ?? null);
    return { status: err.status, body: { ...body, ...err.options.body }, headers: err.options.headers ?? {} };
  }
  if (err instanceof ProviderError) {
    const status = err.clientStatus;
    const headers: Record<string, string> = {};
    if (status === 429 || status === 503) {
      if (err.retryAfterMs !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)));
    }
    const code = err.kind === 'context_length' ? 'context_length_exceeded' : err.kind === 'not_found' ? (err.code ?? 'model_not_found') : err.code;
    return {
      status,
      body: envelope(redactText(describeProviderError(err)), errorTypeForStatus(status), err.param, code ?? null),
      headers,
    };
  }
  return { status: 500, body: envelope('Internal server error', 'api_error'), headers: {} };
}

export function errorResponse(err: unknown, extraHeaders?: Record<string, string>): Response {
  const { status, body, headers } = toErrorParts(err);
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers, ...extraHeaders },
  });
}
