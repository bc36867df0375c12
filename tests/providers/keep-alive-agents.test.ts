/**
 * The transport's agents hand a waiting free socket to a request themselves (keep-alive-agents.ts) and
 * leave opening and queueing to node. What node's own agent guarantees must still hold: one socket
 * reused, marked `reusedSocket`, no listener piling up on it, the busy and free lists consistent, a
 * socket destroyed while free never handed out, the per-origin limit kept, over http and https.
 * The TLS fixture (fixtures/tls) is a self-signed certificate for 127.0.0.1, valid until 2126.
 */
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, createServer, type Agent, type IncomingMessage, type RequestOptions, type Server } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKeepAliveAgents } from '../../src/providers/keep-alive-agents.js';

const TLS = new URL('./fixtures/tls/', import.meta.url);
const cert = readFileSync(new URL('cert.pem', TLS));
const key = readFileSync(new URL('key.pem', TLS));

const servers: Server[] = [];
const agents: Agent[] = [];

// Counts the requests node's own Agent#addRequest handles (the https agent inherits it), to show
// which path served them. node's method is wrapped, not ours.
type AddRequest = (this: Agent, ...args: unknown[]) => void;
const nodeAddRequest = (HttpAgent.prototype as unknown as { addRequest: AddRequest }).addRequest;
let nodeAddRequests = 0;
beforeEach(() => {
  nodeAddRequests = 0;
  (HttpAgent.prototype as unknown as { addRequest: AddRequest }).addRequest = function (this: Agent, ...args: unknown[]) {
    nodeAddRequests++;
    return nodeAddRequest.apply(this, args);
  };
});
afterEach(async () => {
  (HttpAgent.prototype as unknown as { addRequest: AddRequest }).addRequest = nodeAddRequest;
  for (const a of agents.splice(0)) a.destroy();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** An upstream that answers each POST with its body's length, after `delayMs`; counts connections. */
async function upstream(tls: boolean, delayMs = 0, keepAliveTimeoutMs = 5000) {
  const seen = { connections: 0, inFlight: 0, maxInFlight: 0 };
  const handler = (req: IncomingMessage, res: import('node:http').ServerResponse) => {
    seen.inFlight++;
    seen.maxInFlight = Math.max(seen.maxInFlight, seen.inFlight);
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () =>
      setTimeout(() => {
        seen.inFlight--;
        res.writeHead(200, { 'content-type': 'text/plain' }).end(String(n));
      }, delayMs),
    );
  };
  const server = tls ? createHttpsServer({ cert, key }, handler) : createServer(handler);
  server.keepAliveTimeout = keepAliveTimeoutMs; // node's server announces it: `Keep-Alive: timeout=<s>`
  server.on(tls ? 'secureConnection' : 'connection', () => seen.connections++);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, seen };
}

interface Sent {
  body: string;
  reused: boolean;
  socket: Socket;
}

/** One POST through `agent`, the way the transport sends it (host, port, path, method, headers). */
function send(tls: boolean, agent: Agent, port: number, hostHeader?: string): Promise<Sent> {
  const headers: Record<string, string> = { 'content-length': '5' };
  if (hostHeader) headers.host = hostHeader;
  const opts: RequestOptions & { ca?: Buffer } = { agent, host: '127.0.0.1', port, path: '/v1/x', method: 'POST', headers };
  if (tls) opts.ca = cert;
  return new Promise((resolve, reject) => {
    const req = (tls ? httpsRequest : httpRequest)(opts, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ body, reused: req.reusedSocket, socket: req.socket! }));
    });
    req.on('error', reject);
    req.end('hello');
  });
}

const listLength = (lists: NodeJS.ReadOnlyDict<unknown[]>): number => Object.values(lists).reduce((n, l) => n + (l?.length ?? 0), 0);

/** After the free socket's 'free' event has run (node emits it on the next tick after the response ends). */
const settled = () => new Promise((r) => setImmediate(r));

