/**
 * @module Calls one of the server's own routes in process (a batch line, an /api/chat job), so the
 * call takes exactly the route's path (parse, identity, pipeline, render) without a socket. The web
 * objects a plain `app.fetch` would cost are skipped, since a batch runs thousands of them: the
 * Request carries no body stream and no signal (the route's body reader and request meta take them
 * from the env), the
 * request-id header is not stamped onto the Response (the caller chose the id), and a JSON answer is
 * read from @hono/node-server's lightweight Response without building a WHATWG one.
 */
import type { Hono } from 'hono';
import type { Context } from 'hono';
import type { AppEnv } from './app-env.js';
import type { Identity } from '../pipeline/request-meta.js';

/** What an in-process caller hands the route, in Hono's env (c.env). */
export interface InProcessEnv {
  inProcess: {
    /** The request body (the route's readBodyText returns it, under the same size limit). */
    bodyText: string;
    /** Aborts the call (the request's signal for the pipeline). */
    signal: AbortSignal;
  };
  /** The caller, already resolved (a batch's creator): the identity middleware takes it as is. */
  identity?: Identity;
}

export function inProcessOf(c: Context): InProcessEnv | undefined {
  const env = c.env as Partial<InProcessEnv> | undefined;
  return env?.inProcess ? (env as InProcessEnv) : undefined;
}

export interface InProcessAnswer {
  status: number;
  header(name: string): string | null;
  text: string;
}

/**
 * The symbol under which @hono/node-server's Response keeps [status, body, headers] until someone
 * needs the real WHATWG Response. Found on the first such answer (the server installs that Response
 * when it starts listening); until then (not served by node, another version), answers are read the
 * standard way.
 */
let bodyCacheKey: symbol | undefined;

async function textOf(res: Response): Promise<string> {
  bodyCacheKey ??= Object.getOwnPropertySymbols(res).find((s) => s.description === 'cache');
  const cached = bodyCacheKey ? (res as unknown as Record<symbol, [number, unknown, unknown] | undefined>)[bodyCacheKey] : undefined;
  if (cached && typeof cached[1] === 'string') return cached[1];
  return res.text();
}

export async function callInProcess(
  app: Hono<AppEnv>,
  call: { path: string; headers: Record<string, string>; bodyText: string; signal: AbortSignal; identity?: Identity },
): Promise<InProcessAnswer> {
  const env: InProcessEnv = { inProcess: { bodyText: call.bodyText, signal: call.signal }, ...(call.identity ? { identity: call.identity } : {}) };
  // No body and no signal on the Request itself: both ride in the env (see InProcessEnv).
  const res = await app.fetch(new Request(`http://in-process.aisbf${call.path}`, { method: 'POST', headers: call.headers }), env);
  const text = await textOf(res);
  return { status: res.status, header: (name) => res.headers.get(name), text };
}
