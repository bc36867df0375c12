/**
 * The bad paths of a *translated* stream, over real HTTP: a Responses or Messages client whose request
 * goes to an OpenAI-type provider, so aisbf turns the upstream's chat.completion.chunk events into
 * Responses / Messages events (inbound/part-frames.ts `pumpParts`, under `pumpResponse` and
 * `pumpMessage`). Covered:
 * - an upstream that breaks midway, by dropping its connection, by stalling past the model's
 *   `timeout_seconds` (the deadline between chunks), or by sending a chunk that is not JSON (which
 *   the chat path forwards as it came, and a translating writer parses): the client gets the deltas that came, then the
 *   API's own failure event (Responses `response.failed`, Messages `event: error` in Anthropic's
 *   envelope), and the stream ends; the request is recorded once, with the failure, and counted
 *   against the provider (a failure after the stream began always counts);
 * - a client that leaves mid-stream while aisbf waits on its socket (the upstream writes as fast as
 *   it can), and one that leaves right after the first event while aisbf waits on the upstream: the
 *   upstream request is cancelled (its response closes before its end), the request is recorded once
 *   as aborted, the provider is not blamed, and the next stream is served whole.
 * Both ways out are tested for the client that leaves: writes to node's socket, and a web stream body
 * (a browser's request, with an Origin header), whose cancel must reach the upstream too.
 * And two bugs these tests found, now fixed: response.failed's error code was the chat envelope's
 * type (`api_error`), not one of the Responses API's; and a client that stopped reading for longer than
 * `timeout_seconds` got a timeout midway, counted against a healthy provider (the deadline between
 * upstream chunks ran while aisbf waited on the client; it now counts only while aisbf waits on the
 * upstream).
 */
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAisbf, usageRowsOf, type TestServer } from '../helpers/aisbf-server.js';
import { sleep, startFakeServer, writeFrames, type FakeServer } from '../fakes/fake-server.js';
import { postPaused, readAll } from '../helpers/paused-request.js';
import { sseEvents } from '../helpers/recorded.js';

type Route = 'responses' | 'messages';
const ROUTES: Route[] = ['responses', 'messages'];
const HOWS = [
  ["written to node's socket", undefined, 'socket'],
  ['as a web stream body (a browser)', 'http://localhost:5173', 'web'],
] as const;

/** For the client that reads it all: 400 deltas of 8 KB. */
const EVENTS = 400;
/** For the client that leaves while aisbf waits on its socket: ~80 MB, far more than every buffer on the way. */
const HUGE_EVENTS = 10_000;
/** For the client that stops reading longer than the deadline, then reads it all: ~40 MB, more than every buffer on the way. */
const SLOW_READ_EVENTS = 5000;
/** For the client that leaves after the first event: one chunk every 100 ms, 10 s in all if nobody stops it. */
const TRICKLE_EVENTS = 100;
/** What the breaking upstreams send before they break. */
const BEFORE_BREAK = ['one ', 'two ', 'three'];
/** The deadline between chunks of the stalling (and slowly read) models. */
const STALL_TIMEOUT_S = 0.6;
const piece = (i: number) => `${String(i).padStart(5, '0')}:${'x'.repeat(8 * 1024 - 6)}`;

/**
 * The upstream's behaviour is the model's first word: `reset-…`, `stall-…`, `huge-…`, `trickle-…`,
 * `long-…`, `slowread-…`. Every test uses its own model, so its health record and its upstream response are its own.
 */
const MODELS = [
  ...['reset', 'stall', 'badjson'].flatMap((b) => [`${b}-responses`, `${b}-messages`, `${b}-messages-sdk`]),
  'reset-responses-code',
  'trickle-responses-stored',
  ...ROUTES.map((r) => `slowread-${r}`),
  ...['huge', 'trickle', 'long'].flatMap((b) => ROUTES.flatMap((r) => HOWS.map(([, , tag]) => `${b}-${r}-${tag}`))),
];

let up: FakeServer;
let aisbf: TestServer;
/** Per model: resolves with true when the upstream's response was closed before its end (aisbf let go of it). */
const upstreamCut = new Map<string, Promise<boolean>>();

