/**
 * The transport's `byteReader` option: a response body that also answers `getReader()` (what the
 * Ollama and Google SDKs read streams with), reading the same bytes as iterating it, and a cancel
 * that ends the read and leaves the next request able to use the connection. Without the option the
 * body has no such method. `bodyReadable` gives the OpenAI chat stream a node Readable for either kind of response.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyReadable, createNodeHttpFetch } from '../../src/providers/node-http-fetch.js';

const server = createServer(async (req, res) => {
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  const lines = req.url === '/long' ? 1000 : 3;
  for (let i = 0; i < lines; i++) {
    if (!res.write(`{"n":${i}}\n`)) await new Promise((r) => res.once('drain', r));
    if (i < 3) await new Promise((r) => setImmediate(r));
  }
  res.end();
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

type ReaderBody = { getReader?: () => { read(): Promise<IteratorResult<Uint8Array>>; cancel(): Promise<void>; releaseLock(): void } };

describe('createNodeHttpFetch: byteReader', () => {
  it('gives the body a getReader that reads every byte, to done', async () => {
    const res = await createNodeHttpFetch({ byteReader: true })(`${origin}/short`, { method: 'GET' });
    const reader = (res.body as unknown as ReaderBody).getReader!();
    let text = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += Buffer.from(r.value).toString();
    reader.releaseLock();
    expect(text).toBe('{"n":0}\n{"n":1}\n{"n":2}\n');
  });

  it('cancel stops reading; the transport answers the next request', async () => {
    const f = createNodeHttpFetch({ byteReader: true, maxSockets: 1 });
    const reader = ((await f(`${origin}/long`, { method: 'GET' })).body as unknown as ReaderBody).getReader!();
    expect((await reader.read()).done).toBe(false);
    await reader.cancel();
    expect(await (await f(`${origin}/short`, { method: 'GET' })).text()).toBe('{"n":0}\n{"n":1}\n{"n":2}\n');
  });

  it('is off by default', async () => {
    const res = await createNodeHttpFetch()(`${origin}/short`, { method: 'GET' });
    expect((res.body as unknown as ReaderBody).getReader).toBeUndefined();
    await res.text();
  });
});

describe('bodyReadable (what the OpenAI chat stream reads events from)', () => {
  async function readAll(r: NodeJS.ReadableStream): Promise<string> {
    let text = '';
    for await (const b of r) text += Buffer.from(b as Uint8Array).toString();
    return text;
  }

  it('is the transport response’s own message, and a web Response’s body otherwise', async () => {
    const res = await createNodeHttpFetch()(`${origin}/short`, { method: 'GET' });
    expect(bodyReadable(res)).toBe(res.body);
    expect(await readAll(bodyReadable(res))).toBe('{"n":0}\n{"n":1}\n{"n":2}\n');
    expect(await readAll(bodyReadable(new Response('data: web\n\n')))).toBe('data: web\n\n');
    expect(await readAll(bodyReadable(new Response(null)))).toBe('');
  });
});
