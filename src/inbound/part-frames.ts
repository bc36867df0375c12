/**
 * @module One chat stream as a client's own events, written to an SSE sink: the loop the Responses and
 * Messages routes share. Each writer turns parts into its frames; this pulls the parts itself and
 * writes each frame (no generator between the parts and the sink, as the chat stream's `pumpChat`),
 * ends with the writer's final frame or its error frame, and settles the stream exactly once however
 * it ended (done, failed, client gone).
 */
import type { ChatStreamResult } from '../pipeline/run-request.js';
import { ClientGoneError } from '../providers/deadline.js';
import type { ChatStreamPart, Usage } from '../providers/openai-types.js';
import type { SseSink } from './sse-pump.js';

export interface PartFrameWriter {
  /** Usage as the upstream reported it; finalized by the stream before `end`. */
  readonly upstreamUsage: Usage | undefined;
  push(part: ChatStreamPart): string;
  end(usage: Usage | undefined): string;
}

/**
 * Writes the frames of `stream` through `writer` to `out`. `fail` renders an error raised mid-stream in
 * the client's envelope. A sink that closes (the client left) counts as aborted and returns the parts
 * iterator, so the upstream request stops. `first` (the writer's opening event) is written inside the
 * same guard, so a client that leaves right after it still settles the stream. Ends `out` last, as
 * `pumpChat` does.
 */
export async function pumpParts(writer: PartFrameWriter, stream: ChatStreamResult, fail: (err: unknown) => string, out: SseSink, first?: string): Promise<void> {
  const parts = stream.parts;
  let outcome: { error?: unknown; aborted: boolean } = { aborted: true };
  let usage: Usage | undefined;
  try {
    if (first !== undefined) await out.write(first);
    while (!out.closed) {
      let r: IteratorResult<ChatStreamPart>;
      try {
        r = await parts.next();
      } catch (err) {
        if (err instanceof ClientGoneError) return;
        outcome = { error: err, aborted: false };
        await out.write(fail(err));
        return;
      }
      if (r.done) {
        usage = stream.finalizeUsage(writer.upstreamUsage);
        outcome = { aborted: false };
        await out.write(writer.end(usage));
        return;
      }
      // A promise only when the client asks to wait (back-pressure): no await per chunk otherwise.
      const wait = out.write(writer.push(r.value));
      if (wait) await wait;
    }
  } finally {
    try {
      stream.end({ usage, error: outcome.error, aborted: outcome.aborted });
      if (outcome.aborted) await parts.return?.();
    } finally {
      out.end();
    }
  }
}
