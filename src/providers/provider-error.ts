/**
 * @module The one error type adapters throw, and the error-policy table (DESIGN.md) as data: nothing
 * else in aisbf decides what is retryable, what counts against a provider, and what the client sees.
 */

export type ProviderErrorKind =
  | 'rate_limit' // 429
  | 'server' // 500, 502, 503, 504, 529
  | 'timeout'
  | 'connection' // refused, reset, DNS
  | 'malformed' // the upstream answered something we cannot read
  | 'auth' // 401/403: our key is bad
  | 'context_length' // 400 that says the prompt is too long
  | 'bad_request' // 400, 422: the request is bad
  | 'not_found' // 404: unknown model
  | 'too_large' // 413
  | 'missing_key' // no key configured and none brought by the client
  | 'stream_interrupted'; // failed after the first streamed part

export interface ErrorPolicy {
  /** Counts towards the provider/model's failure threshold (cooldown). */
  countsAsFailure: boolean;
  /** The attempt loop moves on to the next candidate. */
  failsOver: boolean;
  /** Only fail over to a candidate with a larger context window. */
  needsLargerContext?: boolean;
  /** What the client sees when this was the last attempt; 'upstream' keeps the upstream status. */
  clientStatus: number | 'upstream';
}

export const ERROR_POLICY: Readonly<Record<ProviderErrorKind, ErrorPolicy>> = {
  rate_limit: { countsAsFailure: true, failsOver: true, clientStatus: 429 },
  server: { countsAsFailure: true, failsOver: true, clientStatus: 502 },
  timeout: { countsAsFailure: true, failsOver: true, clientStatus: 504 },
  connection: { countsAsFailure: true, failsOver: true, clientStatus: 502 },
  malformed: { countsAsFailure: true, failsOver: true, clientStatus: 502 },
  auth: { countsAsFailure: true, failsOver: true, clientStatus: 502 },
  context_length: { countsAsFailure: false, failsOver: true, needsLargerContext: true, clientStatus: 400 },
  bad_request: { countsAsFailure: false, failsOver: false, clientStatus: 'upstream' },
  not_found: { countsAsFailure: false, failsOver: false, clientStatus: 404 },
  too_large: { countsAsFailure: false, failsOver: false, clientStatus: 413 },
  missing_key: { countsAsFailure: false, failsOver: true, clientStatus: 401 },
  stream_interrupted: { countsAsFailure: true, failsOver: false, clientStatus: 502 },
};

export interface ProviderErrorInit {
  status?: number;
  kind: ProviderErrorKind;
  provider: string;
  model: string;
  retryAfterMs?: number;
  /** The upstream's own code/type, kept for the client envelope. */
  code?: string | null;
  param?: string | null;
  cause?: unknown;
}

export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  readonly status: number | undefined;
  readonly kind: ProviderErrorKind;
  readonly provider: string;
  readonly model: string;
  readonly retryAfterMs: number | undefined;
  readonly code: string | null;
  readonly param: string | null;

  constructor(message: string, init: ProviderErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.kind = init.kind;
    this.provider = init.provider;
    this.model = init.model;
    this.retryAfterMs = init.retryAfterMs;
    this.code = init.code ?? null;
    this.param = init.param ?? null;
  }

  get policy(): ErrorPolicy {
    return ERROR_POLICY[this.kind];
  }

  /** The HTTP status the client gets when this error ends the request. */
  get clientStatus(): number {
    const s = this.policy.clientStatus;
    if (s !== 'upstream') {
      if (this.kind === 'server' && (this.status === 503 || this.status === 529)) return 503;
      return s;
    }
    return this.status && this.status >= 400 && this.status < 500 ? this.status : 400;
  }
}

const CONTEXT_LENGTH_RE =
  /context[_ ]length|context window|maximum context|too many tokens|prompt is too long|input is too long|exceeds the (?:maximum|context)|token limit/i;

/** Classifies an upstream HTTP status (and message) into an error kind. */
export function kindFromStatus(status: number, message = ''): ProviderErrorKind {
  if (status === 429) return 'rate_limit';
  if (status === 401 || status === 403) return 'auth';
  if (status === 404) return 'not_found';
  if (status === 413) return 'too_large';
  if (status === 408) return 'timeout';
  if (status === 400 || status === 422) return CONTEXT_LENGTH_RE.test(message) ? 'context_length' : 'bad_request';
  if (status >= 500) return 'server';
  return 'bad_request';
}

/** Parses a Retry-After header (seconds or HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const secs = Number(value);
  if (Number.isFinite(secs) && secs >= 0) return Math.round(secs * 1000);
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** Errors thrown by fetch/undici/sockets and by our own timers, classified. */
export function kindFromTransportError(err: unknown): ProviderErrorKind {
  const e = err as { name?: string; code?: string; cause?: { code?: string; name?: string } } | undefined;
  const name = e?.name ?? '';
  const code = e?.code ?? e?.cause?.code ?? '';
  if (name === 'TimeoutError' || code === 'ETIMEDOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'timeout';
  if (name === 'SyntaxError') return 'malformed';
  return 'connection';
}
