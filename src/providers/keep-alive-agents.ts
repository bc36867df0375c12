/**
 * @module The transport's keep-alive agents: node's http/https Agent, with a shorter way to hand a
 * request a free socket.
 *
 * Why: node's `Agent#addRequest` starts every request by copying the request's options and the
 * agent's into a fresh null-prototype object (`{ __proto__: null, ...options, ...this.options }`).
 * Both sources are dictionary-mode objects, so V8 copies them key by key on its slow path: ~24 k
 * instructions a request with our nine keys (38 k with the fifteen we passed before), about 5% of a
 * proxied chat request (scripts/bench/instructions.ts; node's own floor proxy pays it too). The copy
 * only matters when a socket must be opened (it becomes the connect options) or the request must
 * queue. When a free socket is waiting, this does what node does with it — the same free list, LIFO,
 * `reuseSocket` (documented: drops node's idle-socket error listener, marks `req.reusedSocket`, refs
 * the socket), `req.onSocket`, the same busy list — and leaves every other case to node: no free
 * socket, a request with its own timeout, an https request whose Host header names another server.
 *
 * One difference, on purpose: node also re-registers a reused socket's handle with async_hooks, so
 * that socket events run in the new request's async context. That call is internal to node; here
 * socket events of a reused socket keep the context of the request that opened it. Nothing in aisbf
 * reads async context from socket events (the Ollama client's AsyncLocalStorage is read when its
 * fetch is called).
 */
import { Agent as HttpAgent, type AgentOptions, type ClientRequest } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions as HttpsAgentOptions } from 'node:https';
import type { Socket } from 'node:net';

/** The request options node's ClientRequest hands the agent (`host` and `port` filled in by node). */
interface AgentRequestOptions {
  host?: string;
  port?: number | string;
}

/** What both agents share: the fields node's `addRequest` itself reads, typed (node's typings omit `addRequest`). */
interface AgentInternals {
  freeSockets: Record<string, Socket[] | undefined>;
  sockets: Record<string, Socket[] | undefined>;
  getName(options: AgentRequestOptions): string;
  reuseSocket(socket: Socket, req: ClientRequest): void;
}

/**
 * Gives `req` a free socket of its origin when one is waiting (what node's addRequest does then);
 * false when none is (node's own path then opens one or queues the request).
 */
function takeFreeSocket(agent: AgentInternals, req: ClientRequest, options: AgentRequestOptions): boolean {
  // A request with its own timeout has node set it on the socket it is given: node's way.
  if ((req as ClientRequest & { timeout?: number }).timeout !== undefined) return false;
  const name = agent.getName(options);
  const free = agent.freeSockets[name];
  if (free === undefined) return false;
  let socket = free.pop();
  while (socket !== undefined && socket.destroyed) socket = free.pop();
  if (free.length === 0) delete agent.freeSockets[name];
  if (socket === undefined) return false;
  agent.reuseSocket(socket, req);
  (req as ClientRequest & { onSocket(socket: Socket): void }).onSocket(socket);
  (agent.sockets[name] ??= []).push(socket);
  return true;
}

type AddRequest = (req: ClientRequest, options: AgentRequestOptions) => void;

class ReusingHttpAgent extends HttpAgent {
  addRequest(req: ClientRequest, options: AgentRequestOptions): void {
    if (!takeFreeSocket(this as unknown as AgentInternals, req, options)) (HttpAgent.prototype as unknown as { addRequest: AddRequest }).addRequest.call(this, req, options);
  }
}

/**
 * The host a request's Host header names, port left off (`[v6]:port` → `v6`), as node derives the TLS
 * server name from it (`calculateServerName`).
 */
function hostHeaderName(header: string): string {
  if (header.startsWith('[')) {
    const end = header.indexOf(']');
    return end === -1 ? header : header.slice(1, end);
  }
  const colon = header.indexOf(':');
  return colon === -1 ? header : header.slice(0, colon);
}

class ReusingHttpsAgent extends HttpsAgent {
  addRequest(req: ClientRequest, options: AgentRequestOptions): void {
    // node names an https socket by its TLS server name too, taken from a Host header naming another
    // host (its own copy of the options gets it; ours does not): such a request goes node's way, so a
    // socket opened for one server name is never handed to a request meant for another.
    const hostHeader = req.getHeader('host');
    const otherServerName = typeof hostHeader === 'string' && hostHeaderName(hostHeader) !== options.host;
    if (otherServerName || !takeFreeSocket(this as unknown as AgentInternals, req, options)) (HttpsAgent.prototype as unknown as { addRequest: AddRequest }).addRequest.call(this, req, options);
  }
}

export interface KeepAliveAgentOptions {
  /** Sockets per origin at most (busy and free). */
  maxSockets: number;
  /** Free sockets kept per origin. */
  maxFreeSockets: number;
  /** How long a free socket may idle before it is closed (an upstream's shorter Keep-Alive hint wins). */
  freeSocketTimeoutMs: number;
}

/**
 * An http and an https keep-alive agent. Only what must reach the socket goes in node's options
 * (`keepAlive`, `timeout`): node copies them whenever it opens a socket or queues a request. The
 * limits are the agents' documented properties; keepAliveMsecs (1000) and scheduling ('lifo') are
 * node's defaults.
 */
export function createKeepAliveAgents(opts: KeepAliveAgentOptions): { http: HttpAgent; https: HttpsAgent } {
  const base: AgentOptions & HttpsAgentOptions = { keepAlive: true, timeout: opts.freeSocketTimeoutMs };
  const http = new ReusingHttpAgent(base);
  const https = new ReusingHttpsAgent(base);
  for (const agent of [http, https]) {
    agent.maxSockets = opts.maxSockets;
    agent.maxFreeSockets = opts.maxFreeSockets;
  }
  return { http, https };
}
