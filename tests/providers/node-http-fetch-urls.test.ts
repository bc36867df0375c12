/**
 * The transport parses each distinct URL once and remembers it in a bounded memo (256, then it starts
 * over: a URL may carry a client's key, so the memo must not grow with clients). Past the bound every
 * URL still goes where it says, including the ones asked again after the memo started over.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeHttpFetch } from '../../src/providers/node-http-fetch.js';

const server = createServer((req, res) => {
  req.resume();
  res.end(JSON.stringify({ url: req.url, host: req.headers.host }));
});
let origin = '';
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('createNodeHttpFetch: the URL memo', () => {
  it('sends each of 600 distinct URLs (more than twice the memo) to its own path, and the first ones again after', async () => {
    const fetchVia = createNodeHttpFetch({ maxSockets: 8 });
    const url = (i: number) => `${origin}/v1/models/m-${i}?key=k-${i}`;
    const ask = async (i: number) => (await (await fetchVia(url(i), { method: 'GET' })).json()) as { url: string; host: string };
    for (let i = 0; i < 600; i += 20) {
      const got = await Promise.all(Array.from({ length: 20 }, (_, k) => ask(i + k)));
      got.forEach((g, k) => expect(g.url).toBe(`/v1/models/m-${i + k}?key=k-${i + k}`));
    }
    for (const i of [0, 1, 255, 256, 599]) expect((await ask(i)).url).toBe(`/v1/models/m-${i}?key=k-${i}`);
    // A URL object is parsed as given, never from the memo.
    const viaObject = (await (await fetchVia(new URL(`${origin}/v1/models/object?key=o`), { method: 'GET' })).json()) as { url: string };
    expect(viaObject.url).toBe('/v1/models/object?key=o');
  });
});
