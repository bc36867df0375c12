/**
 * @module The cache key of a chat request: sha256 over who asked (the partition), the target and one
 * native JSON serialisation of the request with the top-level fields that do not change the answer
 * left out. Streamed and JSON requests are cached apart: each is replayed in its own form.
 */
import { hash } from 'node:crypto';
import type { ChatRequest } from '../providers/openai-types.js';
import type { Identity, RequestMeta } from '../pipeline/request-meta.js';

/**
 * Top-level fields that say how to deliver or label the answer, not what it is. Only at the top: a
 * property named `user` or `metadata` inside a tool's JSON schema is part of the question.
 */
const IGNORED = ['stream_options', 'user', 'metadata', 'store', 'service_tier'] as const;

/** One tenant never receives another's answer: the partition is the key id, else the user, else the kind. */
export function cachePartition(identity: Identity): string {
  if (identity.keyId) return `k:${identity.keyId}`;
  if (identity.user) return `u:${identity.user}`;
  return identity.kind;
}

/**
 * The request without its ignored fields. A replacer function would be called for every value of
 * every message (a JS call per node, most of the cost); a shallow copy of the few top-level fields,
 * made only when one is present, keeps JSON.stringify on V8's native fast path: one pass.
 */
function answerFields(req: ChatRequest): unknown {
  const r = req as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const k of IGNORED) {
    if (r[k] === undefined) continue;
    if (!copy) copy = { ...r };
    delete copy[k];
  }
  return copy ?? req;
}

/** One-shot `crypto.hash` over one string: a third of createHash + update's cost on small inputs. */
export function chatCacheKey(meta: Pick<RequestMeta, 'identity' | 'keys'>, target: string, req: ChatRequest): string {
  // Provider keys the client brought pay for the answer: they partition too (hashed, never stored).
  const keys = meta.keys;
  const brought = keys.providerKey !== undefined || keys.bearer !== undefined ? `\u0001${keys.providerKey ?? ''}\u0001${keys.bearer ?? ''}` : '';
  return hash('sha256', `${cachePartition(meta.identity)}${brought}\u0000${target}\u0000${JSON.stringify(answerFields(req))}`, 'base64url');
}
