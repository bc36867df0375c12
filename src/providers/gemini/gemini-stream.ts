/**
 * @module Gemini `streamGenerateContent?alt=sse` chunks → ChatStreamParts, in one place. Each chunk
 * carries only the new parts (text is incremental, not cumulative); a functionCall arrives whole in
 * one chunk, so its tool-call delta carries id, name and all arguments at once. `usageMetadata` is a
 * running total, so the last one seen is the call's usage; the last chunk carries `finishReason`.
 */
import type { ChatStreamPart, FinishReason } from '../provider-adapter.js';
import { ProviderError } from '../provider-error.js';
import { mapGeminiUsage, toolCallFromPart } from './convert-gemini-response.js';
import type { GenerateContentResponse, GenerateContentResponseUsageMetadata } from './gemini-api.js';
import { mapGeminiFinishReason } from './map-gemini-finish-reason.js';

export function geminiStreamToParts(provider: string, model: string) {
  return async function* geminiChunksToParts(chunks: AsyncIterable<GenerateContentResponse>): AsyncGenerator<ChatStreamPart> {
    let toolIndex = 0;
    let usage: GenerateContentResponseUsageMetadata | undefined;
    let finishReason: string | undefined;
    let blocked = false;
    for await (const chunk of chunks) {
      if (chunk.usageMetadata) usage = chunk.usageMetadata;
      const candidate = chunk.candidates?.[0];
      if (!candidate) {
        if (chunk.promptFeedback?.blockReason) blocked = true;
        continue;
      }
      for (const part of candidate.content?.parts ?? []) {
        const call = toolCallFromPart(part);
        if (call) {
          yield { type: 'tool-call-delta', index: toolIndex++, id: call.id, name: call.function.name, arguments: call.function.arguments };
        } else if (typeof part.text === 'string' && part.text) {
          yield part.thought ? { type: 'reasoning-delta', text: part.text } : { type: 'text-delta', text: part.text };
        }
      }
      if (candidate.finishReason) finishReason = candidate.finishReason;
    }
    if (!finishReason && !blocked) {
      // Gemini always ends a complete stream with a finishReason; without one the answer is cut short.
      throw new ProviderError('the stream ended without a finishReason', { kind: 'malformed', provider, model });
    }
    if (usage) yield { type: 'usage', usage: mapGeminiUsage(usage) };
    const finish: FinishReason = blocked ? 'content_filter' : mapGeminiFinishReason(finishReason, toolIndex > 0);
    yield { type: 'finish', finishReason: finish };
  };
}
