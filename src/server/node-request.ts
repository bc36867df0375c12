/**
 * @module Direct access to node's IncomingMessage behind a Hono context (when served by
 * @hono/node-server): header lookups on the plain object node already parsed, instead of building a
 * WHATWG Headers per request. Falls back to the Request when there is none (app.request in tests).
 */
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';

export function incomingOf(c: Context): IncomingMessage | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
}

/** A request header by its lower-case name. */
export function headerOf(c: Context, name: string): string | undefined {
  const incoming = incomingOf(c);
  if (!incoming) return c.req.header(name);
  const v = incoming.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}
