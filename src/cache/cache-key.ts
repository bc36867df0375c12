/**
 * @module The cache key of a chat request: one JSON pass over the request (native, fast) with the
 * fields that do not change the answer left out, hashed with the partition (who asked) and the
 * target. Streamed and JSON requests are cached apart: each is replayed in its own form.
 */
import { createHash } from 'node:crypto';
import type { ChatRequest } from '../providers/openai-types.js';
import type { Identity } from '../pipeline/request-meta.js';

/** Fields that say how to deliver or label the answer, not what it is. */
const IGNORED = new Set(['stream_options', 'user', 'metadata', 'store', 'service_tier']);

function replacer(this: unknown, key: string, value: unknown): unknown {
  return IGNORED.has(key) ? undefined : value;
}

/** One tenant never receives another's answer: the partition is the key id, else the user, else the kind. */
export function cachePartition(identity: Identity): string {
  if (identity.keyId) return `k:${identity.keyId}`;
  if (identity.user) return `u:${identity.user}`;
  return identity.kind;
}

export function chatCacheKey(identity: Identity, target: string, req: ChatRequest): string {
  const h = createHash('sha256');
  h.update(cachePartition(identity));
  h.update('\u0000');
  h.update(target);
  h.update('\u0000');
  h.update(JSON.stringify(req, replacer));
  return h.digest('base64url');
}
