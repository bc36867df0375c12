/**
 * @module A non-streamed Ollama `/api/chat` answer → an OpenAI `chat.completion`, and the tool-call
 * details shared with the stream: arguments object → JSON text, and an id for calls from servers
 * too old to send one.
 */
import { randomToken } from '../../random-id.js';
import type { ChatCompletion, ChatMessage, ToolCall, Usage } from '../provider-adapter.js';
import { ProviderError } from '../provider-error.js';
import { ollamaChatResponseSchema, type OllamaChatResponse, type OllamaResponseToolCall } from './ollama-api.js';
import { mapOllamaFinishReason } from './map-ollama-finish-reason.js';

/** Ollama's call id when it sent one, else one in its own format (`call_` + 8 lowercase). */
export function toolCallId(tc: OllamaResponseToolCall): string {
  return tc.id || `call_${randomToken(6, 'base64url').replace(/[^a-zA-Z0-9]/g, 'x').slice(0, 8).toLowerCase()}`;
}

/** OpenAI carries arguments as JSON text; Ollama as an object. */
export function toolCallArguments(tc: OllamaResponseToolCall): string {
  const args = tc.function.arguments;
  if (typeof args === 'string') return args;
  return JSON.stringify(args ?? {});
}

/** Usage from Ollama's counts; undefined when it sent none (the route then counts the prompt). */
export function ollamaUsage(r: Pick<OllamaChatResponse, 'prompt_eval_count' | 'eval_count'>): Usage | undefined {
  if (r.prompt_eval_count === undefined && r.eval_count === undefined) return undefined;
  const prompt = r.prompt_eval_count ?? 0;
  const completion = r.eval_count ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** Checks one Ollama chat object against the fields we read. */
export function parseOllamaChatResponse(value: unknown, provider: string, model: string): OllamaChatResponse {
  const r = ollamaChatResponseSchema.safeParse(value);
  if (!r.success) {
    throw new ProviderError(`Ollama answered something that is not a chat response: ${r.error.issues[0]?.message ?? 'invalid'}`, { kind: 'malformed', provider, model });
  }
  return r.data;
}

export function toChatCompletion(raw: unknown, requestModel: string, provider: string, model: string): ChatCompletion {
  const r = parseOllamaChatResponse(raw, provider, model);
  const calls = r.message?.tool_calls ?? [];
  const content = r.message?.content ?? '';
  const message: ChatMessage & { role: 'assistant' } = { role: 'assistant', content: calls.length && !content ? null : content };
  if (r.message?.thinking) message.reasoning_content = r.message.thinking;
  if (calls.length) {
    message.tool_calls = calls.map((tc): ToolCall => ({ id: toolCallId(tc), type: 'function', function: { name: tc.function.name, arguments: toolCallArguments(tc) } }));
  }
  const created = r.created_at ? Math.floor(Date.parse(r.created_at) / 1000) : NaN;
  return {
    id: `chatcmpl-${randomToken(12, 'base64url')}`,
    object: 'chat.completion',
    created: Number.isFinite(created) ? created : Math.floor(Date.now() / 1000),
    model: requestModel,
    choices: [{ index: 0, message, logprobs: null, finish_reason: mapOllamaFinishReason(r.done_reason, calls.length > 0) }],
    usage: ollamaUsage(r) ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
  };
}
