/**
 * A streaming client that reads nothing and never leaves (`server.client_stall_seconds`, sse-pump.ts
 * StallLimit). aisbf stops reading the upstream while it cannot write (back-pressure), and the
 * provider's deadline does not count while aisbf waits on the client (deadline.ts), so before the
 * limit such a client held its upstream request open for as long as the upstream would wait. Now,
 * once the client has taken nothing for the limit, the stream ends as if the client had left: the
 * client's connection is closed, the upstream request cancelled, the request recorded once as aborted
 * (not as the provider's failure), and a warning with the request's id goes to the log. Every kind of
 * stream (chat, Responses and Messages translated from an OpenAI-type upstream, Messages relayed from an
 * Anthropic one), written to node's socket and as a web stream body (a browser). A client that
 * pauses for less than the limit still gets the whole stream, and 0 turns the limit off.
 */
import { rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeConfigDir, startAisbf, usageRowsOf, writeTestConfig, type TestServer } from '../helpers/aisbf-server.js';
import { sleep, startFakeServer, writeFrames, type FakeServer } from '../fakes/fake-server.js';
import { postPaused, readAll, readCut, settledCount } from '../helpers/paused-request.js';
import { loadConfig } from '../../src/config/load-config.js';

/** The limit under test, in seconds. */
const STALL_S = 0.5;
/** ~80 MB of deltas: far more than every buffer between the upstream and a client that reads nothing. */
const HUGE_EVENTS = 10_000;
/** ~3.3 MB, for the client that pauses less than the limit and then reads it all. */
const SHORT_EVENTS = 400;
const piece = (i: number) => `${String(i).padStart(5, '0')}:${'x'.repeat(8 * 1024 - 6)}`;

type Kind = 'chat' | 'responses' | 'messages' | 'relay';
const KINDS: Kind[] = ['chat', 'responses', 'messages', 'relay'];
const HOWS = [
  ["written to node's socket", undefined, 'socket'],
  ['as a web stream body (a browser)', 'http://localhost:5173', 'web'],
] as const;

let oa: FakeServer;
let ant: FakeServer;
let aisbf: TestServer;
const lines: string[] = [];
/**
 * What reaches the process's stderr through console.error: @hono/node-server prints an errored
 * response body there with its stack (and writes `Error: …` to the client), so the limit must
 * close node's response rather than error the body.
 */
const consoleError = vi.spyOn(console, 'error');
/** Per model: resolves with true when the upstream's response was closed before its end. */
const upstreamCut = new Map<string, Promise<boolean>>();
/** Per model: deltas the upstream has written so far. */
const written = new Map<string, number>();

/** The upstream's stream for `model` (fake-server.ts writeFrames), its cut and its count kept for the tests. */
function stream(res: ServerResponse, model: string, delta: (i: number) => string, end: string): Promise<boolean> {
  const cut = writeFrames(res, count(model), delta, end, (i) => written.set(model, i + 1));
  upstreamCut.set(model, cut);
  return cut;
}

const count = (model: string) => (model.startsWith('huge') ? HUGE_EVENTS : SHORT_EVENTS);

beforeAll(async () => {
  oa = await startFakeServer(async (req, res) => {
    const model = String(req.body.model);
    const head = JSON.stringify({ id: 'chatcmpl-stall', object: 'chat.completion.chunk', created: 1741570283, model }).slice(0, -1);
    const chunk = (delta: unknown, finish: string | null = null) => `data: ${head},"choices":[{"index":0,"delta":${JSON.stringify(delta)},"logprobs":null,"finish_reason":${JSON.stringify(finish)}}]}\n\n`;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
    res.write(chunk({ role: 'assistant', content: '' }));
    await stream(res, model, (i) => chunk({ content: piece(i) }), chunk({}, 'stop') + 'data: [DONE]\n\n');
  });
  ant = await startFakeServer(async (req, res) => {
    const model = String(req.body.model);
    const ev = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'request-id': 'req_stall_1' });
    res.write(
      ev('message_start', { type: 'message_start', message: { id: 'msg_stall', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 12, output_tokens: 1 } } }) +
        ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
    );
    const end =
      ev('content_block_stop', { type: 'content_block_stop', index: 0 }) +
      ev('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: count(model) } }) +
      ev('message_stop', { type: 'message_stop' });
    await stream(res, model, (i) => ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece(i) } }), end);
  });
  const models = ['huge', 'short'].flatMap((what) => KINDS.flatMap((k) => HOWS.map(([, , tag]) => ({ name: `${what}-${k}-${tag}` }))));
  aisbf = await startAisbf(
    {
      aisbf: { server: { client_stall_seconds: STALL_S } },
      providers: {
        oa: { type: 'openai', endpoint: `${oa.origin}/v1`, api_key: 'sk-up-stall', models: models.filter((m) => !m.name.includes('relay')) },
        ant: { type: 'anthropic', endpoint: ant.origin, api_key: 'sk-ant-stall', models: models.filter((m) => m.name.includes('relay')) },
      },
    },
    {},
    { log: pino({ level: 'warn' }, { write: (s: string) => void lines.push(s) }) },
  );
});
afterAll(async () => {
  await aisbf?.close();
  await oa?.close();
  await ant?.close();
});

