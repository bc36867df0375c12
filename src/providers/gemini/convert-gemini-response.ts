/**
 * @module A Gemini `GenerateContentResponse` → OpenAI `chat.completion`, and Gemini's
 * `usageMetadata` → OpenAI `usage` (shared with the stream).
 */
import { randomToken } from '../../random-id.js';
import type { ChatCompletion, ToolCall, Usage } from '../provider-adapter.js';
import { newToolCallId } from './convert-to-gemini-messages.js';
import type { GenerateContentResponse, GenerateContentResponseUsageMetadata, Part } from './gemini-api.js';
import { mapGeminiFinishReason } from './map-gemini-finish-reason.js';

/**
 * OpenAI counts reasoning inside completion_tokens; Gemini reports thoughts apart from the candidates,
 * and tool-use prompt tokens apart from the prompt. Both are folded in so totals agree.
 */
export function mapGeminiUsage(u: GenerateContentResponseUsageMetadata): Usage {
  const prompt = (u.promptTokenCount ?? 0) + (u.toolUsePromptTokenCount ?? 0);
  const thoughts = u.thoughtsTokenCount ?? 0;
  const completion = (u.candidatesTokenCount ?? 0) + thoughts;
  const usage: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: u.totalTokenCount ?? prompt + completion };
  if (u.cachedContentTokenCount) usage.prompt_tokens_details = { cached_tokens: u.cachedContentTokenCount };
  if (thoughts) usage.completion_tokens_details = { reasoning_tokens: thoughts };
  return usage;
}

/** An OpenAI tool call from a functionCall part; Gemini's own id is kept when it sent one. */
export function toolCallFromPart(part: Part): ToolCall | undefined {
  const fc = part.functionCall;
  if (!fc?.name) return undefined;
  const call: ToolCall = { id: fc.id || newToolCallId(), type: 'function', function: { name: fc.name, arguments: JSON.stringify(fc.args ?? {}) } };
  // Gemini's own OpenAI-compatible endpoint returns the signature here; clients that echo the call
  // back unchanged let us replay it (see convert-to-gemini-messages).
  if (part.thoughtSignature) call.extra_content = { google: { thought_signature: part.thoughtSignature } };
  return call;
}

export function convertGeminiResponse(res: GenerateContentResponse, model: string): ChatCompletion {
  const candidate = res.candidates?.[0];
  let text = '';
  let reasoning = '';
  const toolCalls: ToolCall[] = [];
  for (const part of candidate?.content?.parts ?? []) {
    const call = toolCallFromPart(part);
    if (call) toolCalls.push(call);
    else if (typeof part.text === 'string') {
      if (part.thought) reasoning += part.text;
      else text += part.text;
    }
  }
  // No candidate at all means the prompt itself was blocked (promptFeedback.blockReason).
  const finish = candidate ? mapGeminiFinishReason(candidate.finishReason, toolCalls.length > 0) : 'content_filter';
  const message: ChatCompletion['choices'][number]['message'] = { role: 'assistant', content: text || (toolCalls.length ? null : '') };
  if (reasoning) message.reasoning_content = reasoning;
  if (toolCalls.length) message.tool_calls = toolCalls;
  const completion: ChatCompletion = {
    id: `chatcmpl-${randomToken(12, 'base64url')}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
  };
  if (res.usageMetadata) completion.usage = mapGeminiUsage(res.usageMetadata);
  return completion;
}
