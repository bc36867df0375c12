/** @module Internal finish reasons → Anthropic `stop_reason` (and the Messages usage object). */
import type { FinishReason, Usage } from '../../providers/openai-types.js';

export type AnthropicStopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'refusal';

export function toStopReason(reason: FinishReason | null | undefined, sawToolCall: boolean): AnthropicStopReason {
  switch (reason) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      // Some upstreams end a tool-calling turn with "stop": the client must still run the tools.
      return sawToolCall ? 'tool_use' : 'end_turn';
  }
}

export interface MessagesUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  /** aisbf: tokens actually sent upstream after condensation. */
  effective_context?: number;
}

/** OpenAI usage → Anthropic's: cached prompt tokens are reported apart from input_tokens. */
export function toMessagesUsage(u: Usage | undefined, fallbackInput: number): MessagesUsage {
  if (!u) return { input_tokens: fallbackInput, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  const cached = (u.prompt_tokens_details as { cached_tokens?: number } | undefined)?.cached_tokens ?? 0;
  const out: MessagesUsage = {
    input_tokens: Math.max(0, u.prompt_tokens - cached),
    output_tokens: u.completion_tokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
  };
  if (u.effective_context !== undefined) out.effective_context = u.effective_context;
  return out;
}
