/**
 * @module An Anthropic `message` → an OpenAI `chat.completion`: text blocks → content, thinking
 * blocks → reasoning_content, tool_use blocks → tool_calls (input JSON-stringified).
 */
import type { ChatCompletion, ChatCompletionChoice, ToolCall } from '../provider-adapter.js';
import type { AnthropicMessage } from './anthropic-api.js';
import { toOpenAIUsage } from './anthropic-usage.js';
import { mapAnthropicFinishReason } from './map-anthropic-finish-reason.js';

export function anthropicMessageToCompletion(msg: AnthropicMessage, model: string, id: string, created: number): ChatCompletion {
  let text = '';
  let reasoning = '';
  const toolCalls: ToolCall[] = [];
  for (const block of msg.content ?? []) {
    if (block.type === 'text') text += block.text;
    else if (block.type === 'thinking') reasoning += block.thinking;
    else if (block.type === 'tool_use') {
      toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } });
    }
  }
  const message: ChatCompletionChoice['message'] = { role: 'assistant', content: text || (toolCalls.length ? null : ''), refusal: null };
  if (reasoning) message.reasoning_content = reasoning;
  if (toolCalls.length) message.tool_calls = toolCalls;
  return {
    id,
    object: 'chat.completion',
    created,
    model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: mapAnthropicFinishReason(msg.stop_reason) }],
    usage: toOpenAIUsage(msg.usage ?? {}),
  };
}
