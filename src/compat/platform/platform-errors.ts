/**
 * @module The platform app's error shapes (CONTRACTS §4): `{"detail": msg}`, video routes
 * `{"detail":{"error","message","details"}}`, FastAPI's 422 for invalid bodies. What maps to which
 * status and code is a table (data), read by the sub-app's one onError.
 */
import { ClientGoneError } from '../../providers/deadline.js';
import { ProviderError, type ProviderErrorKind } from '../../providers/provider-error.js';
import { HttpError } from '../../errors/http-error.js';
import { describeProviderError } from '../../routing/describe-provider-error.js';
import { redactText } from '../../log.js';

/** A FastAPI request-validation entry. */
export interface ValidationItem {
  type: string;
  loc: Array<string | number>;
  msg: string;
  input?: unknown;
  ctx?: Record<string, unknown>;
}

export class ValidationError extends Error {
  constructor(readonly items: ValidationItem[]) {
    super(items.map((i) => `${i.loc.join('.')}: ${i.msg}`).join('; '));
  }
}

/** 'upstream': 500 on the JSON routes, 502 on the video routes (the app's own split). */
type StatusRule = number | 'upstream' | 'client';

/** Provider failures by kind → the app's status and code; kinds not listed are upstream API errors. */
const PROVIDER_ERRORS: Partial<Record<ProviderErrorKind, { status: StatusRule; code: string }>> = {
  rate_limit: { status: 429, code: 'rate_limit_error' },
  timeout: { status: 504, code: 'timeout_error' },
  not_found: { status: 404, code: 'model_not_found' },
  too_large: { status: 413, code: 'file_size_error' },
  bad_request: { status: 'client', code: 'invalid_format_error' },
  context_length: { status: 'client', code: 'invalid_format_error' },
  // The key the client brought was rejected, or none exists: the client's to fix (401), not an upstream fault.
  client_auth: { status: 'client', code: 'authentication_error' },
  missing_key: { status: 'client', code: 'authentication_error' },
};
const PROVIDER_DEFAULT = { status: 'upstream' as StatusRule, code: 'huggingface_api_error' };

/** Our own HttpErrors by status → the app's code; other 5xx are upstream API errors, other 4xx format errors. */
const HTTP_CODES: Readonly<Record<number, string>> = {
  401: 'authentication_error',
  403: 'permission_error',
  404: 'model_not_found',
  413: 'file_size_error',
  429: 'rate_limit_error',
  504: 'timeout_error',
};
/** 502/503 of ours (a rotation with nothing left, no video) take the route's upstream status. */
const HTTP_UPSTREAM_STATUSES: ReadonlySet<number> = new Set([502, 503]);

interface PlatformError {
  status: number;
  code: string;
  message: string;
  details: Record<string, unknown>;
  headers: Record<string, string>;
}

function classify(err: unknown, video: boolean): PlatformError {
  const upstreamStatus = video ? 502 : 500;
  if (err instanceof ProviderError) {
    const rule = PROVIDER_ERRORS[err.kind] ?? PROVIDER_DEFAULT;
    const status = rule.status === 'upstream' ? upstreamStatus : rule.status === 'client' ? err.clientStatus : rule.status;
    const details: Record<string, unknown> = { provider: err.provider, model: err.model };
    const headers: Record<string, string> = {};
    if (err.kind === 'rate_limit') {
      const retry = err.retryAfterMs !== undefined ? Math.max(1, Math.ceil(err.retryAfterMs / 1000)) : undefined;
      details.retry_after = retry ?? null;
      if (retry) headers['retry-after'] = String(retry);
    }
    return { status, code: rule.code, message: redactText(describeProviderError(err)), details, headers };
  }
  if (err instanceof HttpError) {
    const s = err.status;
    const code = HTTP_CODES[s] ?? (s >= 500 ? 'huggingface_api_error' : 'invalid_format_error');
    const headers = err.options.headers ?? {};
    const details: Record<string, unknown> = {};
    if (s === 429) details.retry_after = headers['retry-after'] !== undefined ? Number(headers['retry-after']) : null;
    // A rotation's report (every candidate and why it failed) is kept for the client.
    if (err.options.body && 'rotation_id' in err.options.body) details.rotation = err.options.body;
    return { status: HTTP_UPSTREAM_STATUSES.has(s) ? upstreamStatus : s, code, message: redactText(err.message), details, headers };
  }
  return { status: 500, code: 'internal_error', message: 'Internal server error', details: {}, headers: {} };
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

/** Whether an error is one we expected (a client or provider problem), not a bug to log. */
export function expectedError(err: unknown): boolean {
  return err instanceof ValidationError || err instanceof ProviderError || err instanceof HttpError || err instanceof ClientGoneError;
}

/** The app's answer for anything a platform route throws. */
export function platformErrorResponse(err: unknown, video: boolean): Response {
  if (err instanceof ValidationError) return json({ detail: err.items }, 422);
  const e = classify(err, video);
  const body = video ? { detail: { error: e.code, message: e.message, details: e.details } } : { detail: e.message };
  return json(body, e.status, e.headers);
}
