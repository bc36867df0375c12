/**
 * @module Maps `@google/genai` errors onto the error-policy kinds. The SDK throws `ApiError` with the
 * HTTP status and the upstream's JSON body as its message (`{"error":{code,message,status,details}}`);
 * we read the body back for Gemini's own words, its status name, ErrorInfo reason and RetryInfo delay.
 * Gemini answers a bad key with 400 INVALID_ARGUMENT + reason API_KEY_INVALID, which is an auth
 * failure, not a bad request.
 */
import { ApiError } from '@google/genai';
import { ProviderError, kindFromStatus, type ProviderErrorKind } from '../provider-error.js';
import { geminiErrorBodySchema, type GeminiErrorBody } from './gemini-api.js';

/** ErrorInfo reasons that mean our key (not the request) is the problem. */
const KEY_REASONS = new Set(['API_KEY_INVALID', 'API_KEY_EXPIRED', 'API_KEY_SERVICE_BLOCKED', 'API_KEY_HTTP_REFERRER_BLOCKED', 'API_KEY_IP_ADDRESS_BLOCKED', 'API_KEY_ANDROID_APP_BLOCKED', 'API_KEY_IOS_APP_BLOCKED', 'CONSUMER_SUSPENDED', 'SERVICE_DISABLED']);

const SDK_BODY_ERRORS = /^(Incomplete JSON segment at the end|exception parsing stream chunk|Response body is empty)/;

/** Reads the error body out of an ApiError message (a JSON object, or a one-element array of it). */
export function parseGeminiErrorBody(message: string): GeminiErrorBody['error'] | undefined {
  let json: unknown;
  const start = message.search(/[[{]/);
  if (start < 0) return undefined;
  try {
    json = JSON.parse(message.slice(start));
  } catch {
    return undefined;
  }
  if (Array.isArray(json)) json = json[0];
  const parsed = geminiErrorBodySchema.safeParse(json);
  return parsed.success ? parsed.data.error : undefined;
}

/** "12s", "1.5s", "0.250s" (google.protobuf.Duration in JSON) → ms. */
export function parseDuration(value: string | undefined): number | undefined {
  const m = value ? /^(\d+(?:\.\d+)?)s$/.exec(value.trim()) : null;
  return m ? Math.round(Number(m[1]) * 1000) : undefined;
}

function kindOf(status: number, body: GeminiErrorBody['error'] | undefined, reason: string | undefined, message: string): ProviderErrorKind {
  if (reason && KEY_REASONS.has(reason)) return 'auth';
  if (status === 400 && /api key not valid/i.test(message)) return 'auth';
  if (body?.status === 'RESOURCE_EXHAUSTED') return 'rate_limit';
  if (body?.status === 'UNAUTHENTICATED' || body?.status === 'PERMISSION_DENIED') return 'auth';
  if (body?.status === 'NOT_FOUND') return 'not_found';
  if (body?.status === 'UNAVAILABLE' || body?.status === 'INTERNAL' || body?.status === 'DEADLINE_EXCEEDED') return status === 504 || body.status === 'DEADLINE_EXCEEDED' ? 'timeout' : 'server';
  return kindFromStatus(status, message);
}

export function mapGeminiError(provider: string, model: string) {
  return (err: unknown): ProviderError | undefined => {
    if (!(err instanceof ApiError)) {
      // The SDK's own stream reader reports a truncated or unreadable body with plain Errors.
      const msg = (err as Error | undefined)?.message ?? '';
      if (err instanceof Error && err.name === 'Error' && SDK_BODY_ERRORS.test(msg)) {
        return new ProviderError(msg, { kind: 'malformed', provider, model, cause: err });
      }
      return undefined;
    }
    const status = err.status;
    const body = parseGeminiErrorBody(err.message);
    const details = body?.details ?? [];
    const reason = details.find((d) => typeof d.reason === 'string')?.reason;
    const message = body?.message || err.message || `HTTP ${status}`;
    const kind = kindOf(status, body, reason, message);
    const retryAfterMs = parseDuration(details.find((d) => d['@type']?.endsWith('google.rpc.RetryInfo'))?.retryDelay);
    return new ProviderError(message, {
      kind,
      status,
      provider,
      model,
      // not_found: let the envelope say model_not_found, as OpenAI clients expect.
      code: kind === 'not_found' ? null : (reason ?? body?.status ?? null),
      retryAfterMs,
      cause: err,
    });
  };
}