const providerOf = (kind: Kind) => (kind === 'relay' ? 'ant' : 'oa');

/** Opens a stream of `kind` with a raw client that reads nothing until told to. */
function openPaused(kind: Kind, model: string, requestId: string, origin?: string): Promise<IncomingMessage> {
  const headers: Record<string, string> = { 'x-request-id': requestId, ...(origin ? { origin } : {}) };
  const m = `${providerOf(kind)}/${model}`;
  if (kind === 'chat') return postPaused(`${aisbf.url}/v1/chat/completions`, { model: m, stream: true, messages: [{ role: 'user', content: 'go' }] }, headers);
  if (kind === 'responses') return postPaused(`${aisbf.url}/v1/responses`, { model: m, input: 'go', stream: true }, headers);
  headers['anthropic-version'] = '2023-06-01';
  return postPaused(`${aisbf.url}/v1/messages`, { model: m, max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'go' }] }, headers);
}

const usageRows = (requestId: string) => usageRowsOf(aisbf, requestId);

/** The API's normal last event, which a stream the limit ended never sends. */
const LAST: Record<Kind, string> = { chat: 'data: [DONE]', responses: 'event: response.completed', messages: 'event: message_stop', relay: 'event: message_stop' };

describe.each(KINDS)('a %s stream', (kind) => {
  describe.each(HOWS)('%s', (_how, origin, tag) => {
    it(`whose client reads nothing for server.client_stall_seconds ends as the client's: upstream cancelled, connection closed, recorded aborted, provider not blamed`, async () => {
      const model = `huge-${kind}-${tag}`;
      const requestId = `stall-${kind}-${tag}`;
      const started = Date.now();
      const res = await openPaused(kind, model, requestId, origin);
      expect(res.statusCode).toBe(200);
      // The client never reads and never leaves: aisbf lets go of the upstream…
      expect(await upstreamCut.get(model)).toBe(true);
      // …not before the limit (the wait starts once the buffers on the way are full, after the start)…
      expect(Date.now() - started).toBeGreaterThanOrEqual(STALL_S * 1000);
      // …and of the client, whose stream, when it reads again, was cut short of its end.
      const { text, complete } = await readCut(res);
      expect(complete).toBe(false);
      expect(text).not.toContain(LAST[kind]);
      expect(written.get(model)!).toBeLessThan(HUGE_EVENTS);
      await expect.poll(() => usageRows(requestId).length, { timeout: 5000 }).toBe(1);
      expect(usageRows(requestId)[0]).toMatchObject({ provider: providerOf(kind), model, stream: 1, aborted: 1, error_code: null });
      expect(aisbf.running.deps.routing.health.get(`${providerOf(kind)}/${model}`)?.failures ?? 0).toBe(0);
      const warned = lines.map((l) => JSON.parse(l)).filter((l) => l.reqId === requestId);
      expect(warned).toHaveLength(1);
      expect(warned[0]).toMatchObject({ level: 40, client_stall_seconds: STALL_S });
      expect(warned[0].msg).toContain('server.client_stall_seconds');
      expect(consoleError).not.toHaveBeenCalled();
    });

    it('whose client pauses for less than the limit, then reads, gets every delta', async () => {
      const model = `short-${kind}-${tag}`;
      const res = await openPaused(kind, model, `pause-${kind}-${tag}`, origin);
      await sleep(STALL_S * 400);
      const text = await readAll(res);
      for (const i of [0, SHORT_EVENTS / 2, SHORT_EVENTS - 1]) expect(text).toContain(piece(i));
      expect(await upstreamCut.get(model)).toBe(false);
    });
  });
});

describe('server.client_stall_seconds', () => {
  it('is 120 by default, and refuses a negative value naming the key', () => {
    expect(loadConfig({ dir: aisbf.configDir }).aisbf.server.client_stall_seconds).toBe(STALL_S);
    const dir = makeConfigDir({ providers: {} });
    try {
      expect(loadConfig({ dir }).aisbf.server.client_stall_seconds).toBe(120);
      writeTestConfig(dir, { aisbf: { server: { client_stall_seconds: -1 } }, providers: {} });
      expect(() => loadConfig({ dir })).toThrow(/server\.client_stall_seconds/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('set to 0, never ends a stream: the client that reads nothing holds it until it leaves', async () => {
    const off = await startAisbf({ aisbf: { server: { client_stall_seconds: 0 } }, providers: { oa: { type: 'openai', endpoint: `${oa.origin}/v1`, api_key: 'sk-up-stall', models: [{ name: 'huge-off' }] } } });
    try {
      const res = await postPaused(`${off.url}/v1/chat/completions`, { model: 'oa/huge-off', stream: true, messages: [{ role: 'user', content: 'go' }] });
      expect(await settledCount(() => written.get('huge-off') ?? 0)).toBeLessThan(HUGE_EVENTS);
      await sleep(STALL_S * 3000);
      expect(res.destroyed).toBe(false);
      res.destroy();
      expect(await upstreamCut.get('huge-off')).toBe(true);
    } finally {
      await off.close();
    }
  });
});
