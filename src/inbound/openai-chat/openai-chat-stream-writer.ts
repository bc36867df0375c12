/**
 * @module The only code that writes `chat.completion.chunk` frames. It turns the pipeline's chat stream
 * into OpenAI SSE, forwards each part as soon as it arrives (raw upstream chunks verbatim), places
 * usage (with effective_context) where the client asked for it, tells the stream once how it ended,
 * and always ends with `data: [DONE]` — after an SSE error frame if the stream failed midway. On node
 * it writes straight to the socket: the first frame uncorked, later frames of a tick in one write.
 */
import { randomToken } from '../../random-id.js';
import type { ServerResponse } from 'node:http';
import type { ChatCompletionChunk, ChatStreamPart, FinishReason, Usage } from '../../providers/openai-types.js';
import { ClientGoneError } from '../../providers/deadline.js';
import type { ChatStreamResult } from '../../pipeline/run-request.js';
import { toErrorParts } from './openai-chat-errors.js';
import { sseBody, writeSse } from '../sse-pump.js';
import { copyWith } from '../../copy-with.js';

const encoder = new TextEncoder();
const DONE = encoder.encode('data: [DONE]\n\n');

export function newCompletionId(): string {
  return `chatcmpl-${randomToken(12, 'base64url')}`;
}

/** The chunk head fields of one stream. */
export interface StreamMeta {
  id: string;
  model: string;
  created: number;
  includeUsage: boolean;
}

function frameText(obj: unknown): string {
  return `data: ${JSON.stringify(obj)}\n\n`;
}

function frame(obj: unknown): Uint8Array {
  return encoder.encode(frameText(obj));
}

const DONE_TEXT = 'data: [DONE]\n\n';

/**
 * The SSE frames of a chat stream, one per part as it arrives: text, or an upstream event's own
 * bytes. The iterator should already be primed (its first part awaited by the attempt loop) so
 * failover can happen before any byte is sent. Stopping early (client gone) returns the iterator,
 * which aborts the upstream request.
 */
