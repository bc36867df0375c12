/**
 * SseSocket on a real node server: the frames of one tick reach node as one write (side-by-side views
 * of one buffer joined without a copy, texts joined), nothing is held past its tick, `end` sends what
 * is held, back-pressure comes back as a promise that 'drain' resolves, and a client that leaves
 * stops the stream.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pumpedSseBody, SseSocket, SSE_HEADERS, type SseSink } from '../../src/inbound/sse-pump.js';
import { postPaused, readAll } from '../helpers/paused-request.js';

type Handler = (res: ServerResponse, writes: unknown[]) => void | Promise<void>;

let server: Server | undefined;
afterEach(async () => {
  if (server) await new Promise((r) => server!.close(r));
  server = undefined;
});

/** A server whose one route hands its response to `handler`, recording what node's `write`/`end` were given. */
async function serve(handler: Handler): Promise<string> {
  server = createServer((_req, res) => {
    const writes: unknown[] = [];
    const write = res.write.bind(res) as (chunk: unknown) => boolean;
    const end = res.end.bind(res) as (chunk?: unknown) => ServerResponse;
    res.write = ((chunk: unknown) => (writes.push(chunk), write(chunk))) as typeof res.write;
    res.end = ((chunk?: unknown) => (chunk !== undefined && writes.push(chunk), end(chunk))) as typeof res.end;
    void handler(res, writes);
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}/`;
}

const tick = () => new Promise((r) => setImmediate(r));
const onClose = () => undefined;

describe('SseSocket', () => {
  it('joins the frames of one tick: side-by-side views without a copy, texts as one string', async () => {
    const read = Buffer.from('data: a\n\ndata: b\n\ndata: c\n\n');
    let seen: unknown[] = [];
    let inTick = -1;
    const url = await serve(async (res, writes) => {
      seen = writes;
      const out = new SseSocket(res, 200, SSE_HEADERS, { onClose });
      out.write(read.subarray(0, 9));
      out.write(read.subarray(9, 18));
      out.write(read.subarray(18));
      out.write('data: d\n\n');
      out.write('data: e\n\n');
      inTick = writes.length; // the views went when a text came; the texts wait for the tick's end
      await tick();
      out.write(read.subarray(0, 9)); // not beside the held text: two writes
      out.end();
    });
    const res = await postPaused(url, {});
    expect(await readAll(res)).toBe('data: a\n\ndata: b\n\ndata: c\n\ndata: d\n\ndata: e\n\ndata: a\n\n');
    expect(inTick).toBe(1);
    expect(seen).toHaveLength(3);
    const [views, texts, last] = seen as [Uint8Array, string, Uint8Array];
    expect(views.buffer).toBe(read.buffer); // the read's own memory
    expect(views.byteOffset).toBe(read.byteOffset);
    expect(views.byteLength).toBe(read.byteLength);
    expect(texts).toBe('data: d\n\ndata: e\n\n');
    expect(Buffer.from(last).toString()).toBe('data: a\n\n');
  });

  it('keeps apart what does not lie side by side, in order', async () => {
    const a = Buffer.from('data: 1\n\n');
    const b = Buffer.from('data: 2\n\n');
    let seen: unknown[] = [];
    const url = await serve(async (res, writes) => {
      seen = writes;
      const out = new SseSocket(res, 200, SSE_HEADERS, { onClose });
      out.write(a.subarray(0, 4));
      out.write(b); // another buffer
      out.write(a.subarray(5)); // a gap of one byte after the first view
      out.write('data: 3\n\n');
      out.end();
    });
    expect(await readAll(await postPaused(url, {}))).toBe('data' + 'data: 2\n\n' + ' 1\n\n' + 'data: 3\n\n');
    expect(seen).toHaveLength(4);
  });

  it('waits for nothing past its tick: a frame written alone leaves before the next one is made', async () => {
    let sawFirst: () => void = () => undefined;
    const first = new Promise<void>((r) => (sawFirst = r));
    const url = await serve(async (res) => {
      const out = new SseSocket(res, 200, SSE_HEADERS, { onClose });
      out.write('data: first\n\n');
      await first; // the client has it while the stream is still open
      out.write('data: second\n\n');
      out.end();
    });
    const res = await postPaused(url, {});
    const chunks: string[] = [];
    res.on('data', (c: Buffer) => {
      chunks.push(c.toString());
      if (chunks.length === 1) sawFirst();
    });
    res.resume();
    await new Promise((r) => res.on('end', r));
    expect(chunks.join('')).toBe('data: first\n\ndata: second\n\n');
    expect(chunks[0]).toBe('data: first\n\n');
  });

  it('says to wait when node does, and goes on after drain, losing nothing', async () => {
    const frame = 'x'.repeat(256 * 1024);
    let waited = 0;
    let total = 0;
    const url = await serve(async (res) => {
      const out = new SseSocket(res, 200, SSE_HEADERS, { onClose });
      for (let i = 0; i < 40; i++) {
        const wait = out.write(`data: ${frame}\n\n`);
        total++;
        if (wait) {
          waited++;
          await wait;
        }
        await tick();
      }
      out.end();
    });
    const res = await postPaused(url, {});
    await new Promise((r) => setTimeout(r, 100)); // the client reads nothing yet: the socket fills
    const body = await readAll(res);
    expect(total).toBe(40);
    expect(waited).toBeGreaterThan(0);
    expect(body.length).toBe(40 * (frame.length + 8));
  });

  it('ends the stream broken, not the process, when node throws on a held write', async () => {
    let closes = 0;
    let stopped: () => void = () => undefined;
    const onCloseCalled = new Promise<void>((r) => (stopped = r));
    const url = await serve(async (res) => {
      res.write = (() => {
        throw new Error('write failed');
      }) as typeof res.write;
      const out = new SseSocket(res, 200, SSE_HEADERS, { onClose: () => (closes++, stopped()) });
      out.write('data: one\n\n'); // handed to node when the tick ends, outside any await of ours
    });
    const res = await postPaused(url, {}).catch((err: Error) => err);
    if (!(res instanceof Error)) await readAll(res).catch(() => undefined);
    await onCloseCalled;
    expect(closes).toBe(1);
  });

  it('stops when the client leaves: onClose once, `closed`, and what is held is dropped', async () => {
    let closes = 0;
    let socket: SseSocket | undefined;
    let gone: () => void = () => undefined;
    const left = new Promise<void>((r) => (gone = r));
    const url = await serve(async (res) => {
      socket = new SseSocket(res, 200, SSE_HEADERS, { onClose: () => (closes++, gone()) });
      socket.write('data: one\n\n');
    });
    const res = await postPaused(url, {});
    res.destroy();
    await left;
    expect(socket!.closed).toBe(true);
    expect(socket!.write('data: two\n\n')).toBeUndefined();
    socket!.end();
    expect(closes).toBe(1);
  });
});

describe('pumpedSseBody', () => {
  it('ends a body whose reader takes nothing for the stall limit (in-process: no node response to close): it errors, the pump stops, onCancel and onStall once', async () => {
    let cancels = 0;
    let stalls = 0;
    let pumpSawClosed = false;
    const body = pumpedSseBody(
      async (sink: SseSink) => {
        // Writes until told to wait, then waits: the reader never reads again.
        for (let i = 0; !sink.closed; i++) {
          const wait = sink.write(`data: ${i}\n\n`);
          if (wait) await wait;
        }
        pumpSawClosed = true;
      },
      () => cancels++,
      { stall: { ms: 50, onStall: () => stalls++ } },
    );
    const reader = body.getReader();
    // One read starts the pump; then the reader stops.
    expect((await reader.read()).done).toBe(false);
    await expect.poll(() => pumpSawClosed).toBe(true);
    // The frames already queued are still there to read; then the error, not a clean end.
    let error: unknown;
    try {
      for (;;) if ((await reader.read()).done) break;
    } catch (err) {
      error = err;
    }
    expect(String(error)).toContain('server.client_stall_seconds');
    expect(cancels).toBe(1);
    expect(stalls).toBe(1);
  });

  it('restarts the stall limit at every wait: a reader that takes each frame within the limit, for far longer than the limit in all, gets the whole body', async () => {
    let stalls = 0;
    const body = pumpedSseBody(
      async (sink: SseSink) => {
        for (let i = 0; i < 12; i++) {
          const wait = sink.write(`data: ${i}\n\n`);
          if (wait) await wait;
        }
      },
      () => undefined,
      { stall: { ms: 120, onStall: () => stalls++ } },
    );
    const reader = body.getReader();
    let frames = 0;
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      frames++;
      // 12 × 60 ms: six times the limit in all, half of it per wait.
      await new Promise((res) => setTimeout(res, 60));
    }
    expect(frames).toBe(12);
    expect(stalls).toBe(0);
  });
});
