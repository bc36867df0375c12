/**
 * A pass-through stream (Messages to an Anthropic-type provider, relayed byte for byte) under the
 * conditions a relay meets: a client that stops reading (aisbf waits for the socket, then relays
 * every byte once and in order; meanwhile it stops reading the upstream, which is held back too), a
 * client that leaves while aisbf waits (the upstream request is cancelled, the request recorded as
 * aborted, the provider not blamed), a slow but steady upstream (each read restarts the clock), and
 * an upstream that stalls or drops its connection midway (the client gets what came, then the API's
 * own error event; the request is recorded with the failure). Both ways out are tested: writes to
 * node's socket, and a web stream body (a browser's request, with an Origin header).
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAisbf, usageRowsOf, type TestServer } from '../helpers/aisbf-server.js';
import { drainedOrClosed, sleep, startFakeServer, type FakeServer } from '../fakes/fake-server.js';
import { postPaused, readAll, settledCount } from '../helpers/paused-request.js';

const EVENTS = 400;
/**
 * For the client that leaves: ~80 MB. The buffers on the way (four loopback sockets, which the kernel
 * grows to several MB each, and node's) took 8–23 MB in trial runs: half of this is well clear of them.
 */
const HUGE_EVENTS = 10_000;
/** For the client that pauses past the deadline: ~40 MB, so aisbf surely waits on its socket meanwhile. */
const SLOW_READ_EVENTS = 5000;
/** 8 KB of text per delta: ~3.3 MB for the client that waits and then reads. */
const piece = (i: number) => `${String(i).padStart(5, '0')}:${'x'.repeat(8 * 1024 - 6)}`;
const ev = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
const START = (id: string) =>
  ev('message_start', { type: 'message_start', message: { id, type: 'message', role: 'assistant', model: 'claude-relay', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 12, output_tokens: 1 } } }) +
  ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
const delta = (text: string) => ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } });
const END = (outputTokens: number) =>
  ev('content_block_stop', { type: 'content_block_stop', index: 0 }) +
  ev('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: outputTokens } }) +
  ev('message_stop', { type: 'message_stop' });
const STEADY = ['one ', 'two ', 'three ', 'four ', 'five ', 'six ', 'seven ', 'eight ', 'nine ', 'ten'];

let up: FakeServer;
let aisbf: TestServer;
/** Resolves when the upstream's response was closed before its end (the gateway cancelled it). */
let upstreamCut: Promise<boolean> = Promise.resolve(false);
/** Events the upstream's socket has taken so far, for the current stream. */
let upstreamWrote = 0;
/** Everything the upstream wrote for the current stream, to compare with what the client got. */
let upstreamSent = '';

beforeAll(async () => {
  up = await startFakeServer(async (req, res) => {
    const what = String(req.body.messages[0].content);
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'request-id': 'req_relay_1' });
    let ended = false;
    upstreamCut = new Promise((resolve) => res.on('close', () => resolve(!ended)));
    upstreamSent = '';
    const send = (s: string) => {
      upstreamSent += s;
      return res.write(s);
    };
    send(START(`msg_${what}`));
    if (what === 'steady') {
      for (const t of STEADY) {
        await sleep(200);
        send(delta(t));
      }
      ended = true;
      res.end(END(STEADY.length));
      return;
    }
    if (what === 'stall' || what === 'reset') {
      send(delta('partial'));
      await sleep(100);
      // 'stall' never sends another byte: the relay's deadline has to end it.
      if (what === 'reset') res.socket?.destroy();
      return;
    }
    const n = what === 'huge' ? HUGE_EVENTS : what === 'slowread' ? SLOW_READ_EVENTS : EVENTS;
    upstreamWrote = 0;
    // Written as fast as the upstream's own socket takes it.
    for (let i = 0; i < n; i++) {
      if (res.destroyed) return;
      upstreamWrote = i;
      if (!send(delta(piece(i)))) await drainedOrClosed(res);
    }
    ended = true;
    const end = END(n);
    upstreamSent += end;
    res.end(end);
  });
  aisbf = await startAisbf({ providers: { ant: { type: 'anthropic', endpoint: up.origin, api_key: 'sk-ant-up', timeout_seconds: 0.6, models: [{ name: 'claude-relay' }] } } });
});
afterAll(async () => {
  await aisbf.close();
  await up.close();
});

/** Opens a Messages stream with a raw client that reads nothing until told to; `origin` makes it a browser's request. */
function openPaused(content: string, requestId: string, origin?: string) {
  const headers = { 'anthropic-version': '2023-06-01', 'x-request-id': requestId, ...(origin ? { origin } : {}) };
  return postPaused(`${aisbf.url}/v1/messages`, { model: 'ant/claude-relay', max_tokens: 100, stream: true, messages: [{ role: 'user', content }] }, headers);
}

