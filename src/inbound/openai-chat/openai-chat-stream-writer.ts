/**
 * @module The only code that writes `chat.completion.chunk` frames. It turns the pipeline's chat stream
 * into OpenAI SSE, forwards each part as soon as it arrives (raw upstream chunks verbatim), places
 * usage (with effective_context) where the client asked for it, tells the stream once how it ended,
 * and always ends with `data: [DONE]` — after an SSE error frame if the stream failed midway. On node
 * it writes straight to the socket: the frames of a tick reach node as one write.
 */
import { randomToken } from '../../random-id.js';
import type { ServerResponse } from 'node:http';
import type { ChatCompletionChunk, ChatStreamPart, FinishReason, Usage } from '../../providers/openai-types.js';
import type { ChatStreamResult } from '../../pipeline/run-request.js';
import { toErrorParts } from './openai-chat-errors.js';
import { pumpedSseBody, SseSocket, type SseFrame, type StallLimit } from '../sse-pump.js';
import { pumpFrames, type StreamFrames } from '../part-frames.js';
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

type ChunkHead = Pick<ChatCompletionChunk, 'id' | 'object' | 'created' | 'model' | 'usage'>;

/**
 * The frames of one chat stream, part by part, synchronously: text, or an upstream event's own bytes
 * (`pumpFrames` pulls the parts and writes them, to node's socket or a web stream).
 */
class ChatFrames implements StreamFrames {
  private roleSent = false;
  upstreamUsage: Usage | undefined = undefined;
  /** The finish chunk waits for usage. */
  private held: ChatCompletionChunk | undefined = undefined;
  private lastUpstream: ChatCompletionChunk | undefined = undefined;

  constructor(private readonly meta: StreamMeta) {}

  private base(): ChunkHead {
    const meta = this.meta;
    const b: ChunkHead = { id: meta.id, object: 'chat.completion.chunk', created: meta.created, model: meta.model };
    if (meta.includeUsage) b.usage = null;
    return b;
  }

  private deltaChunk(delta: Record<string, unknown>, finish: FinishReason | null = null): ChatCompletionChunk {
    if (!this.roleSent) {
      delta = { role: 'assistant', ...delta };
      this.roleSent = true;
    }
    // Added to base()'s fresh object, not spread into a new one: one map for every chunk (copy-with.ts).
    const chunk = this.base() as ChatCompletionChunk;
    chunk.choices = [{ index: 0, delta, logprobs: null, finish_reason: finish }];
    return chunk;
  }

  /** The frame of one part; undefined for a part that only updates what comes later (finish, usage). */
  part(part: ChatStreamPart): SseFrame | undefined {
    switch (part.type) {
      case 'text-delta':
        return frameText(this.deltaChunk({ content: part.text }));
      case 'reasoning-delta':
        return frameText(this.deltaChunk({ reasoning_content: part.text }));
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
        return frameText(this.deltaChunk({ tool_calls: [call] }));
      }
      case 'finish':
        this.held = this.deltaChunk({}, part.finishReason);
        return undefined;
      case 'usage':
        this.upstreamUsage = part.usage;
        return undefined;
      case 'chunk':
        this.roleSent = true;
        // The upstream's own bytes: no decode, no parse, no serialize, no encode.
        if (part.final === false && part.frame !== undefined) return part.frame;
        // Verbatim, as the upstream sent it: no parse, no serialize.
        if (part.raw !== undefined && part.final === false) return `data: ${part.raw}\n\n`;
        this.lastUpstream = part.chunk;
        if (part.chunk.choices.some((c) => c.finish_reason)) {
          this.held = part.chunk;
          return undefined;
        }
        return frameText(part.chunk);
    }
  }

  /** The parts ended: the finish chunk with usage (or a usage chunk after it, when asked), [DONE]. */
  ended(finalUsage: Usage): SseFrame[] {
    const meta = this.meta;
    const held = (this.held ??= this.deltaChunk({}, 'stop'));
    if (!meta.includeUsage) return [frameText(copyWith(held, { usage: finalUsage })), DONE_TEXT];
    const src = this.lastUpstream;
    return [
      frameText(held),
      frameText({
        id: src?.id ?? meta.id,
        object: 'chat.completion.chunk',
        created: src?.created ?? meta.created,
        model: src?.model ?? meta.model,
        ...(src && 'system_fingerprint' in src ? { system_fingerprint: src.system_fingerprint } : {}),
        choices: [],
        usage: finalUsage,
      }),
      DONE_TEXT,
    ];
  }

  /** The parts failed midway: too late to fail over, so an error frame, then [DONE] (DESIGN.md error policy). */
  failed(err: unknown): SseFrame[] {
    const frames: SseFrame[] = [];
    if (this.held) frames.push(frameText(this.held));
    frames.push(frameText(toErrorParts(err).body), DONE_TEXT);
    return frames;
  }
}

/** The SSE body as a web stream (app.request, browsers through CORS). Cancelling it stops the upstream. */
export function chatStreamBody(stream: ChatStreamResult, meta: StreamMeta, stall?: StallLimit): ReadableStream<Uint8Array> {
  return pumpedSseBody((sink) => pumpFrames(new ChatFrames(meta), stream, sink), () => stream.cancel(), { stall });
}

/**
 * Writes the SSE straight to node's response. Frames produced in the same tick (one upstream read
 * often carries several events) reach node as one write when the tick ends, the upstream's own
 * events as one view of the read's buffer (sse-pump.ts, SseSocket).
 */
export function writeChatStream(res: ServerResponse, headers: Record<string, string>, stream: ChatStreamResult, meta: StreamMeta, stall?: StallLimit): Promise<void> {
  return pumpFrames(new ChatFrames(meta), stream, new SseSocket(res, 200, headers, { stall, onClose: () => stream.cancel() }));
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