/** Writes OpenAI's chat.completion.chunk events, as tests/fakes/openai-upstream.ts does (usage: null on each with include_usage). */
function chunkWriter(model: string, includeUsage: boolean) {
  const head = JSON.stringify({ id: 'chatcmpl-bad-paths', object: 'chat.completion.chunk', created: 1741570283, model: `${model}-2024-08-06`, service_tier: 'default', system_fingerprint: 'fp_bad' }).slice(0, -1);
  const tail = includeUsage ? ',"usage":null}' : '}';
  return {
    delta: (d: Record<string, unknown>, finish: string | null = null) =>
      `data: ${head},"choices":[{"index":0,"delta":${JSON.stringify(d)},"logprobs":null,"finish_reason":${JSON.stringify(finish)}}]${tail}\n\n`,
    end: (completion: number) =>
      `data: ${head},"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]${tail}\n\n` +
      (includeUsage ? `data: ${head},"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":${completion},"total_tokens":${7 + completion}}}\n\n` : '') +
      'data: [DONE]\n\n',
  };
}

beforeAll(async () => {
  up = await startFakeServer(async (req, res) => {
    const model = String(req.body.model);
    const what = model.split('-')[0];
    const w = chunkWriter(model, req.body.stream_options?.include_usage === true);
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    // Cut: closed before all it wrote was flushed (aisbf let go of it, or it broke itself).
    upstreamCut.set(model, new Promise((resolve) => res.on('close', () => resolve(!res.writableFinished))));
    res.write(w.delta({ role: 'assistant', content: '', refusal: null }));
    if (what === 'badjson') {
      for (const t of BEFORE_BREAK) res.write(w.delta({ content: t }));
      // A plain chunk (no finish reason, no usage) that is not JSON: a bad escape in its content.
      res.write(w.delta({ content: 'X' }).replace('"X"', '"bad \\x41"'));
      // And it goes on streaming: aisbf has to let go of it.
      for (let i = 0; i < TRICKLE_EVENTS && !res.destroyed; i++) {
        await sleep(100);
        res.write(w.delta({ content: `t${i} ` }));
      }
      res.end(w.end(TRICKLE_EVENTS));
      return;
    }
    if (what === 'reset' || what === 'stall') {
      for (const t of BEFORE_BREAK) res.write(w.delta({ content: t }));
      // Let those reach the client first.
      await sleep(100);
      // 'stall' never sends another byte: the deadline between chunks has to end it.
      if (what === 'reset') res.socket?.destroy();
      return;
    }
    if (what === 'trickle') {
      for (let i = 0; i < TRICKLE_EVENTS; i++) {
        if (res.destroyed) return;
        res.write(w.delta({ content: `t${i} ` }));
        await sleep(100);
      }
      res.end(w.end(TRICKLE_EVENTS));
      return;
    }
    const n = what === 'huge' ? HUGE_EVENTS : what === 'slowread' ? SLOW_READ_EVENTS : EVENTS;
    // Written as fast as the upstream's own socket takes it.
    await writeFrames(res, n, (i) => w.delta({ content: piece(i) }), w.end(n));
  });
  aisbf = await startAisbf({
    providers: {
      oa: {
        type: 'openai',
        endpoint: `${up.origin}/v1`,
        api_key: 'sk-up-bad-paths',
        models: MODELS.map((name) => (name.startsWith('stall-') || name.startsWith('slowread-') ? { name, timeout_seconds: STALL_TIMEOUT_S } : { name })),
      },
    },
  });
});
afterAll(async () => {
  await aisbf?.close();
  await up?.close();
});

const usageRows = (requestId: string) => usageRowsOf(aisbf, requestId);

/** Waits for the request's record, then checks it is the only one. */
async function onlyRecord(requestId: string) {
  await expect.poll(() => usageRows(requestId).length, { timeout: 5000 }).toBeGreaterThan(0);
  const rows = usageRows(requestId);
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

const failuresOf = (model: string) => aisbf.running.deps.routing.health.get(`oa/${model}`)?.failures ?? 0;

/** One record, aborted, with the prompt paid (our own count: the upstream said nothing of usage); the provider not blamed. */
async function expectAbortedOnce(route: Route, model: string, requestId: string): Promise<void> {
  const row = await onlyRecord(requestId);
  expect(row).toMatchObject({ route, provider: 'oa', model, stream: 1, aborted: 1, error_code: null });
  expect(row.prompt_tokens).toBeGreaterThan(0);
  expect(failuresOf(model)).toBe(0);
}

/** Reads a paused response until `enough` says so about the whole events so far, then pauses it again. */
function readUntil(res: IncomingMessage, enough: (events: SseEvent[]) => boolean): Promise<SseEvent[]> {
  return new Promise((resolve) => {
    let text = '';
    res.on('data', (c: Buffer) => {
      text += c.toString('utf8');
      const events = parseSse(text.slice(0, text.lastIndexOf('\n\n') + 2));
      if (enough(events)) {
        res.pause();
        resolve(events);
      }
    });
    res.resume();
  });
}

interface SseEvent {
  event: string;
  data: any;
}

/** Every frame aisbf writes here has an `event:` and a JSON `data:` line (split by tests/helpers/recorded.ts). */
function parseSse(text: string): SseEvent[] {
  return sseEvents(text).map((e) => ({ event: e.event ?? '', data: JSON.parse(e.data) }));
}

function body(route: Route, model: string) {
  return route === 'responses'
    ? { model: `oa/${model}`, input: 'go', stream: true }
    : { model: `oa/${model}`, max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'go' }] };
}

