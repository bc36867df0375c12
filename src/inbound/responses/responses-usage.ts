/**
 * @module Responses API usage of a relayed (pass-through) answer, as internal usage for limits and
 * accounting: the JSON body's `usage`, or the one on a stream's final `response.completed` (or
 * `response.incomplete` / `response.failed`) event. Cached and reasoning tokens are kept.
 */
import type { Usage } from '../../providers/openai-types.js';
import { SseUsageTap, type StreamUsageReader } from '../sse-usage-tap.js';

interface ResponsesUsage {
  input_tokens?: unknown;
  output_tokens?: unknown;
  input_tokens_details?: { cached_tokens?: unknown } | null;
  output_tokens_details?: { reasoning_tokens?: unknown } | null;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

function toUsage(u: unknown): Usage | undefined {
  if (u === null || typeof u !== 'object') return undefined;
  const r = u as ResponsesUsage;
  const prompt = num(r.input_tokens);
  const completion = num(r.output_tokens);
  const usage: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  const cached = r.input_tokens_details?.cached_tokens;
  const reasoning = r.output_tokens_details?.reasoning_tokens;
  if (typeof cached === 'number') usage.prompt_tokens_details = { cached_tokens: cached };
  if (typeof reasoning === 'number') usage.completion_tokens_details = { reasoning_tokens: reasoning };
  return usage;
}

export function responsesUsageOfText(text: string): Usage | undefined {
  try {
    return toUsage((JSON.parse(text) as { usage?: unknown }).usage);
  } catch {
    return undefined;
  }
}

const FINAL = new Set(['response.completed', 'response.incomplete', 'response.failed']);

export function responsesStreamUsage(): StreamUsageReader {
  let usage: Usage | undefined;
  const tap = new SseUsageTap((e) => {
    if (typeof e.type === 'string' && FINAL.has(e.type)) usage = toUsage((e.response as { usage?: unknown } | undefined)?.usage) ?? usage;
  });
  return { feed: (chunk) => tap.feed(chunk), usage: () => usage };
}