for (const tls of [false, true]) {
  describe(`keep-alive agents (${tls ? 'https' : 'http'})`, () => {
    const make = (maxSockets = 256, freeSocketTimeoutMs = 4000) => {
      const pair = createKeepAliveAgents({ maxSockets, maxFreeSockets: 64, freeSocketTimeoutMs });
      agents.push(pair.http, pair.https);
      return tls ? pair.https : pair.http;
    };

    it('reuses one socket for sequential requests, marks it reused, and piles up no listeners on it', async () => {
      const { port, seen } = await upstream(tls);
      const agent = make();
      const first = await send(tls, agent, port);
      expect(first).toMatchObject({ body: '5', reused: false });
      await settled();
      const errorListeners = first.socket.listenerCount('error');
      const closeListeners = first.socket.listenerCount('close');
      for (let i = 0; i < 200; i++) {
        const r = await send(tls, agent, port);
        expect(r).toMatchObject({ body: '5', reused: true });
        expect(r.socket).toBe(first.socket);
        await settled();
      }
      expect(seen.connections).toBe(1);
      expect(nodeAddRequests).toBe(1); // node's own addRequest opened the socket; every reuse was ours
      expect(first.socket.listenerCount('error')).toBe(errorListeners);
      expect(first.socket.listenerCount('close')).toBe(closeListeners);
      expect(listLength(agent.sockets)).toBe(0);
      expect(listLength(agent.freeSockets)).toBe(1);
    });

    it('keeps the busy and free lists consistent under concurrency, and reuses every socket of a burst', async () => {
      const { port, seen } = await upstream(tls, 5);
      const agent = make();
      const burst = async () => (await Promise.all(Array.from({ length: 8 }, () => send(tls, agent, port)))).map((r) => r.reused);
      expect(await burst()).toEqual(Array(8).fill(false));
      await settled();
      expect(listLength(agent.freeSockets)).toBe(8);
      expect(await burst()).toEqual(Array(8).fill(true));
      await settled();
      expect(seen.connections).toBe(8);
      expect(listLength(agent.sockets)).toBe(0);
      expect(listLength(agent.freeSockets)).toBe(8);
    });

    it('never hands out a socket destroyed while free: the request opens a new one', async () => {
      const { port, seen } = await upstream(tls);
      const agent = make();
      const first = await send(tls, agent, port);
      await settled();
      first.socket.destroy(); // 'close' (which takes it off the free list) comes later: the list still holds it now
      const next = await send(tls, agent, port);
      expect(next).toMatchObject({ body: '5', reused: false });
      expect(next.socket).not.toBe(first.socket);
      expect(seen.connections).toBe(2);
    });

    it('keeps the per-origin limit: requests beyond it wait for a socket (node queues them), then run on the same two', async () => {
      const { port, seen } = await upstream(tls, 10);
      const agent = make(2);
      const results = await Promise.all(Array.from({ length: 6 }, () => send(tls, agent, port)));
      expect(results.map((r) => r.body)).toEqual(Array(6).fill('5'));
      expect(seen.connections).toBe(2);
      expect(seen.maxInFlight).toBe(2);
      expect(new Set(results.map((r) => r.socket)).size).toBe(2);
    });

    it('closes a socket that idled past its timeout; the next request opens a new one', async () => {
      const { port, seen } = await upstream(tls);
      const agent = make(256, 200);
      const first = await send(tls, agent, port);
      await settled();
      expect(first.socket.timeout).toBe(200); // armed when freed (the upstream's hint, 4 s, is longer)
      expect((await send(tls, agent, port)).reused).toBe(true);
      await new Promise((r) => setTimeout(r, 450));
      expect(first.socket.destroyed).toBe(true);
      expect(listLength(agent.freeSockets)).toBe(0);
      expect(await send(tls, agent, port)).toMatchObject({ body: '5', reused: false });
      expect(seen.connections).toBe(2);
    });

    it("follows the upstream's Keep-Alive hint: timeout=1 leaves nothing to keep, timeout=2 idles 1 s", async () => {
      const short = await upstream(tls, 0, 1000);
      const agent = make();
      const once = await send(tls, agent, short.port);
      await settled();
      expect(once.socket.destroyed).toBe(true);
      expect((await send(tls, agent, short.port)).reused).toBe(false);
      const two = await upstream(tls, 0, 2000);
      const kept = await send(tls, agent, two.port);
      await settled();
      expect(kept.socket.timeout).toBe(1000);
    });

    if (tls) {
      it('never hands a socket opened for one TLS server name to a request whose Host names another', async () => {
        const { port, seen } = await upstream(tls);
        const agent = make();
        const plain = await send(tls, agent, port);
        await settled();
        // Host: localhost makes node connect with that server name (the fixture is valid for it too).
        const named = await send(tls, agent, port, `localhost:${port}`);
        expect(named).toMatchObject({ body: '5', reused: false });
        expect(named.socket).not.toBe(plain.socket);
        await settled();
        const again = await send(tls, agent, port, `localhost:${port}`);
        expect(again).toMatchObject({ body: '5', reused: true });
        expect(again.socket).toBe(named.socket);
        await settled();
        expect((await send(tls, agent, port)).socket).toBe(plain.socket);
        expect(seen.connections).toBe(2);
      });
    }
  });
}