/** Opens a stream with a raw client that reads nothing until told to; `origin` makes it a browser's request. */
function openPaused(route: Route, model: string, requestId: string, origin?: string): Promise<IncomingMessage> {
  const headers: Record<string, string> = { 'x-request-id': requestId, ...(origin ? { origin } : {}) };
  if (route === 'messages') headers['anthropic-version'] = '2023-06-01';
  return postPaused(`${aisbf.url}/v1/${route}`, body(route, model), headers);
}

/** Text deltas of a finished stream's events, in order. */
function textDeltas(route: Route, events: SseEvent[]): string[] {
  return route === 'responses'
    ? events.filter((e) => e.event === 'response.output_text.delta').map((e) => e.data.delta as string)
    : events.filter((e) => e.event === 'content_block_delta' && e.data.delta.type === 'text_delta').map((e) => e.data.delta.text as string);
}

/** The next stream on the same route is served whole: every delta once and in order, then the API's normal end. */
async function nextStreamServedWhole(route: Route, model: string, requestId: string, origin?: string): Promise<void> {
  const res = await openPaused(route, model, requestId, origin);
  expect(res.statusCode).toBe(200);
  expectWhole(route, parseSse(await readAll(res)), EVENTS);
  expect(await upstreamCut.get(model)).toBe(false);
  expect(await onlyRecord(requestId)).toMatchObject({ route, provider: 'oa', model, status: 200, stream: 1, aborted: 0, error_code: null, completion_tokens: EVENTS });
}

/** Every delta once and in order, then the API's normal end (the last event's type is named, so a failure shows which). */
function expectWhole(route: Route, events: SseEvent[], n: number): void {
  expect(events.at(-1)!.event).toBe(route === 'responses' ? 'response.completed' : 'message_stop');
  const deltas = textDeltas(route, events);
  expect(deltas).toHaveLength(n);
  deltas.forEach((d, i) => expect(d).toBe(piece(i)));
}

/** OpenAI's codes for a failed response (the SDK's `ResponseError['code']`: the list is checked against it by tsc). */
const RESPONSE_ERROR_CODES: Array<OpenAI.Responses.ResponseError['code']> = [
  'server_error',
  'rate_limit_exceeded',
  'invalid_prompt',
  'vector_store_timeout',
  'invalid_image',
  'invalid_image_format',
  'invalid_base64_image',
  'invalid_image_url',
  'image_too_large',
  'image_too_small',
  'image_parse_error',
  'image_content_policy_violation',
  'invalid_image_mode',
  'image_file_too_large',
  'unsupported_image_media_type',
  'empty_image_file',
  'failed_to_download_image',
  'image_file_not_found',
];

/** How the upstream breaks, the record's error_code, and Anthropic's error type for it (502 → api_error, 504 → timeout_error). */
const BREAKS = [
  ['drops its connection', 'reset', 'connection', 'api_error'],
  ['stalls past its deadline', 'stall', 'timeout', 'timeout_error'],
  ['sends a chunk that is not JSON', 'badjson', 'malformed', 'api_error'],
] as const;

