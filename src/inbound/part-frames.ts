/**
 * @module One chat stream as a client's own events: the loop the Responses and Messages routes share.
 * Each writer turns parts into its frames; this pulls the parts, ends with the writer's final frame or
 * its error frame, and settles the stream exactly once however it ended (done, failed, client gone).
 */
import type { ChatStreamResult } from '../pipeline/run-request.js';
import { ClientGoneError } from '../providers/deadline.js';
import type { ChatStreamPart, Usage } from '../providers/openai-types.js';

export interface PartFrameWriter {
  /** Usage as the upstream reported it; finalized by the stream before `end`. */
  readonly upstreamUsage: Usage | undefined;
  push(part: ChatStreamPart): string;
  end(usage: Usage | undefined): string;
}

/**
 * The frames of `stream` through `writer`. `fail` renders an error raised mid-stream in the client's
 * envelope. Breaking out early (the client left) counts as aborted and returns the parts iterator, so
 * the upstream request stops. `first` (the writer's opening event) is yielded inside the same guard, so
 * a client that leaves right after it still settles the stream.
 */
export async function* framesOfParts(writer: PartFrameWriter, stream: ChatStreamResult, fail: (err: unknown) => string, first?: string): AsyncGenerator<string> {
  const parts = stream.parts;
  let outcome: { error?: unknown; aborted: boolean } = { aborted: true };
  let usage: Usage | undefined;
  try {
    if (first !== undefined) yield first;
    for (;;) {
      let r: IteratorResult<ChatStreamPart>;
      try {
        r = await parts.next();
      } catch (err) {
        if (err instanceof ClientGoneError) return;
        outcome = { error: err, aborted: false };
        yield fail(err);
        return;
      }
      if (r.done) {
        usage = stream.finalizeUsage(writer.upstreamUsage);
        outcome = { aborted: false };
        yield writer.end(usage);
        return;
      }
      yield writer.push(r.value);
    }
  } finally {
    stream.end({ usage, error: outcome.error, aborted: outcome.aborted });
    if (outcome.aborted) await parts.return?.();
  }
}
