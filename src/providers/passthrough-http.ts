/**
 * @module One pass-through POST (issue 17) on a node:http keep-alive transport: the client's body with
 * only `model` replaced, under the call's deadline; a non-2xx answer becomes the provider's mapped
 * error (the attempt loop fails over on it); a streamed answer is relayed as the bytes of each read
 * of its body, read when the client's writer asks for more (pulled-parts.ts), the deadline re-armed
 * by each read.
 */
import type { CallContext, PassthroughRequest, PassthroughResponse } from './provider-adapter.js';
import { guardOwnStream, withLiteDeadline } from './deadline.js';
import { errorPayload } from './error-payload.js';
import type { AbortLike } from './lite-abort.js';
import { bodyReadable, type NodeHttpFetch } from './node-http-fetch.js';
import { PulledParts } from './pulled-parts.js';

export interface PassthroughTarget {
  /** Our node:http transport (it takes the deadline's AbortLike: no AbortSignal per call). */
  fetch: NodeHttpFetch;
  url: string;
  /** Auth and API headers of this provider. */
  headers: Record<string, string>;
  provider: string;
  /** A non-2xx answer (status, parsed body or text, headers) → the provider's error. */
  toError(status: number, payload: unknown, retryAfter: string | null): Error;
}

const KEPT_HEADERS = ['content-type', 'request-id', 'x-request-id', 'anthropic-organization-id', 'openai-processing-ms'];

function keptHeaders(res: Response): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of KEPT_HEADERS) {
    const v = res.headers.get(h);
    if (v !== null) out[h] = v;
  }
  return out;
}

async function open(t: PassthroughTarget, req: PassthroughRequest, ctx: CallContext, signal: AbortLike): Promise<Response> {
  const body = JSON.stringify({ ...req.body, model: ctx.model });
  const res = await t.fetch(t.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: req.stream ? 'text/event-stream' : 'application/json', ...req.headers, ...t.headers },
    body,
    signal,
  });
  if (res.ok) return res;
  const payload = await errorPayload(res);
  throw t.toError(res.status, payload, res.headers.get('retry-after'));
}

export async function passthroughPost(t: PassthroughTarget, req: PassthroughRequest, ctx: CallContext): Promise<PassthroughResponse> {
  const opts = { provider: t.provider, mapError: undefined };
  if (!req.stream) {
    return withLiteDeadline(ctx, opts, async (signal) => {
      const res = await open(t, req, ctx, signal);
      return { status: res.status, headers: keptHeaders(res), text: await res.text() };
    });
  }
  const out: PassthroughResponse = { status: 200, headers: {} };
  out.bytes = guardOwnStream(ctx, opts, async (signal, guard) => {
    const res = await open(t, req, ctx, signal);
    out.status = res.status;
    Object.assign(out.headers, keptHeaders(res));
    return new BodyReads(bodyReadable(res), guard);
  });
  return out;
}

/** A streamed body as the bytes of each read, as they came: the relay forwards them unparsed (node's `read()` never returns an empty one). */
class BodyReads extends PulledParts<Uint8Array> {
  protected override took(bytes: Buffer | Uint8Array): void {
    this.queue.push(bytes);
  }
}
