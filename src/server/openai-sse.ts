/**
 * @module The only code that writes `chat.completion.chunk` frames. It turns ChatStreamParts into
 * OpenAI SSE, forwards each part as soon as it arrives, places usage (with effective_context) where
 * the client asked for it, and always ends with `data: [DONE]` — after an SSE error frame if the
 * stream failed midway.
 */
import { randomBytes } from 'node:crypto';
import type { ChatCompletionChunk, ChatStreamPart, FinishReason, Usage } from '../providers/provider-adapter.js';
import { toErrorParts } from './errors.js';

const encoder = new TextEncoder();
const DONE = encoder.encode('data: [DONE]\n\n');

export function newCompletionId(): string {
  return `chatcmpl-${randomBytes(12).toString('base64url')}`;
}

export interface StreamMeta {
  id: string;
  model: string;
  created: number;
  includeUsage: boolean;
  /** Fills in effective_context (and counts the prompt when the upstream reported no usage). */
  finalizeUsage(usage: Usage | undefined): Usage;
  /** Called once when the stream ends, however it ends. */
  onEnd?(outcome: { usage?: Usage; error?: unknown; aborted: boolean }): void;
}

function frame(obj: unknown): Uint8Array {
  return encoder.encode(`data: ${JSON.stringify(obj)}\n\n`);
}

/**
 * Builds the SSE body. The iterator should already be primed (its first part awaited by the attempt
 * loop) so failover can happen before any byte is sent. Cancelling the body (client gone) returns the
 * iterator, which aborts the upstream request.
 */
export function chatStreamBody(parts: AsyncIterator<ChatStreamPart>, meta: StreamMeta): ReadableStream<Uint8Array> {
  let roleSent = false;
  let usage: Usage | undefined;
  let held: ChatCompletionChunk | undefined; // the finish chunk waits for usage
  let lastUpstream: ChatCompletionChunk | undefined;
  let ended = false;

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
    return { ...base(), choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] };
  };

  const end = (outcome: { error?: unknown; aborted: boolean }) => {
    if (ended) return;
    ended = true;
    meta.onEnd?.({ usage, ...outcome });
  };

  const closing = (): Uint8Array[] => {
    const out: Uint8Array[] = [];
    const finalUsage = meta.finalizeUsage(usage);
    usage = finalUsage;
    if (!held) held = deltaChunk({}, 'stop');
    if (meta.includeUsage) {
      out.push(frame(held));
      const src = lastUpstream;
      out.push(
        frame({
          id: src?.id ?? meta.id,
          object: 'chat.completion.chunk',
          created: src?.created ?? meta.created,
          model: src?.model ?? meta.model,
          ...(src && 'system_fingerprint' in src ? { system_fingerprint: src.system_fingerprint } : {}),
          choices: [],
          usage: finalUsage,
        }),
      );
    } else {
      out.push(frame({ ...held, usage: finalUsage }));
    }
    out.push(DONE);
    return out;
  };

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        for (;;) {
          const r = await parts.next();
          if (r.done) {
            for (const f of closing()) controller.enqueue(f);
            controller.close();
            end({ aborted: false });
            return;
          }
          const part = r.value;
          let out: ChatCompletionChunk | undefined;
          switch (part.type) {
            case 'text-delta':
              out = deltaChunk({ content: part.text });
              break;
            case 'reasoning-delta':
              out = deltaChunk({ reasoning_content: part.text });
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
              out = deltaChunk({ tool_calls: [call] });
              break;
            }
            case 'finish':
              held = deltaChunk({}, part.finishReason);
              break;
            case 'usage':
              usage = part.usage;
              break;
            case 'chunk': {
              lastUpstream = part.chunk;
              roleSent = true;
              if (part.chunk.choices.some((c) => c.finish_reason)) held = part.chunk;
              else out = part.chunk;
              break;
            }
          }
          if (out) {
            controller.enqueue(frame(out));
            return; // one frame per pull: each part goes out as soon as it arrives
          }
        }
      } catch (err) {
        // Too late to fail over: an error frame, then [DONE] (DESIGN.md error policy).
        const { body } = toErrorParts(err);
        if (held) controller.enqueue(frame(held));
        controller.enqueue(frame(body));
        controller.enqueue(DONE);
        controller.close();
        end({ error: err, aborted: false });
      }
    },
    async cancel() {
      end({ aborted: true });
      await parts.return?.();
    },
  });
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

export const SSE_HEADERS: Record<string, string> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};
