/**
 * @module Hugging Face's error shapes → what the shared OpenAI error mapping understands, and the
 * HF-specific classification on top of it.
 *
 * 1. `createHuggingFaceFetch` (the transport of HF's clients and direct chat calls) rewrites every
 *    non-2xx body into OpenAI's envelope, because the shared mapping reads only a body's `error` member: a string error would lose
 *    its status text, `{"message"}`/`{"detail"}` bodies would read "(no body)", and a loading model's
 *    `estimated_time` would vanish. That wait becomes a Retry-After header, so the shared mapping puts
 *    it into `retryAfterMs`.
 * 2. `refineHuggingFaceError` re-classifies what the shared mapping cannot know: the router answers an
 *    unknown model with 400 `model_not_found` (→ not_found, 404), a model no enabled provider serves
 *    with `model_not_supported` (also not_found), exhausted credits with 402 (our account cannot pay:
 *    like a bad key, fail over).
 */
import { ProviderError, clientKeyRejected, type ProviderErrorKind } from '../provider-error.js';
import type { KeySource } from '../provider-adapter.js';
import type { NodeHttpFetch } from '../node-http-fetch.js';
import { huggingFaceErrorBodySchema, type OpenAIErrorEnvelope } from './huggingface-api.js';

const TYPE_BY_STATUS: Record<number, string> = { 400: 'invalid_request_error', 401: 'authentication_error', 402: 'insufficient_quota', 403: 'permission_error', 404: 'not_found_error', 422: 'invalid_request_error', 429: 'rate_limit_error' };

function str(v: unknown): string | null {
  return typeof v === 'string' && v ? v : null;
}

/** Any HF error body (JSON or not) → OpenAI's envelope, plus the wait a loading model announced. */
export function normalizeHuggingFaceError(status: number, text: string): { envelope: OpenAIErrorEnvelope; retryAfterSeconds?: number } {
  const type = TYPE_BY_STATUS[status] ?? (status >= 500 ? 'server_error' : 'invalid_request_error');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = huggingFaceErrorBodySchema.safeParse(json);
  if (!parsed.success) {
    // Not JSON (a proxy's HTML page, plain text): keep a short, readable piece of it.
    const plain = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300);
    return { envelope: { error: { message: plain || `HTTP ${status}`, type, param: null, code: null } } };
  }
  const b = parsed.data;
  const e = b.error;
  if (e && typeof e === 'object' && !Array.isArray(e)) {
    const message = str(e.message) ?? (e.message !== undefined ? JSON.stringify(e.message) : `HTTP ${status}`);
    return { envelope: { error: { ...e, message, type: str(e.type) ?? type, param: str(e.param), code: str(e.code) } } };
  }
  const detail = typeof b.detail === 'string' ? b.detail : Array.isArray(b.detail) ? b.detail.map((d) => d.msg).filter(Boolean).join('; ') : undefined;
  const message = (typeof e === 'string' ? e : Array.isArray(e) ? e.join('; ') : undefined) || b.message || detail || `HTTP ${status}`;
  const loading = b.estimated_time !== undefined;
  return {
    envelope: { error: { message, type: b.error_type ?? type, param: null, code: loading ? 'model_loading' : null, ...(loading ? { estimated_time: b.estimated_time } : {}) } },
    retryAfterSeconds: loading ? Math.max(1, Math.ceil(b.estimated_time as number)) : undefined,
  };
}

/** A fetch for the openai SDK talking to Hugging Face, over `base`: error bodies normalized (see the module doc). */
export const createHuggingFaceFetch = (base: NodeHttpFetch): NodeHttpFetch =>
  (async (input: string | URL, init?: Parameters<NodeHttpFetch>[1]) => {
    const res = await base(input, init);
    if (res.ok) return res;
    const text = await res.text().catch(() => '');
    const { envelope, retryAfterSeconds } = normalizeHuggingFaceError(res.status, text);
    const headers = new Headers(res.headers);
    headers.set('content-type', 'application/json');
    headers.delete('content-length');
    headers.delete('content-encoding');
    if (retryAfterSeconds !== undefined && !headers.has('retry-after')) headers.set('retry-after', String(retryAfterSeconds));
    return new Response(JSON.stringify(envelope), { status: res.status, statusText: res.statusText, headers });
  }) as NodeHttpFetch;

const NOT_FOUND_CODES = new Set(['model_not_found', 'model_not_supported']);
const NOT_FOUND_RE = /does not exist|not supported by any provider|model .*not found/i;

/**
 * Re-classifies a ProviderError from the shared OpenAI mapping with what only HF's errors say. A 402
 * for a token the client brought (forward_client_key) is the client's account, not ours.
 */
export function refineHuggingFaceError(err: unknown, keySource?: KeySource): unknown {
  if (!(err instanceof ProviderError)) return err;
  let kind: ProviderErrorKind = err.kind;
  let status = err.status;
  if (err.status === 402 && err.kind !== 'client_auth') {
    const auth = new ProviderError(err.message, { kind: 'auth', status: 402, provider: err.provider, model: err.model, code: err.code, param: err.param, cause: err.cause });
    return keySource !== undefined && keySource !== 'config' ? clientKeyRejected(auth, keySource) : auth;
  }
  else if ((err.status === 400 || err.status === 404) && ((err.code && NOT_FOUND_CODES.has(err.code)) || NOT_FOUND_RE.test(err.message))) {
    kind = 'not_found';
    status = 404;
  }
  if (kind === err.kind) return err;
  return new ProviderError(err.message, { kind, status, provider: err.provider, model: err.model, retryAfterMs: err.retryAfterMs, code: err.code, param: err.param, cause: err.cause });
}
