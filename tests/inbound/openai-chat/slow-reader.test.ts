/**
 * A streamed answer larger than the socket's buffers, to a client that stops reading for a while: aisbf
 * waits for the socket to drain (back-pressure) and then writes the rest, every frame once and in
 * order, ending with [DONE]; meanwhile the upstream is held back too (aisbf stops reading it), and
 * that silence is not the provider's: a client that pauses longer than the model's deadline between
 * chunks still gets the whole stream, with the upstream read by our own parser or by the provider's
 * SDK (Anthropic); a client that leaves while aisbf waits ends the wait, and the upstream request is
 * cancelled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAisbf, type TestServer } from '../../helpers/aisbf-server.js';
import { sleep, startFakeServer, writeFrames, type FakeServer } from '../../fakes/fake-server.js';
import { postPaused, readAll, settledCount } from '../../helpers/paused-request.js';

const EVENTS = 400;
/** The deadline between chunks of the model the pausing client asks for (timeout_seconds). */
const DEADLINE_S = 0.6;
/**
 * For the client that leaves: ~80 MB, several times every buffer on the way (loopback's sockets,
 * which the kernel grows to megabytes each, and node's took 8–23 MB in trial runs).
 */
const HUGE_EVENTS = 10_000;
/** For the client that pauses past the deadline: ~40 MB, so aisbf surely waits on its socket meanwhile (3.3 MB can fit in loopback's buffers). */
const SLOW_READ_EVENTS = 5000;
/** 8 KB of content per event: ~3.3 MB for the client that waits and then reads. */
const piece = (i: number) => `${String(i).padStart(5, '0')}:${'x'.repeat(8 * 1024 - 6)}`;
const head = `{"id":"c1","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-mini",`;
const event = (i: number) => `data: ${head}"choices":[{"index":0,"delta":{"content":"${piece(i)}"},"logprobs":null,"finish_reason":null}]}\n\n`;
const END = `data: ${head}"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n`;

/** Anthropic's events, for the provider read through its SDK (guardStream's clock, not pulled-parts'). */
const ev = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
const ANT_START =
  ev('message_start', { type: 'message_start', message: { id: 'msg_slow', type: 'message', role: 'assistant', model: 'claude-slow', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 12, output_tokens: 1 } } }) +
  ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
const antDelta = (text: string) => ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } });
const ANT_END =
  ev('content_block_stop', { type: 'content_block_stop', index: 0 }) +
  ev('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: SLOW_READ_EVENTS } }) +
  ev('message_stop', { type: 'message_stop' });

let up: FakeServer;
let antUp: FakeServer;
/** Resolves when the Anthropic upstream's response was closed before its end. */
let antCut: Promise<boolean> = Promise.resolve(false);
let aisbf: TestServer;
/** Resolves when the upstream's response was closed before its end (the gateway cancelled it). */
let upstreamCut: Promise<boolean> = Promise.resolve(false);
/** Events the upstream's socket has taken so far, for the current stream. */
let upstreamWrote = 0;

beforeAll(async () => {
  up = await startFakeServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
    const what = req.body.messages[0].content;
    const n = what === 'huge' ? HUGE_EVENTS : what === 'slowread' ? SLOW_READ_EVENTS : EVENTS;
    upstreamWrote = 0;
    // Written as fast as the upstream's own socket takes it.
    await (upstreamCut = writeFrames(res, n, event, END, (i) => (upstreamWrote = i)));
  });
  antUp = await startFakeServer(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'request-id': 'req_slow_1' });
    res.write(ANT_START);
    await (antCut = writeFrames(res, SLOW_READ_EVENTS, (i) => antDelta(piece(i)), ANT_END));
  });
  aisbf = await startAisbf({
    providers: {
      oa: { type: 'openai', endpoint: `${up.origin}/v1`, api_key: 'sk-up', models: [{ name: 'gpt-4o-mini' }, { name: 'gpt-4o-mini-deadline', timeout_seconds: DEADLINE_S }] },
      ant: { type: 'anthropic', endpoint: antUp.origin, api_key: 'sk-ant-up', models: [{ name: 'claude-slow', timeout_seconds: DEADLINE_S }] },
    },
  });
});
afterAll(async () => {
  await aisbf.close();
  await up.close();
  await antUp.close();
});

/**
 * Opens the stream with a raw client that reads nothing until told to. With an Origin header (a
 * browser) the answer is a web stream body instead of writes to node's socket: both are tested.
 */
function openPaused(content = 'long', origin?: string, model = 'gpt-4o-mini', provider = 'oa') {
  return postPaused(`${aisbf.url}/api/${provider}/chat/completions`, { model, stream: true, messages: [{ role: 'user', content }] }, origin ? { origin } : {});
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

  it.each([
    ['an upstream read by our own parser (OpenAI)', 'oa', 'gpt-4o-mini-deadline', () => upstreamCut],
    ['a provider read through its SDK (Anthropic)', 'ant', 'claude-slow', () => antCut],
  ])('lets the client pause longer than the deadline between chunks, %s: the clock counts only while aisbf waits on the upstream', async (_what, provider, model, cut) => {
    const res = await openPaused('slowread', origin, model, provider);
    // 2.5 times the deadline without reading: aisbf stops reading the upstream meanwhile, and that
    // silence is its own, not the provider's.
    await sleep(DEADLINE_S * 2500);
    const frames = (await readAll(res)).split('\n\n').filter(Boolean);
    expect(frames.at(-1)).toBe('data: [DONE]');
    expect(frames.some((f) => f.includes('"error"'))).toBe(false);
    expect(frames.filter((f) => f.includes('"content":"')).length).toBe(SLOW_READ_EVENTS);
    expect(await cut()).toBe(false);
    expect(aisbf.running.deps.routing.health.get(`${provider}/${model}`)?.failures ?? 0).toBe(0);
  });

  it('ends its wait when the client leaves, and cancels the upstream request', async () => {
    const res = await openPaused('huge', origin);
    // Held back all the way to the upstream: aisbf stops reading it while it cannot write, so the
    // upstream's socket fills too and it stops short of its end (where depends on the host's buffers).
    expect(await settledCount(() => upstreamWrote)).toBeLessThan(HUGE_EVENTS - 1);
    res.destroy();
    // The upstream's response is closed before it could end: the gateway let go of it.
    expect(await upstreamCut).toBe(true);
    // And the gateway still serves the next stream.
    const again = await openPaused('long', origin);
    // ASCII throughout: its length is its bytes.
    expect((await readAll(again)).length).toBeGreaterThan(EVENTS * 8 * 1024);
  });
});
