/**
 * @module cache: exact-match answers for chat, before planning (a hit never runs autoselect nor
 * waits in a queue). Skipped when the stage is off, the client said `Cache-Control: no-cache`, the
 * request asks for several choices, or the call is internal. Streams are collected as they pass and
 * stored only when they ended well.
 */
import type { ChatRequest, ChatStreamPart } from '../providers/openai-types.js';
import type { RequestMeta } from './request-meta.js';
import type { CachedChat, PipelineStages } from './stages.js';

export function cacheEligible(stages: PipelineStages, meta: RequestMeta, req: ChatRequest): boolean {
  return !stages.cache.inactive && !meta.noCache && meta.parent === undefined && ((req as { n?: number | null }).n ?? 1) <= 1;
}

export async function cacheLookup(stages: PipelineStages, meta: RequestMeta, target: string, req: ChatRequest): Promise<CachedChat | undefined> {
  const r = stages.cache.lookup(meta, target, req);
  return r instanceof Promise ? await r : r;
}

/** Replays stored parts as a (primed) stream. */
export function replayParts(parts: readonly ChatStreamPart[]): AsyncIterator<ChatStreamPart> {
  let i = 0;
  return {
    next: () => Promise.resolve(i < parts.length ? { done: false, value: parts[i++]! } : { done: true, value: undefined }),
    return: () => Promise.resolve({ done: true, value: undefined }),
  };
}

/** Passes parts through, keeping a copy in `sink` (only used while the cache is on). */
export function collectParts(source: AsyncIterator<ChatStreamPart>, sink: ChatStreamPart[]): AsyncIterator<ChatStreamPart> {
  return {
    next: async () => {
      const r = await source.next();
      if (!r.done) sink.push(r.value);
      return r;
    },
    return: (v?: unknown) => source.return?.(v) ?? Promise.resolve({ done: true, value: undefined }),
  };
}
