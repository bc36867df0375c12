/**
 * A streamed answer larger than the socket's buffers, to a client that stops reading for a while: aisbf
 * waits for the socket to drain (back-pressure) and then writes the rest, every frame once and in
 * order, ending with [DONE]; meanwhile the upstream is held back too (aisbf stops reading it); a
 * client that leaves while aisbf waits ends the wait, and the upstream request is cancelled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAisbf, type TestServer } from '../../helpers/aisbf-server.js';
import { drainedOrClosed, sleep, startFakeServer, type FakeServer } from '../../fakes/fake-server.js';
import { postPaused, readAll } from '../../helpers/paused-request.js';

const EVENTS = 400;
/** For the client that leaves: ~40 MB, more than every buffer on the way (loopback's sockets take megabytes). */
const HUGE_EVENTS = 5000;
/** 8 KB of content per event: ~3.3 MB for the client that waits and then reads. */
const piece = (i: number) => `${String(i).padStart(5, '0')}:${'x'.repeat(8 * 1024 - 6)}`;
const head = `{"id":"c1","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-mini",`;
const event = (i: number) => `data: ${head}"choices":[{"index":0,"delta":{"content":"${piece(i)}"},"logprobs":null,"finish_reason":null}]}\n\n`;
const END = `data: ${head}"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n`;

let up: FakeServer;
let aisbf: TestServer;
/** Resolves when the upstream's response was closed before its end (the gateway cancelled it). */
let upstreamCut: Promise<boolean> = Promise.resolve(false);
/** Events the upstream's socket has taken so far, for the current stream. */
let upstreamWrote = 0;

beforeAll(async () => {
  up = await startFakeServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
    let ended = false;
    upstreamCut = new Promise((resolve) => res.on('close', () => resolve(!ended)));
    const n = req.body.messages[0].content === 'huge' ? HUGE_EVENTS : EVENTS;
    upstreamWrote = 0;
    // Written as fast as the upstream's own socket takes it.
    for (let i = 0; i < n; i++) {
      if (res.destroyed) return;
      upstreamWrote = i;
      if (!res.write(event(i))) await drainedOrClosed(res);
    }
    ended = true;
    res.end(END);
  });
  aisbf = await startAisbf({ providers: { oa: { type: 'openai', endpoint: `${up.origin}/v1`, api_key: 'sk-up', models: [{ name: 'gpt-4o-mini' }] } } });
});
afterAll(async () => {
  await aisbf.close();
  await up.close();
});

/**
 * Opens the stream with a raw client that reads nothing until told to. With an Origin header (a
 * browser) the answer is a web stream body instead of writes to node's socket: both are tested.
 */
function openPaused(content = 'long', origin?: string) {
  return postPaused(`${aisbf.url}/api/oa/chat/completions`, { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content }] }, origin ? { origin } : {});
}

describe.each([
  ['written to node\'s socket', undefined],
  ['as a web stream body (a browser)', 'http://localhost:5173'],
])('a streamed chat to a client that stops reading, %s', (_how, origin) => {
  it('waits for the socket and then delivers every frame once, in order, to [DONE]', async () => {
    const res = await openPaused('long', origin);
    expect(res.statusCode).toBe(200);
    // Long enough for aisbf's writes to fill the socket and wait on it.
    await sleep(400);
    const text = await readAll(res);
    const frames = text.split('\n\n').filter(Boolean);
    expect(frames.at(-1)).toBe('data: [DONE]');
    const contents = frames
      .slice(0, -1)
      .map((f) => JSON.parse(f.slice('data: '.length)) as { choices: Array<{ delta: { content?: string }; finish_reason: string | null }> })
      .map((c) => c.choices[0]?.delta.content)
      .filter((c): c is string => c !== undefined);
    expect(contents).toHaveLength(EVENTS);
    contents.forEach((c, i) => expect(c).toBe(piece(i)));
    expect(await upstreamCut).toBe(false);
  });

  it('ends its wait when the client leaves, and cancels the upstream request', async () => {
    const res = await openPaused('huge', origin);
    await sleep(300);
    // Held back all the way to the upstream: aisbf stops reading it while it cannot write, so the
    // upstream's socket fills too (every buffer on the way takes a few MB of the 40).
    expect(upstreamWrote).toBeLessThan(HUGE_EVENTS / 2);
    res.destroy();
    // The upstream's response is closed before it could end: the gateway let go of it.
    expect(await upstreamCut).toBe(true);
    // And the gateway still serves the next stream.
    const again = await openPaused('long', origin);
    // ASCII throughout: its length is its bytes.
    expect((await readAll(again)).length).toBeGreaterThan(EVENTS * 8 * 1024);
  });
});
