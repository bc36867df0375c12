/**
 * @module Maps the openai SDK's errors (used for OpenAI and every OpenAI-compatible upstream) and the
 * direct chat calls' non-2xx answers onto the error-policy kinds, keeping the upstream's message, code
 * and param. A 404 for the path itself (not for a model) says that the endpoint may lack its `/v1`.
 */
import OpenAI from 'openai';
import { ProviderError, kindFromStatus, parseRetryAfter, transportErrorKind } from '../provider-error.js';

interface UpstreamErrorBody {
  message?: unknown;
  code?: unknown;
  param?: unknown;
  type?: unknown;
}

/**
 * Whether a 404 is about the URL rather than a model. OpenAI and compatible servers name the model
 * (`model_not_found`, "The model `x` does not exist"); a missing route answers "Invalid URL (POST
 * /chat/completions)", "Not Found", "Cannot POST …", "404 page not found" or an HTML page.
 */
export function isPathNotFound(code: string | null, message: string): boolean {
  return code !== 'model_not_found' && !/model/i.test(message);
}

/** The client's message for a 404 on the path: provider, the path tried, and what to check. */
export function pathNotFoundMessage(provider: string, path: string, upstreamMessage: string): string {
  const basePath = path.replace(/\/(?:…|chat\/completions|embeddings|models|images\/.*|audio\/.*|videos.*)$/, '');
  const hasVersion = /\/v\d+[a-z0-9]*$/i.test(basePath);
  const hint = hasVersion
    ? `check the endpoint of provider '${provider}' in providers.json`
    : `the endpoint of provider '${provider}' may be missing its /v1 (OpenAI-compatible servers serve ${basePath}/v1/chat/completions)`;
  return `provider '${provider}' answered 404 for the path ${path} itself, not for a model: ${hint}. Upstream said: ${upstreamMessage}`;
}

/**
 * A non-2xx answer (or an `{"error":…}` SSE event) as a ProviderError, in the upstream's words.
 * `path` is the URL path tried (for the 404-on-the-path hint).
 */
export function upstreamError(
  provider: string,
  model: string,
  status: number | undefined,
  payload: unknown,
  retryAfter: string | null | undefined,
  cause?: unknown,
  path?: string,
): ProviderError {
  const raw = (payload as { error?: unknown } | undefined)?.error ?? payload;
  const body: UpstreamErrorBody = raw && typeof raw === 'object' ? (raw as UpstreamErrorBody) : { message: raw };
  const effective = status ?? 502;
  const upstreamMessage = typeof body.message === 'string' && body.message ? body.message : `HTTP ${effective}`;
  const code = typeof body.code === 'string' ? body.code : typeof body.type === 'string' ? body.type : null;
  const param = typeof body.param === 'string' ? body.param : null;
  if (status === 404 && path !== undefined && isPathNotFound(typeof body.code === 'string' ? body.code : null, upstreamMessage)) {
    return new ProviderError(pathNotFoundMessage(provider, path, upstreamMessage.slice(0, 200)), { kind: 'not_found', status: 404, provider, model, code: 'endpoint_not_found', cause });
  }
  // No status: an error event inside a 200 stream, i.e. the upstream failed midway.
  const kind = status === undefined ? 'server' : code === 'context_length_exceeded' ? 'context_length' : kindFromStatus(effective, upstreamMessage);
  return new ProviderError(upstreamMessage, { kind, status: effective, provider, model, code, param, retryAfterMs: parseRetryAfter(retryAfter), cause });
}

/** The path part of a base URL, for messages (hosts are not shown to clients). */
function pathOf(baseURL: string | undefined): string | undefined {
  if (baseURL === undefined) return undefined;
  try {
    return new URL(baseURL).pathname.replace(/\/+$/, '');
  } catch {
    return undefined;
  }
}

/**
 * The SDK's errors → ProviderError. `APIConnectionError` wraps whatever the transport threw: a real
 * network error (a code in its cause chain) is a connection failure; anything else is our own
 * exception and is handed back unwrapped, to leave unchanged.
 */
export function mapOpenAIError(provider: string, model: string, baseURL?: string) {
  return (err: unknown): Error | undefined => {
    if (!(err instanceof OpenAI.APIError) || err instanceof OpenAI.APIUserAbortError) return undefined;
    if (err instanceof OpenAI.APIConnectionTimeoutError) return new ProviderError('upstream timed out', { kind: 'timeout', provider, model, cause: err });
    if (err instanceof OpenAI.APIConnectionError) {
      const cause = (err as { cause?: unknown }).cause;
      if (cause !== undefined && transportErrorKind(cause) === undefined) return cause instanceof Error ? cause : err;
      const kind = cause === undefined ? 'connection' : (transportErrorKind(cause) ?? 'connection');
      return new ProviderError((cause as Error | undefined)?.message ?? err.message, { kind, provider, model, cause: err });
    }
    // The SDK keeps the body's `error` member; without one its message is "<status> <text>".
    const payload = err.error ?? { message: err.message.replace(/^\d{3}\s+/, '') };
    const base = pathOf(baseURL);
    return upstreamError(provider, model, err.status ?? 502, payload, err.headers?.get('retry-after'), err, base === undefined ? undefined : `${base}/…`);
  };
}

/** An upstream body we cannot parse: `malformed` (a provider failure), never our own SyntaxError. */
export function unreadableBody(err: unknown, what: string, provider: string, model: string): ProviderError {
  return new ProviderError(`${what} is not JSON: ${(err as Error).message}`, { kind: 'malformed', provider, model, cause: err });
}
