/**
 * @module Direct access to node's IncomingMessage behind a Hono context (when served by
 * @hono/node-server): header lookups on the plain object node already parsed, instead of building a
 * WHATWG Headers per request. Falls back to the Request when there is none (app.request in tests).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from 'hono';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Logger } from 'pino';
import { ClientGoneError } from '../providers/deadline.js';
import { LiteAbort, type AbortLike } from '../providers/lite-abort.js';

export function incomingOf(c: Context): IncomingMessage | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
}

/** node's response behind the context; none in-process (app.request). */
export function outgoingOf(c: Context): ServerResponse | undefined {
  return (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
}

/** A request header by its lower-case name. */
export function headerOf(c: Context, name: string): string | undefined {
  const incoming = incomingOf(c);
  if (!incoming) return c.req.header(name);
  const v = incoming.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/**
 * node's response, for an SSE stream written straight to its socket (sse-pump.ts SseSocket); none
 * for a browser (an Origin header), whose answer must be a web Response for the CORS middleware to
 * add its headers to, nor in-process (app.request).
 */
export function sseSocketOf(c: Context): ServerResponse | undefined {
  const outgoing = outgoingOf(c);
  return outgoing && headerOf(c, 'origin') === undefined ? outgoing : undefined;
}

/**
 * The answer of a handler that is writing its stream to node's socket itself (`writing`, started on
 * `sseSocketOf`'s response): the adapter must not answer too. A failure of that writer is ours (the
 * upstream's arrive as the API's error event inside the stream) and goes to the log, not the client.
 */
export function sentOnSocket(writing: Promise<void>, log: Pick<Logger, 'warn'>, reqId: string): Response {
  void writing.catch((err: unknown) => log.warn({ reqId, err: { message: (err as Error).message } }, 'writing a stream failed'));
  return RESPONSE_ALREADY_SENT;
}

const CLIENT_SIGNAL = Symbol('aisbf.clientSignal');
type WithSignal = ServerResponse & { [CLIENT_SIGNAL]?: LiteAbort };

/**
 * Aborts when the client goes away before its answer is written: the response closed unfinished, or
 * the request errored (what @hono/node-server's own `c.req.raw.signal` does, which is a full
 * AbortSignal built per request; lite-abort.ts says why not). One per request, however often asked.
 */
export function clientSignalOf(c: Context): AbortLike {
  const incoming = incomingOf(c);
  const outgoing = outgoingOf(c) as WithSignal | undefined;
  if (!incoming || !outgoing) return c.req.raw.signal;
  let s = outgoing[CLIENT_SIGNAL];
  if (s) return s;
  const signal = (s = outgoing[CLIENT_SIGNAL] = new LiteAbort());
  const onClose = () => {
    if (incoming.errored || !outgoing.writableFinished) signal.abort(new ClientGoneError());
  };
  if (outgoing.closed) onClose();
  else outgoing.on('close', onClose);
  return s;
}
