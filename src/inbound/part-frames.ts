/**
 * @module One chat stream as a client's own SSE frames, written to a sink: the loop every translated
 * stream shares (chat completions, Responses, Messages). Each API's frames turn parts into its events;
 * this pulls the parts itself and writes each frame (no generator between the parts and the sink: one
 * await per chunk, on the parts), ends with the API's final frames or its error frames, and settles
 * the stream exactly once however it ended (done, failed, client gone) — the accounting rule for each
 * of those lives here, once, not in each API.
 */
import type { ChatStreamResult } from '../pipeline/run-request.js';
import { ClientGoneError } from '../providers/deadline.js';
import type { ChatStreamPart, Usage } from '../providers/openai-types.js';
import type { SseFrame, SseSink } from './sse-pump.js';

/** One client API's frames for one stream. */
export interface StreamFrames {
  /** Usage as the upstream reported it so far (a `usage` part). */
  readonly upstreamUsage: Usage | undefined;
  /** The frame of one part; undefined for a part that only updates what comes later (finish, usage). */
  part(part: ChatStreamPart): SseFrame | undefined;
  /** The parts ended: the closing frames, with the stream's final usage. */
  ended(usage: Usage): SseFrame[];
  /** The parts failed midway (too late to fail over): the API's error frames. */
  failed(err: unknown): SseFrame[];
}

/**
 * Writes the frames of `stream` to `out` and ends it. `first` (an opening event) is written inside
 * the same guard, so a client that leaves right after it still settles the stream. The iterator
 * should already be primed (its first part awaited by the attempt loop) so failover can happen before
 * any byte is sent. A sink that closes (the client left) counts as aborted and returns the parts
 * iterator, which stops the upstream request.
 */
export async function pumpFrames(frames: StreamFrames, stream: ChatStreamResult, out: SseSink, first?: SseFrame): Promise<void> {
  const parts = stream.parts;
  // Unless the parts end or fail, the sink closed: the client left.
  let aborted = true;
  let error: unknown;
  let usage: Usage | undefined;
  try {
    let last: SseFrame[] | undefined;
    if (first !== undefined) {
      const wait = out.write(first);
      if (wait) await wait;
    }
    while (!out.closed) {
      let frame: SseFrame | undefined;
      try {
        const r = await parts.next();
        if (r.done) {
          usage = stream.finalizeUsage(frames.upstreamUsage);
          aborted = false;
          last = frames.ended(usage);
          break;
        }
        // A part can fail too: a translating writer parses a chunk the upstream got wrong (malformed).
        frame = frames.part(r.value);
      } catch (err) {
        if (err instanceof ClientGoneError) break; // nobody left to tell
        aborted = false;
        error = err;
        last = frames.failed(err);
        break;
      }
      if (frame === undefined) continue;
      // A promise only when the client asks to wait (back-pressure): no await per chunk otherwise.
      const wait = out.write(frame);
      if (wait) await wait;
    }
    if (last) {
      for (const frame of last) {
        const wait = out.write(frame);
        if (wait) await wait;
      }
    }
  } finally {
    try {
      if (usage === undefined) {
        usage = frames.upstreamUsage;
        // A client that left mid-stream still pays for its prompt (key budgets, usage records): our
        // own count, as for an upstream that reports no usage.
        if (aborted && !usage && stream.served) usage = stream.finalizeUsage(undefined);
      }
      stream.end({ usage, error, aborted });
      // The upstream stops unless it ended (a failure that came from a part leaves it streaming).
      if (aborted || error !== undefined) await parts.return?.();
    } finally {
      // The response ends whatever settling met (its own errors reach the caller).
      out.end();
    }
  }
}

/** A writer that renders each part as one text of events ('' when a part adds none). */
export interface PartFrameWriter {
  /** Usage as the upstream reported it; finalized by the stream before `end`. */
  readonly upstreamUsage: Usage | undefined;
  push(part: ChatStreamPart): string;
  end(usage: Usage | undefined): string;
}

/** A PartFrameWriter as StreamFrames, with the route's rendering of a mid-stream error. */
class WriterFrames implements StreamFrames {
  constructor(
    private readonly writer: PartFrameWriter,
    private readonly fail: (err: unknown) => string,
  ) {}

  get upstreamUsage(): Usage | undefined {
    return this.writer.upstreamUsage;
  }

  part(part: ChatStreamPart): SseFrame | undefined {
    const text = this.writer.push(part);
    return text === '' ? undefined : text;
  }

  ended(usage: Usage): SseFrame[] {
    return [this.writer.end(usage)];
  }

  failed(err: unknown): SseFrame[] {
    return [this.fail(err)];
  }
}

/** `pumpFrames` for a Responses or Messages writer; `fail` renders an error in the client's envelope. */
export function pumpParts(writer: PartFrameWriter, stream: ChatStreamResult, fail: (err: unknown) => string, out: SseSink, first?: string): Promise<void> {
  return pumpFrames(new WriterFrames(writer, fail), stream, out, first);
}