export async function* chatStreamFrames(stream: ChatStreamResult, meta: StreamMeta): AsyncGenerator<string | Uint8Array> {
  const parts = stream.parts;
  let roleSent = false;
  let usage: Usage | undefined;
  let held: ChatCompletionChunk | undefined; // the finish chunk waits for usage
  let lastUpstream: ChatCompletionChunk | undefined;
  // Unless the loop below says otherwise, leaving this generator means the consumer stopped.
  let outcome: { error?: unknown; aborted: boolean } = { aborted: true };

  type ChunkHead = Pick<ChatCompletionChunk, 'id' | 'object' | 'created' | 'model' | 'usage'>;
  const base = (): ChunkHead => {
    const b: ChunkHead = { id: meta.id, object: 'chat.completion.chunk', created: meta.created, model: meta.model };
    if (meta.includeUsage) b.usage = null;
    return b;
  };
  const deltaChunk = (delta: Record<string, unknown>, finish: FinishReason | null = null): ChatCompletionChunk => {
    if (!roleSent) {
      delta = { role: 'assistant', ...delta };
      roleSent = true;
    }
    // Added to base()'s fresh object, not spread into a new one: one map for every chunk (copy-with.ts).
    const chunk = base() as ChatCompletionChunk;
    chunk.choices = [{ index: 0, delta, logprobs: null, finish_reason: finish }];
    return chunk;
  };

  try {
    for (;;) {
      let r: IteratorResult<ChatStreamPart>;
      try {
        r = await parts.next();
      } catch (err) {
        if (err instanceof ClientGoneError) return; // nobody left to tell
        // Too late to fail over: an error frame, then [DONE] (DESIGN.md error policy).
        outcome = { error: err, aborted: false };
        if (held) yield frameText(held);
        yield frameText(toErrorParts(err).body);
        yield DONE_TEXT;
        return;
      }
      if (r.done) {
        const finalUsage = stream.finalizeUsage(usage);
        usage = finalUsage;
        held ??= deltaChunk({}, 'stop');
        outcome = { aborted: false };
        if (meta.includeUsage) {
          yield frameText(held);
          const src = lastUpstream;
          yield frameText({
            id: src?.id ?? meta.id,
            object: 'chat.completion.chunk',
            created: src?.created ?? meta.created,
            model: src?.model ?? meta.model,
            ...(src && 'system_fingerprint' in src ? { system_fingerprint: src.system_fingerprint } : {}),
            choices: [],
            usage: finalUsage,
          });
        } else {
          yield frameText(copyWith(held, { usage: finalUsage }));
        }
        yield DONE_TEXT;
        return;
      }
      const part = r.value;
      switch (part.type) {
        case 'text-delta':
          yield frameText(deltaChunk({ content: part.text }));
          break;
        case 'reasoning-delta':
          yield frameText(deltaChunk({ reasoning_content: part.text }));
          break;
        case 'tool-call-delta': {
          const call: Record<string, unknown> = { index: part.index };
          if (part.id !== undefined) {
            call.id = part.id;
            call.type = 'function';
          }
          const fn: Record<string, unknown> = {};
          if (part.name !== undefined) fn.name = part.name;
          if (part.arguments !== undefined || part.name !== undefined) fn.arguments = part.arguments ?? '';
          call.function = fn;
          yield frameText(deltaChunk({ tool_calls: [call] }));
          break;
        }
        case 'finish':
          held = deltaChunk({}, part.finishReason);
          break;
        case 'usage':
          usage = part.usage;
          break;
        case 'chunk':
          roleSent = true;
          if (part.final === false && part.frame !== undefined) {
            // The upstream's own bytes: no decode, no parse, no serialize, no encode.
            yield part.frame;
            break;
          }
          if (part.raw !== undefined && part.final === false) {
            // Verbatim, as the upstream sent it: no parse, no serialize.
            yield `data: ${part.raw}\n\n`;
            break;
          }
          lastUpstream = part.chunk;
          if (part.chunk.choices.some((c) => c.finish_reason)) held = part.chunk;
          else yield frameText(part.chunk);
          break;
      }
    }
  } finally {
    // A client that left mid-stream still pays for its prompt (key budgets, usage records): our own
    // count, as for an upstream that reports no usage.
    if (outcome.aborted && !usage && stream.served) usage = stream.finalizeUsage(undefined);
    stream.end({ usage, error: outcome.error, aborted: outcome.aborted });
    if (outcome.aborted) await parts.return?.();
  }
}

/** The SSE body as a web stream (app.request, non-node runtimes). Cancelling it stops the frames. */
export function chatStreamBody(stream: ChatStreamResult, meta: StreamMeta): ReadableStream<Uint8Array> {
  return sseBody(chatStreamFrames(stream, meta));
}

/**
 * Writes the SSE straight to node's response. Frames produced in the same tick (one upstream read
 * often carries several events) are corked together and leave in one write when the tick ends: no
 * timer, no waiting, just one syscall instead of one per frame.
 */
export async function writeChatStream(res: ServerResponse, headers: Record<string, string>, stream: ChatStreamResult, meta: StreamMeta): Promise<void> {
  await writeSse(res, 200, headers, chatStreamFrames(stream, meta), { onClose: () => stream.cancel() });
}

/** A stream body made of a single ready-made text (AISBF reports sent as SSE). */
export function singleMessageStream(text: string, meta: Pick<StreamMeta, 'id' | 'model' | 'created'>, extra: Record<string, unknown> = {}): ReadableStream<Uint8Array> {
  const head = { id: meta.id, object: 'chat.completion.chunk', created: meta.created, model: meta.model, ...extra };
  const frames = [
    frame({ ...head, choices: [{ index: 0, delta: { role: 'assistant', content: text }, logprobs: null, finish_reason: null }] }),
    frame({ ...head, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }] }),
    DONE,
  ];
  return new ReadableStream({
    start(controller) {
      for (const f of frames) controller.enqueue(f);
      controller.close();
    },
  });
}

