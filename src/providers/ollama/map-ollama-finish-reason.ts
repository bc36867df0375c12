/**
 * @module Ollama's `done_reason` → OpenAI's finish_reason. Ollama says "stop" even when the model
 * ended its turn with tool calls, so whether calls were made decides between "stop" and "tool_calls"
 * (as Ollama's own OpenAI layer does).
 */
import type { FinishReason } from '../provider-adapter.js';

export function mapOllamaFinishReason(doneReason: string | undefined, sawToolCalls: boolean): FinishReason {
  if (doneReason === 'length') return 'length';
  return sawToolCalls ? 'tool_calls' : 'stop';
}
