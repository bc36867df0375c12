/**
 * The header block the transport sends with a body (built as node's flat header array, not through
 * setHeader): Host as node would write it, Content-Length of the body's bytes, each header once
 * whatever case the caller gave it (the last value wins), over keep-alive; and without a body, node's
 * own framing as before.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeHttpFetch } from '../../src/providers/node-http-fetch.js';

interface Seen {
  method: string;
  raw: string[];
  body: string;
  socket: number;
}
const sockets = new WeakMap<object, number>();
let nextSocket = 0;
const server = createServer((req: IncomingMessage, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (d: string) => (body += d));
  req.on('end', () => {
    if (!sockets.has(req.socket)) sockets.set(req.socket, ++nextSocket);
    const seen: Seen = { method: req.method!, raw: req.rawHeaders, body, socket: sockets.get(req.socket)! };
    res.end(JSON.stringify(seen));
  });
});
let port = 0;
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

/** rawHeaders as [name, value] pairs, names lower-cased. */
const pairs = (raw: string[]) => Array.from({ length: raw.length / 2 }, (_, i) => [raw[2 * i]!.toLowerCase(), raw[2 * i + 1]!]);

describe('createNodeHttpFetch: request headers', () => {
  const fetchVia = createNodeHttpFetch({ maxSockets: 1 });
  const url = () => `http://127.0.0.1:${port}/v1/chat/completions`;

  it('with a body: host, content-length in bytes, keep-alive, each given header once', async () => {
    const body = JSON.stringify({ content: 'héllo ✓' });
    const seen = (await (await fetchVia(url(), { method: 'POST', headers: { 'Content-Type': 'application/json', authorization: 'Bearer a', Authorization: 'Bearer b', 'X-Extra': '1' }, body })).json()) as Seen;
    expect(seen.body).toBe(body);
    const h = pairs(seen.raw);
    expect(h).toEqual(
      expect.arrayContaining([
        ['host', `127.0.0.1:${port}`],
        ['content-length', String(Buffer.byteLength(body))],
        ['content-type', 'application/json'],
        ['authorization', 'Bearer b'],
        ['x-extra', '1'],
        ['connection', 'keep-alive'],
      ]),
    );
    for (const name of ['host', 'content-length', 'authorization', 'content-type']) expect(h.filter(([k]) => k === name)).toHaveLength(1);
  });

  it('keeps a Host the caller gave and sends the body’s own length whatever the caller said, from a Headers object or pairs too', async () => {
    const a = (await (await fetchVia(url(), { method: 'POST', headers: new Headers({ host: 'upstream.example', 'content-type': 'text/plain' }), body: 'abc' })).json()) as Seen;
    expect(pairs(a.raw)).toEqual(expect.arrayContaining([['host', 'upstream.example'], ['content-length', '3']]));
    const b = (await (await fetchVia(url(), { method: 'PUT', headers: [['Content-Length', '99']], body: new Uint8Array([1, 2, 3, 4]) })).json()) as Seen;
    expect(b.method).toBe('PUT');
    expect(pairs(b.raw).filter(([k]) => k === 'content-length')).toEqual([['content-length', '4']]);
  });

  it('reuses one connection across bodies and bodiless requests', async () => {
    const first = (await (await fetchVia(url(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json()) as Seen;
    const get = (await (await fetchVia(url(), { method: 'GET' })).json()) as Seen;
    const again = (await (await fetchVia(url(), { method: 'POST', body: '{}' })).json()) as Seen;
    expect(get.method).toBe('GET');
    expect(pairs(get.raw)).toEqual(expect.arrayContaining([['host', `127.0.0.1:${port}`]]));
    expect(pairs(get.raw).some(([k]) => k === 'content-length' || k === 'transfer-encoding')).toBe(false);
    expect(new Set([first.socket, get.socket, again.socket]).size).toBe(1);
  });
});
