/**
 * @module The stall limit of one SSE stream (sse-pump.ts StallLimit) from `server.client_stall_seconds`:
 * none when it is 0; a warning in the log, with the request's id, when it ends a stream; and node's
 * response under a web stream body (a browser's request), which the limit closes.
 */
import type { Context } from 'hono';
import type { AppDeps, AppEnv } from '../server/app-env.js';
import { outgoingOf } from '../server/node-request.js';
import type { StallLimit } from './sse-pump.js';

export function clientStall(c: Context<AppEnv>, deps: Pick<AppDeps, 'runtime' | 'log'>): StallLimit | undefined {
  const seconds = deps.runtime().config.aisbf.server.client_stall_seconds;
  if (!(seconds > 0)) return undefined;
  const reqId = c.get('reqLog').id;
  const res = outgoingOf(c);
  return {
    ms: seconds * 1000,
    onStall: () => deps.log.warn({ reqId, client_stall_seconds: seconds }, 'the client read nothing for server.client_stall_seconds: stream ended'),
    destroy: res ? () => res.destroy() : undefined,
  };
}
