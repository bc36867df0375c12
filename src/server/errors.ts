/**
 * @module Our own HTTP error (bad input, unknown ids) and the one place that turns any thrown error
 * into OpenAI's error envelope `{"error":{"message","type","param","code"}}`. Messages are scrubbed of
 * anything that looks like a credential; stack traces never reach a client.
 */
import { ProviderError } from '../providers/provider-error.js';
import { redactText } from '../log.js';

export interface HttpErrorOptions {
  type?: string;
  param?: string | null;
  code?: string | null;
  headers?: Record<string, string>;
  /** Extra top-level fields for compat routes or AISBF reports. */
  body?: Record<string, unknown>;
}

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly options: HttpErrorOptions = {},
  ) {
    super(message);
  }
}

export function errorTypeForStatus(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return status === 503 ? 'service_unavailable_error' : 'api_error';
  return 'invalid_request_error';
}

export interface ErrorEnvelope {
  error: { message: string; type: string; param: string | null; code: string | null; [k: string]: unknown };
  [extra: string]: unknown;
}

export function envelope(message: string, type: string, param: string | null = null, code: string | null = null): ErrorEnvelope {
  return { error: { message, type, param, code } };
}

/** What a ProviderError says to a client: the upstream's words for request errors, ours otherwise. */
export function describeProviderError(err: ProviderError): string {
  const where = `provider '${err.provider}' (model '${err.model}')`;
  switch (err.kind) {
    case 'auth':
      return `${where} rejected the configured API key (upstream status ${err.status ?? 'unknown'}); check that provider's api_key`;
    case 'missing_key':
      return err.message;
    case 'timeout':
      return `${where} did not answer in time: ${err.message}`;
    case 'connection':
      return `${where} could not be reached: ${err.message}`;
    case 'malformed':
      return `${where} sent a response that could not be read: ${err.message}`;
    case 'rate_limit':
      return `${where} is rate limiting requests: ${err.message}`;
    case 'server':
      return `${where} failed with status ${err.status ?? 'unknown'}: ${err.message}`;
    case 'stream_interrupted':
      return `${where} failed mid-stream: ${err.message}`;
    default:
      return err.message;
  }
}

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