const usageRow = (requestId: string) => usageRowsOf(aisbf, requestId)[0];

describe.each([
  ["written to node's socket", undefined],
  ['as a web stream body (a browser)', 'http://localhost:5173'],
])('a pass-through stream to a client that stops reading, %s', (how, origin) => {
  const tag = origin ? 'web' : 'socket';

  it('waits for the socket, then relays every byte once and in order, with the usage recorded', async () => {
    const res = await openPaused('long', `relay-long-${tag}`, origin);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    // Long enough for aisbf's writes to fill the socket and wait on it.
    await sleep(400);
    const text = await readAll(res);
    expect(await upstreamCut).toBe(false);
    expect(text).toBe(upstreamSent);
    await expect.poll(() => usageRow(`relay-long-${tag}`)).toMatchObject({ route: 'messages', provider: 'ant', status: 200, stream: 1, aborted: 0, prompt_tokens: 12, completion_tokens: EVENTS });
  });

  it('lets the client pause longer than the deadline between reads: the clock counts only while aisbf waits on the upstream', async () => {
    const res = await openPaused('slowread', `relay-slow-${tag}`, origin);
    // 2.5 times the provider's 0.6 s deadline without reading: aisbf stops reading the upstream
    // meanwhile, and that silence is its own, not the provider's.
    await sleep(1500);
    const text = await readAll(res);
    expect(await upstreamCut).toBe(false);
    expect(text).toBe(upstreamSent);
    await expect.poll(() => usageRow(`relay-slow-${tag}`)).toMatchObject({ provider: 'ant', status: 200, stream: 1, aborted: 0, error_code: null, completion_tokens: SLOW_READ_EVENTS });
    expect(aisbf.running.deps.routing.health.get('ant/claude-relay')?.failures ?? 0).toBe(0);
  });

  it('ends its wait when the client leaves: the upstream is cancelled, the request recorded as aborted, the provider not blamed', async () => {
    const res = await openPaused('huge', `relay-gone-${tag}`, origin);
    // Held back all the way to the upstream: aisbf stops reading it while it cannot write, so the
    // upstream stops short of its end (where depends on the host's socket buffers).
    expect(await settledCount(() => upstreamWrote)).toBeLessThan(HUGE_EVENTS - 1);
    res.destroy();
    expect(await upstreamCut).toBe(true);
    await expect.poll(() => usageRow(`relay-gone-${tag}`), { timeout: 5000 }).toMatchObject({ provider: 'ant', stream: 1, aborted: 1 });
    expect(aisbf.running.deps.routing.health.get('ant/claude-relay')?.failures ?? 0).toBe(0);
    // And the next stream is served.
    const again = await openPaused('long', `relay-again-${tag}`, origin);
    expect((await readAll(again)).length).toBeGreaterThan(EVENTS * 8 * 1024);
  });

  it(`relays a slow but steady stream whole (${how}): each upstream read restarts the clock`, async () => {
    // 0.2 s between events, ten of them: 2 s in all against a 0.6 s timeout between reads.
    const client = new Anthropic({ baseURL: aisbf.url, apiKey: 'sk-ant-client', maxRetries: 0, defaultHeaders: origin ? { origin } : {} });
    const msg = await client.messages.stream({ model: 'ant/claude-relay', max_tokens: 100, messages: [{ role: 'user', content: 'steady' }] }).finalMessage();
    expect(msg.id).toBe('msg_steady');
    expect(msg.content).toEqual([{ type: 'text', text: STEADY.join('') }]);
    expect(msg.stop_reason).toBe('end_turn');
  }, 20_000);
});

describe('a pass-through stream whose upstream fails midway', () => {
  it.each([
    ['stalls', 'stall', 'timeout_error', 'timeout'],
    ['drops its connection', 'reset', 'api_error', 'connection'],
  ])('%s: the client gets what came, then an error event; the request is recorded with the failure', async (_what, content, errType, code) => {
    const res = await openPaused(content, `relay-${content}`);
    expect(res.statusCode).toBe(200);
    const text = await readAll(res);
    expect(text.startsWith(START(`msg_${content}`) + delta('partial'))).toBe(true);
    const last = text.slice(text.lastIndexOf('event: '));
    expect(last).toMatch(/^event: error\ndata: /);
    expect(JSON.parse(last.slice(last.indexOf('data: ') + 6))).toMatchObject({ type: 'error', error: { type: errType } });
    expect(text).not.toContain('message_stop');
    await expect.poll(() => usageRow(`relay-${content}`), { timeout: 5000 }).toMatchObject({ provider: 'ant', stream: 1, aborted: 0, error_code: code });
  });
});
