/**
 * @module Anthropic `stop_reason` → OpenAI `finish_reason`.
 */
import type { FinishReason } from '../provider-adapter.js';
import type { AnthropicStopReason } from './anthropic-api.js';

export function mapAnthropicFinishReason(reason: AnthropicStopReason | string | null | undefined): FinishReason {
  switch (reason) {
    case 'tool_use':
      return 'tool_calls';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'refusal':
      return 'content_filter';
    // end_turn, stop_sequence, pause_turn (a server tool paused the turn) and anything newer.
    default:
      return 'stop';
  }
}