describe('a translated stream whose upstream breaks midway', () => {
  it.each(BREAKS)(
    'Responses, upstream %s: the SDK gets the deltas, then response.failed, and the stream ends; one record with the failure, the provider blamed',
    async (_what, kind, code) => {
      const model = `${kind}-responses`;
      const requestId = `bad-${model}`;
      const client = new OpenAI({ baseURL: `${aisbf.url}/v1`, apiKey: 'sk-client', maxRetries: 0 });
      const stream = await client.responses.create({ model: `oa/${model}`, input: 'go', stream: true }, { headers: { 'x-request-id': requestId } });
      const events: Array<{ type: string; sequence_number: number } & Record<string, any>> = [];
      // The iteration ends: the stream closed after response.failed.
      for await (const e of stream) events.push(e as (typeof events)[number]);

      expect(events.map((e) => e.type)).toEqual([
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.content_part.added',
        ...BEFORE_BREAK.map(() => 'response.output_text.delta'),
        'response.failed',
      ]);
      expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
      expect(events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta)).toEqual(BEFORE_BREAK);
      const failed = events.at(-1)!.response;
      const id = events[0]!.response.id as string;
      expect(failed).toMatchObject({ id, object: 'response', status: 'failed', error: { code: expect.any(String), message: expect.any(String) } });
      expect(failed.error.message).toContain(`provider 'oa' (model '${model}')`);
      if (kind === 'stall') expect(failed.error.message).toContain(`no answer within ${STALL_TIMEOUT_S} s`);
      // With what it had made: the message as far as it got.
      expect(failed.output).toMatchObject([{ type: 'message', status: 'incomplete', content: [{ type: 'output_text', text: BEFORE_BREAK.join('') }] }]);
      // The failed response is kept as it ended (store defaults to true).
      expect(await client.responses.retrieve(id)).toMatchObject({ id, status: 'failed', error: failed.error, output: failed.output });

      expect(await onlyRecord(requestId)).toMatchObject({ route: 'responses', provider: 'oa', model, stream: 1, aborted: 0, error_code: code });
      // Too late to fail over, but the provider did fail: counted against it.
      expect(failuresOf(model)).toBe(1);
      // aisbf let go of the upstream response (for the stall: its deadline closed it).
      expect(await upstreamCut.get(model)).toBe(true);
    },
  );

  it.each(BREAKS)(
    "Messages, upstream %s: the deltas, then event: error in Anthropic's envelope, then the end; one record with the failure, the provider blamed",
    async (_what, kind, code, anthropicType) => {
      const model = `${kind}-messages`;
      const requestId = `bad-${model}`;
      const res = await fetch(`${aisbf.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-client', 'x-request-id': requestId },
        body: JSON.stringify(body('messages', model)),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      // The body ends (text() resolves): nothing follows the error event.
      const events = parseSse(await res.text()).filter((e) => e.event !== 'ping');
      expect(events.map((e) => e.event)).toEqual(['message_start', 'content_block_start', ...BEFORE_BREAK.map(() => 'content_block_delta'), 'error']);
      expect(textDeltas('messages', events)).toEqual(BEFORE_BREAK);
      expect(events.at(-1)!.data).toEqual({ type: 'error', error: { type: anthropicType, message: expect.stringContaining(`provider 'oa' (model '${model}')`) } });

      expect(await onlyRecord(requestId)).toMatchObject({ route: 'messages', provider: 'oa', model, stream: 1, aborted: 0, error_code: code });
      expect(failuresOf(model)).toBe(1);
      expect(await upstreamCut.get(model)).toBe(true);
    },
  );

  it.each(BREAKS)('Messages through the Anthropic SDK, upstream %s: the deltas, then an APIError carrying the envelope', async (_what, kind, code, anthropicType) => {
    const model = `${kind}-messages-sdk`;
    const requestId = `bad-${model}`;
    const client = new Anthropic({ baseURL: aisbf.url, apiKey: 'sk-client', maxRetries: 0 });
    const stream = await client.messages.create({ model: `oa/${model}`, max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'go' }] }, { headers: { 'x-request-id': requestId } });
    const texts: string[] = [];
    let caught: unknown;
    try {
      for await (const e of stream) if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') texts.push(e.delta.text);
    } catch (err) {
      caught = err;
    }
    expect(texts).toEqual(BEFORE_BREAK);
    expect(caught).toBeInstanceOf(Anthropic.APIError);
    const err = caught as InstanceType<typeof Anthropic.APIError>;
    expect(err.error).toEqual({ type: 'error', error: { type: anthropicType, message: expect.stringContaining(`provider 'oa' (model '${model}')`) } });
    expect(await onlyRecord(requestId)).toMatchObject({ route: 'messages', provider: 'oa', model, stream: 1, aborted: 0, error_code: code });
    expect(failuresOf(model)).toBe(1);
  });
});

describe('a translated stream whose upstream breaks midway: the Responses error code', () => {
  // The chat envelope's type for an upstream that broke (502/504) is 'api_error', which is not one
  // of the Responses API's codes (responses-stream-writer.ts failureCode).
  it("Responses: response.failed names one of OpenAI's ResponseError codes, server_error for an upstream that broke", async () => {
    const model = 'reset-responses-code';
    const client = new OpenAI({ baseURL: `${aisbf.url}/v1`, apiKey: 'sk-client', maxRetries: 0 });
    const stream = await client.responses.create({ model: `oa/${model}`, input: 'go', stream: true }, { headers: { 'x-request-id': `bad-${model}` } });
    let failed: OpenAI.Responses.ResponseFailedEvent | undefined;
    for await (const e of stream) if (e.type === 'response.failed') failed = e;
    expect(failed).toBeDefined();
    expect(RESPONSE_ERROR_CODES).toContain(failed!.response.error?.code);
    expect(failed!.response.error?.code).toBe('server_error');
  });
});

describe('a translated stream to a client that stops reading for longer than the deadline between chunks', () => {
  // While the client's socket is full aisbf stops reading the upstream; the deadline between chunks
  // (timeout_seconds) must not count that silence against the provider. The client pauses 1.5 s
  // against a 0.6 s deadline.
  it.each(ROUTES)('%s: the whole stream is delivered once the client reads again, and the provider is not blamed', async (route) => {
    const model = `slowread-${route}`;
    const requestId = `slow-${model}`;
    const res = await openPaused(route, model, requestId);
    expect(res.statusCode).toBe(200);
    // The client reads nothing for 2.5 times the deadline: aisbf's writes fill the socket and it stops reading the upstream.
    await sleep(STALL_TIMEOUT_S * 2500);
    expectWhole(route, parseSse(await readAll(res)), SLOW_READ_EVENTS);
    expect(await onlyRecord(requestId)).toMatchObject({ route, provider: 'oa', model, stream: 1, aborted: 0, error_code: null });
    expect(failuresOf(model)).toBe(0);
  });
});

describe.each(HOWS)('a translated stream whose client leaves, %s', (_how, origin, tag) => {
  it.each(ROUTES)('%s: a client that stops reading and leaves ends the wait; the upstream is cancelled, the request recorded once as aborted, the provider not blamed', async (route) => {
    const model = `huge-${route}-${tag}`;
    const requestId = `gone-${model}`;
    const res = await openPaused(route, model, requestId, origin);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    // Long enough for aisbf's writes to fill the socket and wait on it.
    await sleep(300);
    res.destroy();
    // The upstream's response is closed before it could end: aisbf let go of it.
    expect(await upstreamCut.get(model)).toBe(true);
    await expectAbortedOnce(route, model, requestId);
    // And the next stream is served.
    await nextStreamServedWhole(route, `long-${route}-${tag}`, `next-${model}`, origin);
  });

  it.each(ROUTES)('%s: a client that leaves right after the first event, while aisbf waits on the upstream, ends the upstream and gets one aborted record', async (route) => {
    const model = `trickle-${route}-${tag}`;
    const requestId = `first-${model}`;
    const res = await openPaused(route, model, requestId, origin);
    expect(res.statusCode).toBe(200);
    // Read up to the end of the first event, then leave.
    const [first] = await readUntil(res, (events) => events.length > 0);
    expect(first!.event).toBe(route === 'responses' ? 'response.created' : 'message_start');
    res.destroy();
    expect(await upstreamCut.get(model)).toBe(true);
    await expectAbortedOnce(route, model, requestId);
  });
});

describe('a translated Responses stream whose client leaves midway, stored', () => {
  it('keeps what was made as an incomplete response: GET answers with the text so far, and previous_response_id continues from it', async () => {
    const model = 'trickle-responses-stored';
    const res = await openPaused('responses', model, `stored-${model}`);
    expect(res.statusCode).toBe(200);
    // Read until two text deltas came, then leave.
    const seen = await readUntil(res, (events) => events.filter((e) => e.event === 'response.output_text.delta').length >= 2);
    const id = seen[0]!.data.response.id as string;
    res.destroy();
    expect(await upstreamCut.get(model)).toBe(true);
    const client = new OpenAI({ baseURL: `${aisbf.url}/v1`, apiKey: 'sk-client', maxRetries: 0 });
    const stored = await client.responses.retrieve(id);
    expect(stored.status).toBe('incomplete');
    expect(stored.output).toHaveLength(1);
    expect(stored.output[0]).toMatchObject({ type: 'message', status: 'incomplete', role: 'assistant' });
    // Everything the client saw, and maybe a little more that was made before aisbf noticed it left.
    expect((stored.output[0] as OpenAI.Responses.ResponseOutputMessage).content[0]).toMatchObject({ type: 'output_text', text: expect.stringMatching(/^t0 t1 /) });
    // The conversation goes on from it: the upstream gets the partial answer as the assistant's turn.
    const next = await client.responses.stream({ model: 'oa/long-responses-socket', input: 'go on', previous_response_id: id }).finalResponse();
    expect(next.status).toBe('completed');
    const history = up.requests.at(-1)!.body.messages as Array<{ role: string; content: unknown }>;
    expect(history.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(JSON.stringify(history[1]!.content)).toMatch(/t0 t1 /);
  });
});
