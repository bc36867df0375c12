/**
 * The upstream transport and idle keep-alive sockets: an upstream that closes (or resets) a kept-alive
 * socket just as we reuse it must not turn into an ECONNRESET / "socket hang up" for the client.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createNodeHttpFetch } from '../../src/providers/node-http-fetch.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** An upstream answering `{"n": <request number>}`; `onRequest` may reset the socket instead. */
async function upstream(setup: (s: Server) => void, resetWhen: (nOnSocket: number, socket: Socket) => boolean = () => false) {
  const seen = { requests: 0, connections: 0, resets: 0 };
  const perSocket = new WeakMap<Socket, number>();
  const server = createServer((req, res) => {
    const n = (perSocket.get(req.socket) ?? 0) + 1;
    perSocket.set(req.socket, n);
    req.resume();
    req.on('end', () => {
      if (resetWhen(n, req.socket)) {
        seen.resets++;
        req.socket.resetAndDestroy(); // RST before any response byte: what a reused, just-closed socket sees
        return;
      }
      seen.requests++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ n: seen.requests }));
    });
  });
  server.on('connection', () => seen.connections++);
  setup(server);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/x`, seen };
}

const post = (f: typeof fetch, url: string) => f(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });

describe('node-http-fetch keep-alive', () => {
  it('a request after the upstream keep-alive timeout (1 s) passed idle succeeds', async () => {
    const up = await upstream((s) => (s.keepAliveTimeout = 1000));
    const f = createNodeHttpFetch();
    expect(await (await post(f, up.url)).json()).toEqual({ n: 1 });
    await new Promise((r) => setTimeout(r, 1100));
    expect(await (await post(f, up.url)).json()).toEqual({ n: 2 });
    expect(up.seen.connections).toBe(2);
  });

  it('resends once on a new socket when a reused socket is reset before any response byte', async () => {
    // The upstream resets the second request on any socket: the kept-alive socket it closed as we reused it.
    const up = await upstream((s) => (s.keepAliveTimeout = 60_000), (n) => n === 2);
    const f = createNodeHttpFetch();
    expect(await (await post(f, up.url)).json()).toEqual({ n: 1 });
    await new Promise((r) => setTimeout(r, 50)); // the socket is back in the agent's free list
    const res = await post(f, up.url);
    expect(await res.json()).toEqual({ n: 2 });
    expect(up.seen).toEqual({ requests: 2, connections: 2, resets: 1 });
  });

  it('does not resend when a fresh socket is reset (the upstream may have acted on it)', async () => {
    const up = await upstream(() => {}, (n) => n === 1);
    const f = createNodeHttpFetch();
    const err = await post(f, up.url).then(() => undefined, (e: unknown) => e as Error & { cause?: NodeJS.ErrnoException });
    expect(err?.cause?.code).toBe('ECONNRESET');
    expect(up.seen).toEqual({ requests: 0, connections: 1, resets: 1 });
  });

  it("follows the upstream's shorter Keep-Alive hint (node ignores it without an agent timeout)", async () => {
    // timeout=2 → the agent drops the free socket after 1 s; 1.2 s later a new connection is used.
    const up = await upstream((s) => (s.keepAliveTimeout = 2000));
    const f = createNodeHttpFetch();
    await (await post(f, up.url)).json();
    await new Promise((r) => setTimeout(r, 1200));
    await (await post(f, up.url)).json();
    expect(up.seen.connections).toBe(2);
  });
});
