/**
 * @module The one rendering of "what served this request" as response headers (`x-aisbf-provider`,
 * `x-aisbf-model`, `x-aisbf-attempts`, `x-aisbf-autoselect`), for every route. Values are configured
 * ids, but a direct `provider/model` carries the client's model name: anything outside printable
 * ASCII is percent-encoded, so no client input reaches a header unencoded.
 */
import type { ServedBy } from '../pipeline/run-request.js';
import { SSE_HEADERS } from './sse-pump.js';

const PLAIN = /^[\x20-\x7e]*$/;

/** A header-safe value: printable ASCII as is, anything else percent-encoded (UTF-8). */
export function headerValue(s: string): string {
  return PLAIN.test(s) ? s : encodeURIComponent(s);
}

export function servedHeaders(served: ServedBy | undefined): Record<string, string> {
  if (!served) return { 'x-aisbf-cache': 'hit' };
  const h: Record<string, string> = {
    'x-aisbf-provider': served.providerId,
    'x-aisbf-model': headerValue(served.model),
    'x-aisbf-attempts': String(served.attempts),
  };
  if (served.autoselect) h['x-aisbf-autoselect'] = headerValue(`${served.autoselect.chosen}; reason=${served.autoselect.reason}`);
  return h;
}

/**
 * A stream's response headers: the SSE ones, what served it, the request id. Object.assign, not a
 * spread with a key after it, which made a new hidden class per stream on Node 20 (copy-with.ts).
 */
export function sseHeaders(served: ServedBy | undefined, requestId: string): Record<string, string> {
  return Object.assign({}, SSE_HEADERS, servedHeaders(served), { 'x-request-id': requestId });
}
