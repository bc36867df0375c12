/**
 * @module The internal ChatCompletion → a Responses API `response` object: a reasoning item (when the
 * provider returned reasoning), the message with its output_text, one function_call item per tool
 * call; status `incomplete` when the answer hit max_output_tokens or a content filter.
 */
import { copyWith } from '../../copy-with.js';
import type { ChatCompletion, FinishReason } from '../../providers/openai-types.js';
import {
  functionCallItem,
  messageItem,
  newOutputId,
  reasoningItem,
  responseSnapshot,
  toResponsesUsage,
  type Finished,
  type OutputItem,
  type ResponseShell,
} from './response-object.js';

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : '')).join('');
  return '';
}

export function finishedState(reason: FinishReason | null | undefined): Pick<Finished, 'status' | 'incomplete'> {
  if (reason === 'length') return { status: 'incomplete', incomplete: 'max_output_tokens' };
  if (reason === 'content_filter') return { status: 'incomplete', incomplete: 'content_filter' };
  return { status: 'completed' };
}

export function renderResponsesResponse(c: ChatCompletion, shell: ResponseShell): Record<string, unknown> {
  return responseSnapshot(shell, finishedResponse(c));
}

/** What a completion fills in the response object: status, output items, usage. */
export function finishedResponse(c: ChatCompletion): Finished {
  const choice = c.choices[0];
  const msg = choice?.message;
  const output: OutputItem[] = [];
  const reasoning = (msg?.reasoning_content ?? (msg as { reasoning?: unknown } | undefined)?.reasoning) as unknown;
  if (typeof reasoning === 'string' && reasoning) output.push(reasoningItem(newOutputId('rs'), reasoning));
  const text = textOf(msg?.content);
  const state = finishedState(choice?.finish_reason);
  if (text || !msg?.tool_calls?.length) output.push(messageItem(newOutputId('msg'), text, state.status === 'incomplete' ? 'incomplete' : 'completed'));
  for (const call of msg?.tool_calls ?? []) output.push(functionCallItem(newOutputId('fc'), call.id || newOutputId('fc'), call.function.name, call.function.arguments ?? '', 'completed'));
  return copyWith(state, { output, usage: c.usage ? toResponsesUsage(c.usage) : undefined });
}
