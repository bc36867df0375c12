/**
 * @module Pass-through through the pipeline (issue 17): the client's body goes to each candidate's
 * `adapter.passthrough` as a capability call (failover, cooldowns, limits and accounting as for any
 * call), and the upstream's answer is relayed: JSON as it came, a stream byte for byte (its first bytes
 * awaited inside the attempt, so a failing upstream still fails over). A stream settles once, when it
 * ends however it ends, with the tokens its final events reported (read as the bytes go by). A stream
 * that breaks later ends with the API's own error event. Its reads go straight to node's socket, as
 * the chat stream's frames do (sse-pump.ts SseSocket), or into a web stream body for a browser.
 */
import { copyWith } from '../copy-with.js';
import type { Context } from 'hono';
import type { AppDeps, AppEnv } from '../server/app-env.js';
import { runRequest, type StreamEnd } from '../pipeline/run-request.js';
import { ClientGoneError } from '../providers/deadline.js';
import type { PassthroughRequest, PassthroughResponse } from '../providers/provider-adapter.js';
import type { Usage } from '../providers/openai-types.js';
import type { Candidate } from '../routing/candidate.js';
import { resolveTarget, type Scope } from '../routing/resolve-target.js';
import { candidatesFor } from '../routing/target-candidates.js';
import { primeStream } from '../routing/run-with-fallback.js';
import { requestMetaFromHttp } from '../server/request-meta-from-http.js';
import { sentOnSocket, sseSocketOf } from '../server/node-request.js';
import { servedHeaders } from './served-headers.js';
import { pumpedSseBody, SSE_HEADERS, SseSocket, type SseSink } from './sse-pump.js';
import { clientStall } from './client-stall.js';
import type { StreamUsageReader } from './sse-usage-tap.js';

/**
 * True when every candidate of the client's target takes the client's body as it is (`canPassThrough`),
 * so the request is relayed instead of translated. Autoselect never passes through: its choice is made
 * on the translated request. Any problem resolving answers false: the translated path reports it in full.
 */
export function passThroughTarget(deps: AppDeps, scope: Scope, model: string | undefined, canPassThrough: (c: Candidate) => boolean): boolean {
  try {
    const rt = deps.runtime();
    const target = resolveTarget(rt, scope, model);
    if (target.kind === 'autoselect') return false;
    const cands = candidatesFor(rt, target);
    return cands.length > 0 && cands.every(canPassThrough);
  } catch {
    return false;
  }
}

export interface RelayOptions {
  route: string;
  scope: Scope;
  req: PassthroughRequest;
  canPassThrough(c: Candidate): boolean;
  /** Token usage of a JSON answer, for limits and accounting. */
  usageOf(text: string): Usage | undefined;
  /** A reader of a stream's usage events (one per stream). */
  streamUsage(): StreamUsageReader;
  /** The API's error event for a stream that broke after it began. */
  errorFrame(err: unknown): string;
}

interface Relayed {
  res: PassthroughResponse;
  bytes?: AsyncIterator<Uint8Array>;
}

export async function relayPassthrough(c: Context<AppEnv>, deps: AppDeps, o: RelayOptions): Promise<Response> {
  const reqLog = c.get('reqLog');
  const meta = requestMetaFromHttp(c, deps.runtime(), o.route);
  const r = await runRequest(deps, meta, {
    kind: 'capability',
    target: { scope: o.scope, model: o.req.body.model as string },
    filter: o.canPassThrough,
    observer: reqLog,
    call: async (cand, ctx): Promise<Relayed> => {
      const res = await cand.adapter.passthrough!(o.req, ctx);
      return { res, bytes: res.bytes ? await primeStream(res.bytes) : undefined };
    },
    usageOf: (v) => (v.res.text === undefined ? undefined : o.usageOf(v.res.text)),
    streaming: (v) => v.bytes !== undefined,
  });
  const headers = headerBag(r.value.res.headers, servedHeaders(r.served), { 'x-request-id': reqLog.id });
  const bytes = r.value.bytes;
  if (!bytes) return new Response(r.value.res.text ?? '', { status: r.value.res.status, headers });

  // The log line and the accounting record wait for the stream's end (and its tokens).
  reqLog.deferred = true;
  const reader = o.streamUsage();
  let ended = false;
  const end = (outcome: Omit<StreamEnd, 'usage'>): void => {
    if (ended) return;
    ended = true;
    meta.signal.removeEventListener('abort', onAbort);
    r.end!(copyWith(outcome, { usage: reader.usage() }));
  };
  // A client that leaves mid-stream may never pull again: its signal settles the request.
  const onAbort = (): void => end({ aborted: true });
  meta.signal.addEventListener('abort', onAbort, { once: true });
  if (meta.signal.aborted) onAbort();
  const stop = (): void => {
    end({ aborted: true });
    void bytes.return?.();
  };
  const relay = (sink: SseSink) => relayBytes(bytes, sink, reader, end, o.errorFrame);
  const sseHeaders = headerBag(SSE_HEADERS, headers);
  const stall = clientStall(c, deps);
  const outgoing = sseSocketOf(c);
  if (outgoing) {
    // Straight onto node's socket, as the chat stream: no web stream between the upstream's reads and it.
    return sentOnSocket(relay(new SseSocket(outgoing, 200, sseHeaders, { stall, onClose: stop })), deps.log, reqLog.id);
  }
  return new Response(pumpedSseBody(relay, stop, { stall }), { status: 200, headers: sseHeaders });
}

/**
 * Writes the upstream's reads to the client as they come (their usage events read on the way), until
 * the upstream ends, fails (the API's own error event, then the end) or the client leaves.
 */
async function relayBytes(
  bytes: AsyncIterator<Uint8Array>,
  out: SseSink,
  usage: StreamUsageReader,
  end: (outcome: Omit<StreamEnd, 'usage'>) => void,
  errorFrame: (err: unknown) => string,
): Promise<void> {
  try {
    while (!out.closed) {
      const n = await bytes.next();
      if (n.done) {
        end({ aborted: false });
        return;
      }
      usage.feed(n.value);
      const wait = out.write(n.value);
      if (wait) await wait;
    }
  } catch (err) {
    if (err instanceof ClientGoneError) end({ aborted: true });
    else {
      end({ error: err, aborted: false });
      out.write(errorFrame(err));
    }
    // A failed upstream is over already; after an exception of our own it is still open: stop it.
    await bytes.return?.();
  } finally {
    out.end();
  }
}

/**
 * Headers merged into a dictionary from the start (null prototype): the upstream's headers are many
 * and vary, and a plain object grown from them made new hidden classes on every request
 * (tests/server/hidden-classes.test.ts).
 */
function headerBag(...sources: ReadonlyArray<Readonly<Record<string, string>>>): Record<string, string> {
  return Object.assign(Object.create(null) as Record<string, string>, ...sources);
}
