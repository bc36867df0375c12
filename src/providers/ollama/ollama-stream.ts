/**
 * @module The one place Ollama's streamed `/api/chat` lines (NDJSON, parsed by the SDK) become
 * ChatStreamParts: `message.thinking` → reasoning, `message.content` → text, each
 * `message.tool_calls` entry → a tool call (first part: id + name, second: the whole arguments JSON,
 * as OpenAI's first-delta-then-arguments shape), and the final `done: true` line → usage + finish.
 */
import type { ChatStreamPart } from '../provider-adapter.js';
import { mapOllamaFinishReason } from './map-ollama-finish-reason.js';
import { ollamaUsage, parseOllamaChatResponse, toolCallArguments, toolCallId } from './ollama-response.js';

export async function* ollamaLinesToParts(lines: AsyncIterable<unknown>, provider: string, model: string): AsyncGenerator<ChatStreamPart> {
  // Calls are numbered across lines: Ollama may send each call in a line of its own.
  let toolIndex = 0;
  for await (const line of lines) {
    const r = parseOllamaChatResponse(line, provider, model);
    const m = r.message;
    if (m?.thinking) yield { type: 'reasoning-delta', text: m.thinking };
    if (m?.content) yield { type: 'text-delta', text: m.content };
    for (const tc of m?.tool_calls ?? []) {
      const index = toolIndex++;
      yield { type: 'tool-call-delta', index, id: toolCallId(tc), name: tc.function.name, arguments: '' };
      yield { type: 'tool-call-delta', index, arguments: toolCallArguments(tc) };
    }
    if (r.done) {
      const usage = ollamaUsage(r);
      if (usage) yield { type: 'usage', usage };
      yield { type: 'finish', finishReason: mapOllamaFinishReason(r.done_reason, toolIndex > 0) };
      return;
    }
  }
}
