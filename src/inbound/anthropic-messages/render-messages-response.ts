/**
 * @module The internal ChatCompletion → an Anthropic `message` object: thinking, text and tool_use
 * blocks in that order, stop_reason, and usage with cached tokens apart (plus aisbf's
 * effective_context).
 */
import type { ChatCompletion } from '../../providers/openai-types.js';
import { toMessagesUsage, toStopReason } from './map-stop-reason.js';
import { newToolUseId } from './messages-stream-writer.js';

function parseInput(args: string): unknown {
  if (!args) return {};
  try {
    return JSON.parse(args);
  } catch {
    // A model that produced broken JSON: the client still sees what it said.
    return { _raw_arguments: args };
  }
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : '')).join('');
  return '';
}

export function renderMessagesResponse(c: ChatCompletion, opts: { id: string; model: string; inputTokens: number }): Record<string, unknown> {
  const choice = c.choices[0];
  const msg = choice?.message;
  const content: Array<Record<string, unknown>> = [];
  const reasoning = (msg?.reasoning_content ?? (msg as { reasoning?: unknown } | undefined)?.reasoning) as unknown;
  if (typeof reasoning === 'string' && reasoning) content.push({ type: 'thinking', thinking: reasoning, signature: '' });
  const text = textOf(msg?.content);
  if (text) content.push({ type: 'text', text });
  for (const call of msg?.tool_calls ?? []) {
    content.push({ type: 'tool_use', id: call.id || newToolUseId(), name: call.function.name, input: parseInput(call.function.arguments) });
  }
  return {
    id: opts.id,
    type: 'message',
    role: 'assistant',
    model: opts.model,
    content,
    stop_reason: toStopReason(choice?.finish_reason, (msg?.tool_calls?.length ?? 0) > 0),
    stop_sequence: null,
    usage: toMessagesUsage(c.usage, opts.inputTokens),
  };
}
