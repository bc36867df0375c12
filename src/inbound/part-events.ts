/**
 * @module The internal chat stream, reduced to the five things an inbound writer reacts to (text,
 * reasoning, a tool-call delta, finish, usage). An OpenAI-type upstream's verbatim `chunk` part is
 * read here once, so the Responses and Messages writers never see chat-completion chunks. Most of a
 * stream's chunks only carry text, and for those the text's JSON string literal is cut out of the
 * chunk as it came and handed on as it is: no parse of the chunk, no encode of the text.
 */
import type { ChatCompletionChunk, ChatStreamPart, FinishReason, Usage } from '../providers/openai-types.js';

export interface PartSink {
  text(text: string): void;
  /** A text delta as a JSON string literal, quotes included (never `""`): spliced into an event as it is. */
  textLiteral(literal: string): void;
  reasoning(text: string): void;
  toolCall(index: number, id: string | undefined, name: string | undefined, args: string | undefined): void;
  finish(reason: FinishReason): void;
  usage(usage: Usage): void;
}

interface ChunkToolCall {
  index?: number;
  id?: string;
  function?: { name?: string; arguments?: string };
}

function chunkToSink(chunk: ChatCompletionChunk, sink: PartSink): void {
  const choice = chunk.choices?.[0];
  if (choice) {
    const d = choice.delta as { content?: string | null; reasoning_content?: string | null; reasoning?: string | null; tool_calls?: ChunkToolCall[] };
    // Reasoning first: an upstream that sends both in one chunk thought before it answered.
    const r = d.reasoning_content ?? d.reasoning;
    if (typeof r === 'string' && r !== '') sink.reasoning(r);
    if (typeof d.content === 'string' && d.content !== '') sink.text(d.content);
    if (d.tool_calls) {
      for (let i = 0; i < d.tool_calls.length; i++) {
        const t = d.tool_calls[i]!;
        sink.toolCall(t.index ?? i, t.id ?? undefined, t.function?.name ?? undefined, t.function?.arguments ?? undefined);
      }
    }
    if (choice.finish_reason) sink.finish(choice.finish_reason);
  }
  if (chunk.usage) sink.usage(chunk.usage);
}

/**
 * A chunk whose first choice's delta is exactly `{"content":"<text>"}`, as OpenAI writes it (index
 * first): the literal. Only plain chunks are looked at (openai-stream-parts.ts: no finish reason, no
 * usage object, no error), so such a chunk means the text and nothing else. Keys cannot match inside
 * a JSON string (its quotes are escaped); any other shape is parsed: slower, never wrong. The literal
 * is matched by JSON's own string grammar (no raw control character, only JSON's escapes): spliced
 * into our events unparsed, it must be JSON a client's parser takes, and a raw CR could otherwise end
 * an SSE line inside it.
 */
const CONTENT_ONLY = /"choices":\[\{"index":0,"delta":\{"content":("(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))+")\}/;

/** Feeds one part to a writer. */
export function dispatchPart(part: ChatStreamPart, sink: PartSink): void {
  switch (part.type) {
    case 'text-delta':
      if (part.text !== '') sink.text(part.text);
      return;
    case 'reasoning-delta':
      if (part.text !== '') sink.reasoning(part.text);
      return;
    case 'tool-call-delta':
      sink.toolCall(part.index, part.id, part.name, part.arguments);
      return;
    case 'finish':
      sink.finish(part.finishReason);
      return;
    case 'usage':
      sink.usage(part.usage);
      return;
    case 'chunk': {
      // `raw` is set only on a plain chunk as it came (RawChunkPart), decoded once here or by the cache.
      const raw = part.final === false ? part.raw : undefined;
      const m = raw === undefined ? null : CONTENT_ONLY.exec(raw);
      if (m) sink.textLiteral(m[1]!);
      else chunkToSink(part.chunk, sink);
      return;
    }
  }
}
