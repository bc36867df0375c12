/**
 * @module Our own HTTP error (bad input, unknown ids, limits) and OpenAI's error envelope: a leaf, so
 * every layer may throw it without importing the server.
 */

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
