/**
 * @module Anthropic token counts → OpenAI `usage`. Anthropic reports cache writes and cache reads
 * apart from `input_tokens`; all three are prompt tokens in OpenAI's terms.
 */
import type { Usage } from '../provider-adapter.js';

export interface AnthropicCounts {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  output_tokens_details?: { thinking_tokens?: number | null } | null;
}

export function toOpenAIUsage(c: AnthropicCounts): Usage {
  const cacheRead = c.cache_read_input_tokens ?? 0;
  const prompt = (c.input_tokens ?? 0) + (c.cache_creation_input_tokens ?? 0) + cacheRead;
  const completion = c.output_tokens ?? 0;
  const usage: Usage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cacheRead },
  };
  const thinking = c.output_tokens_details?.thinking_tokens;
  if (typeof thinking === 'number') usage.completion_tokens_details = { reasoning_tokens: thinking };
  return usage;
}
