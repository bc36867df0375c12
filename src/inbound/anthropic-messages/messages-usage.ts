/**
 * @module Anthropic usage of a relayed (pass-through) answer, as internal usage for limits and
 * accounting: the JSON body's `usage`, or a stream's `message_start` usage updated by each
 * `message_delta` (whose counts are cumulative).
 */
import { toOpenAIUsage, type AnthropicCounts } from '../../providers/anthropic/anthropic-usage.js';
import type { Usage } from '../../providers/openai-types.js';
import { SseUsageTap, type StreamUsageReader } from '../sse-usage-tap.js';

const FIELDS = ['input_tokens', 'output_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens'] as const;

/** Later counts win; nulls and absent fields leave the earlier ones. */
function merge(into: AnthropicCounts, u: unknown): void {
  if (u === null || typeof u !== 'object') return;
  const src = u as Record<string, unknown>;
  for (const f of FIELDS) if (typeof src[f] === 'number') into[f] = src[f] as number;
  if (src.output_tokens_details !== null && typeof src.output_tokens_details === 'object') into.output_tokens_details = src.output_tokens_details as AnthropicCounts['output_tokens_details'];
}

export function messagesUsageOfText(text: string): Usage | undefined {
  try {
    const u = (JSON.parse(text) as { usage?: unknown }).usage;
    if (u === null || typeof u !== 'object') return undefined;
    const counts: AnthropicCounts = {};
    merge(counts, u);
    return toOpenAIUsage(counts);
  } catch {
    return undefined;
  }
}

export function messagesStreamUsage(): StreamUsageReader {
  let counts: AnthropicCounts | undefined;
  const tap = new SseUsageTap((e) => {
    const u = e.type === 'message_start' ? (e.message as { usage?: unknown } | undefined)?.usage : e.type === 'message_delta' ? e.usage : undefined;
    if (u === undefined) return;
    counts ??= {};
    merge(counts, u);
  });
  return { feed: (chunk) => tap.feed(chunk), usage: () => (counts ? toOpenAIUsage(counts) : undefined) };
}
