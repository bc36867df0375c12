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
  | 'client_auth' // 401/403 for a key the client brought (forward_client_key): not the provider's fault
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
  // The client's own key: counting it would let any client cool a provider down for everyone; a
  // candidate with a configured key may still serve, so fail over; 401 tells the client it is theirs.
  client_auth: { countsAsFailure: false, failsOver: true, clientStatus: 401 },
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

/**
 * Network error codes: node's socket/DNS errors, undici's (`UND_ERR_*`), node's HTTP parser (`HPE_*`,
 * the upstream sent something that is not HTTP) and TLS/certificate failures.
 */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NONAME',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENETRESET',
  'EPROTO',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);
const NETWORK_CODE_RE = /^(?:UND_ERR_|HPE_|ERR_TLS_|ERR_SSL_|ERR_HTTP2_)|CERT|SELF_SIGNED|^UNABLE_TO_/;
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ERR_SOCKET_CONNECTION_TIMEOUT']);

/** The network error code of `err` or of an error in its `cause` chain (fetch wraps socket errors). */
export function networkErrorCode(err: unknown): string | undefined {
  let e = err as { code?: unknown; cause?: unknown } | null | undefined;
  for (let depth = 0; depth < 5 && e && typeof e === 'object'; depth++) {
    const code = e.code;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || NETWORK_CODE_RE.test(code))) return code;
    e = e.cause as typeof e;
  }
  return undefined;
}

/**
 * What kind of upstream failure a thrown error is, or undefined when it is not one. Only errors that
 * really come from the network or the upstream qualify: a socket/DNS/TLS/undici error code anywhere
 * in the cause chain, a TimeoutError, or a SyntaxError (the SDKs parse upstream bodies with
 * JSON.parse and let its SyntaxError through; our converters turn every parse of client input into a
 * 400 themselves). Everything else (a TypeError or RangeError of our own code, e.g. "Maximum call
 * stack size exceeded") is a bug or a bad request, never a provider failure: the caller rethrows it.
 */
export function transportErrorKind(err: unknown): ProviderErrorKind | undefined {
  if (!(err instanceof Error)) return undefined;
  if (err.name === 'TimeoutError') return 'timeout';
  const code = networkErrorCode(err);
  if (code) return TIMEOUT_CODES.has(code) ? 'timeout' : code.startsWith('HPE_') ? 'malformed' : 'connection';
  if (err instanceof SyntaxError) return 'malformed';
  return undefined;
}

/**
 * A 401/403 for a key the client brought: says so, and how to give aisbf a key of its own, instead
 * of blaming a configured key that does not exist.
 */
export function clientKeyRejected(err: ProviderError, via: 'client' | 'client-header' = 'client'): ProviderError {
  const where = `provider '${err.provider}' (model '${err.model}')`;
  // Say which key it was: the x-aisbf-provider-key header, or the bearer forwarded under forward_client_key.
  const how =
    via === 'client-header'
      ? `the x-aisbf-provider-key header's key was used as the provider key. Send a valid key for '${err.provider}' in that header, or leave it out and configure one for aisbf: `
      : `forward_client_key is on for this provider, so aisbf passed the client's bearer token on as the provider key. Send a valid key for '${err.provider}', or configure one for aisbf: `;
  const message =
    `${where} rejected the API key the client sent (upstream status ${err.status ?? 'unknown'}): ${how}` +
    `set "api_key" of provider '${err.provider}' in providers.json (e.g. "\${MY_PROVIDER_KEY}" with that environment variable set). ` +
    `Upstream said: ${err.message}`;
  return new ProviderError(message, { kind: 'client_auth', status: err.status, provider: err.provider, model: err.model, code: err.code, param: err.param, cause: err });
}
