/**
 * The shared client suite against the Anthropic provider type, plus what only Anthropic has: role
 * alternation and system placement, tool_choice mapping, max_tokens defaults, JSON output, extended
 * thinking, cache-token usage, its error types (529 overloaded, prompt too long, stream error events)
 * and the Models API listing.
 */
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic-upstream.js';
import { useGateway } from '../helpers/fixture.js';
import type { RecordedRequest } from '../fakes/fake-server.js';
import type { ProviderFixture } from './provider-fixture.js';
import { runProviderSuite } from './provider-suite.js';
import { textPdf } from '../documents/make-documents.js';

const KEY = 'sk-ant-suite-key-0123456789abcdef';
const MODEL = 'claude-sonnet-4-6';
const STOP_REASON = { stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use', content_filter: 'refusal' } as const;

type Block = { type: string; text?: string; source?: { type: string; media_type?: string; data?: string; url?: string }; tool_use_id?: string; content?: unknown };
const blocksOf = (req: RecordedRequest): Block[] =>
  (Array.isArray(req.body?.messages) ? req.body.messages : []).flatMap((m: { content: unknown }) =>
    typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : (m.content as Block[]),
  );
const systemText = (req: RecordedRequest): string | undefined => {
  const s = req.body?.system;
  if (s === undefined) return undefined;
  return typeof s === 'string' ? s : (s as Block[]).map((b) => b.text).join('\n');
};

let suiteFake: FakeAnthropic;
const fixture: ProviderFixture = {
  id: 'anthropic',
  model: MODEL,
  supportsReasoning: true,
  providerConfig: () => ({ type: 'anthropic', endpoint: suiteFake.endpoint, api_key: KEY, models: [{ name: MODEL, capabilities: ['chat', 'vision', 'tools'] }] }),
  start: async () => {
    suiteFake = await startFakeAnthropic({ apiKey: KEY });
  },
  stop: () => suiteFake.close(),
  reply: (r) =>
    suiteFake.enqueue({
      type: 'reply',
      text: r.text ?? '',
      reasoning: r.reasoning,
      toolCalls: r.toolCalls,
      stopReason: r.finish ? STOP_REASON[r.finish] : undefined,
      usage: r.usage ? { input_tokens: r.usage.input, output_tokens: r.usage.output } : undefined,
    }),
  fail: (f, opts) => {
    switch (f) {
      case 'rate_limit':
        return suiteFake.enqueue({
          type: 'error',
          status: 429,
          errType: 'rate_limit_error',
          message: 'This request would exceed the rate limit for your organization of 50 input tokens per minute.',
          headers: opts?.retryAfterSeconds ? { 'retry-after': String(opts.retryAfterSeconds) } : {},
        });
      case 'server':
        return suiteFake.enqueue({ type: 'error', status: 529, errType: 'overloaded_error', message: 'Overloaded' });
      case 'bad_key':
        return suiteFake.enqueue({ type: 'error', status: 401, errType: 'authentication_error', message: 'invalid x-api-key' });
      case 'unknown_model':
        return suiteFake.enqueue({ type: 'error', status: 404, errType: 'not_found_error', message: 'model: no-such-model' });
    }
  },
  stallAfterFirstChunk: () => suiteFake.enqueue({ type: 'stall' }),
  chatRequests: () => suiteFake.chatRequests(),
  clientAborts: () => suiteFake.clientAborts,
  nextAbort: () => suiteFake.nextAbort(),
  systemPromptOf: systemText,
  imagesOf: (req) =>
    blocksOf(req)
      .filter((b) => b.type === 'image')
      .map((b) => (b.source!.type === 'url' ? { url: b.source!.url } : { mediaType: b.source!.media_type, base64: b.source!.data })),
  toolResultsOf: (req) =>
    blocksOf(req)
      .filter((b) => b.type === 'tool_result')
      .map((b) => ({ callId: b.tool_use_id, content: typeof b.content === 'string' ? b.content : JSON.stringify(b.content) })),
  toolNamesOf: (req) => ((req.body?.tools ?? []) as Array<{ name: string }>).map((t) => t.name),
  jsonModeOf: (req) => /valid JSON/.test(systemText(req) ?? '') || req.body?.output_config?.format?.type === 'json_schema',
  samplingOf: (req) => ({ maxTokens: req.body?.max_tokens, temperature: req.body?.temperature, topP: req.body?.top_p, stop: req.body?.stop_sequences }),
};

runProviderSuite(fixture);

describe('Anthropic specifics', () => {
  const gw = useGateway({
    fake: () => startFakeAnthropic({ apiKey: KEY, models: [MODEL, 'claude-structured', 'claude-haiku-4-5'] }),
    config: (f) => ({
      providers: {
        anthropic: {
          type: 'anthropic',
          endpoint: f.endpoint,
          api_key: KEY,
          models: [
            { name: MODEL, capabilities: ['chat', 'vision', 'tools', 'documents'] },
            { name: 'claude-structured', max_tokens: 1234, structured_outputs: true },
          ],
        },
        // AISBF configs often write the endpoint with /v1; the SDK adds it itself.
        withv1: { type: 'anthropic', endpoint: `${f.endpoint}/v1`, api_key: KEY, models: [{ name: MODEL }] },
        slow: { type: 'anthropic', endpoint: f.endpoint, api_key: KEY, timeout_seconds: 0.3, models: [{ name: MODEL }] },
        wrongkey: { type: 'anthropic', endpoint: f.endpoint, api_key: 'sk-ant-wrong-key-987654321', models: [{ name: MODEL }] },
      },
    }),
    base: '/api/anthropic',
  });
  const last = () => gw.fake.chatRequests().at(-1)!;

  it('sends the key (x-api-key and Bearer) with an anthropic-version header to /v1/messages', async () => {
    gw.fake.enqueue({ type: 'reply', text: 'hi' });
    await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hello' }] });
    const req = last();
    expect(req.path).toBe('/v1/messages');
    expect(req.headers['x-api-key']).toBe(KEY);
    expect(req.headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(req.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it('accepts an endpoint that already ends in /v1', async () => {
    gw.fake.enqueue({ type: 'reply', text: 'via v1 endpoint' });
    const c = gw.sdk('/api/withv1');
    const r = await c.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hello' }] });
    expect(r.choices[0]!.message.content).toBe('via v1 endpoint');
    expect(last().path).toBe('/v1/messages');
  });

  it('moves system messages to `system`, merges consecutive same-role turns and puts tool results in one user turn', async () => {
    gw.fake.enqueue({ type: 'reply', text: 'merged' });
    await gw.client.chat.completions.create({
      model: MODEL,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'first' },
        { role: 'user', content: [{ type: 'text', text: 'second' }] },
        { role: 'assistant', content: 'Checking both.' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
            { id: 'toolu_2', type: 'function', function: { name: 'get_time', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: 'sunny' },
        { role: 'tool', tool_call_id: 'toolu_2', content: [{ type: 'text', text: '10:00' }] },
        { role: 'developer', content: 'Mention the city.' },
        { role: 'user', content: 'thanks' },
      ],
    });
    const body = last().body;
    expect(body.system).toBe('Be brief.\n\nMention the city.');
    expect(body.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(body.messages[0].content).toEqual([
      { type: 'text', text: 'first' },
      { type: 'text', text: 'second' },
    ]);
    expect(body.messages[1].content).toEqual([
      { type: 'text', text: 'Checking both.' },
      { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Oslo' } },
      { type: 'tool_use', id: 'toolu_2', name: 'get_time', input: {} },
    ]);
    expect(body.messages[2].content).toEqual([
      { type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' },
      { type: 'tool_result', tool_use_id: 'toolu_2', content: '10:00' },
      { type: 'text', text: 'thanks' },
    ]);
  });

  it('maps tool_choice auto/required/named/none and parallel_tool_calls', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const cases: Array<[OpenAI.ChatCompletionToolChoiceOption, boolean | undefined, unknown]> = [
      ['auto', undefined, { type: 'auto' }],
      ['required', undefined, { type: 'any' }],
      [{ type: 'function', function: { name: 'get_weather' } }, undefined, { type: 'tool', name: 'get_weather' }],
      ['none', undefined, { type: 'none' }],
      ['auto', false, { type: 'auto', disable_parallel_tool_use: true }],
      ['required', false, { type: 'any', disable_parallel_tool_use: true }],
    ];
    for (const [choice, parallel, expected] of cases) {
      gw.fake.enqueue({ type: 'reply', text: 'ok' });
      await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], tools, tool_choice: choice, ...(parallel === undefined ? {} : { parallel_tool_calls: parallel }) });
      expect(last().body.tool_choice).toEqual(expected);
      expect(last().body.tools).toEqual([{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }]);
    }
  });

  it('indexes streamed tool calls among tool calls, not by content block, when text comes first', async () => {
    gw.fake.enqueue({ type: 'reply', text: 'Let me look.', toolCalls: [{ id: 'toolu_a', name: 'get_weather', arguments: '{"city":"Rome"}' }] });
    const stream = await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'weather?' }], stream: true, tools: [{ type: 'function', function: { name: 'get_weather' } }] });
    let text = '';
    const indexes: number[] = [];
    let args = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      const c = chunk.choices[0];
      if (!c) continue;
      text += c.delta.content ?? '';
      for (const t of c.delta.tool_calls ?? []) {
        indexes.push(t.index);
        args += t.function?.arguments ?? '';
      }
      if (c.finish_reason) finish = c.finish_reason;
    }
    expect(text).toBe('Let me look.');
    expect(new Set(indexes)).toEqual(new Set([0]));
    expect(JSON.parse(args)).toEqual({ city: 'Rome' });
    expect(finish).toBe('tool_calls');
  });

  it('uses max_completion_tokens over max_tokens, then the model entry, then 4096', async () => {
    gw.fake.enqueue({ type: 'reply', text: 'a' }, { type: 'reply', text: 'b' }, { type: 'reply', text: 'c' });
    await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], max_tokens: 10, max_completion_tokens: 20 });
    expect(last().body.max_tokens).toBe(20);
    await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }] });
    expect(last().body.max_tokens).toBe(4096);
    await gw.client.chat.completions.create({ model: 'claude-structured', messages: [{ role: 'user', content: 'x' }] });
    expect(last().body.max_tokens).toBe(1234);
  });

  it('clamps temperature to Anthropic range and sends a single stop string as stop_sequences', async () => {
    gw.fake.enqueue({ type: 'reply', text: 'ok' });
    await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], temperature: 1.7, stop: 'STOP', user: 'user-42' });
    expect(last().body.temperature).toBe(1);
    expect(last().body.stop_sequences).toEqual(['STOP']);
    expect(last().body.metadata).toEqual({ user_id: 'user-42' });
  });

  it('asks for JSON matching a json_schema in the system prompt, and natively where the model supports structured outputs', async () => {
    const schema = { type: 'object', properties: { answer: { type: 'number' } }, required: ['answer'], additionalProperties: false };
    gw.fake.enqueue({ type: 'reply', text: '{"answer":4}' }, { type: 'reply', text: '{"answer":4}' });
    const rf = { type: 'json_schema' as const, json_schema: { name: 'math', schema } };
    const r = await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'system', content: 'Be exact.' }, { role: 'user', content: '2+2?' }], response_format: rf });
    expect(JSON.parse(r.choices[0]!.message.content!)).toEqual({ answer: 4 });
    const system = last().body.system as string;
    expect(system.startsWith('Be exact.\n\n')).toBe(true);
    expect(system).toContain(JSON.stringify(schema));
    expect(last().body.output_config).toBeUndefined();

    await gw.client.chat.completions.create({ model: 'claude-structured', messages: [{ role: 'user', content: '2+2?' }], response_format: rf });
    expect(last().body.output_config).toEqual({ format: { type: 'json_schema', schema } });
  });

  it('turns reasoning_effort into an extended-thinking budget and drops temperature, which thinking rejects', async () => {
    gw.fake.enqueue({ type: 'reply', reasoning: 'Hmm.', text: '42' });
    const r = await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'think' }], reasoning_effort: 'low', temperature: 0.2, max_completion_tokens: 8000 });
    expect(last().body.thinking).toEqual({ type: 'enabled', budget_tokens: 2048 });
    expect(last().body.temperature).toBeUndefined();
    expect(last().body.max_tokens).toBe(8000);
    expect((r.choices[0]!.message as unknown as { reasoning_content: string }).reasoning_content).toBe('Hmm.');
    expect(r.choices[0]!.message.content).toBe('42');

    // Without a client limit the budget comes on top of the default answer length.
    gw.fake.enqueue({ type: 'reply', reasoning: 'Hmm.', text: '42' });
    await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'think' }], reasoning_effort: 'high' });
    expect(last().body.thinking).toEqual({ type: 'enabled', budget_tokens: 16384 });
    expect(last().body.max_tokens).toBe(4096 + 16384);
  });

  it('counts cache writes and reads as prompt tokens', async () => {
    gw.fake.enqueue({ type: 'reply', text: 'cached', usage: { input_tokens: 10, output_tokens: 2, cache_creation_input_tokens: 100, cache_read_input_tokens: 1000 } });
    const r = await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }] });
    expect(r.usage).toMatchObject({ prompt_tokens: 1110, completion_tokens: 2, total_tokens: 1112, prompt_tokens_details: { cached_tokens: 1000 } });
  });

  it('maps refusal to content_filter and stop_sequence to stop', async () => {
    gw.fake.enqueue({ type: 'reply', text: 'I cannot', stopReason: 'refusal' }, { type: 'reply', text: 'until', stopReason: 'stop_sequence' });
    const a = await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }] });
    expect(a.choices[0]!.finish_reason).toBe('content_filter');
    const b = await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], stop: ['END'] });
    expect(b.choices[0]!.finish_reason).toBe('stop');
  });

  it('answers 503 when Anthropic is overloaded (529 overloaded_error), keeping its message', async () => {
    gw.fake.enqueue({ type: 'error', status: 529, errType: 'overloaded_error', message: 'Overloaded' });
    const err = (await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.status).toBe(503);
    expect((err.error as { message: string }).message).toContain('Overloaded');
  });

  it('reports an overloaded_error event that arrives mid-stream as an SSE error after the partial text', async () => {
    gw.fake.enqueue({ type: 'stream-error', errType: 'overloaded_error', message: 'Overloaded' });
    const stream = await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], stream: true });
    let text = '';
    const err = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((e: unknown) => e);
    expect(text).toBe('partial');
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as Error).message).toContain('Overloaded');
  });

  it('answers 503 before any byte when the overloaded_error event comes before the first chunk', async () => {
    gw.fake.enqueue({ type: 'stream-error', errType: 'overloaded_error', message: 'Overloaded', partial: false });
    const err = (await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], stream: true }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.status).toBe(503);
    expect((err.error as { message: string }).message).toContain('Overloaded');
  });

  it('answers 400 with the upstream message when the prompt is too long', async () => {
    gw.fake.enqueue({ type: 'error', status: 400, errType: 'invalid_request_error', message: 'prompt is too long: 212000 tokens > 200000 maximum' });
    const err = (await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err.error as { message: string }).message).toContain('prompt is too long');
  });

  it('answers 502 naming the provider when Anthropic rejects the configured key, without the key', async () => {
    const c = gw.sdk('/api/wrongkey');
    const err = (await c.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(502);
    expect(JSON.stringify(err.error)).toContain('wrongkey');
    expect(JSON.stringify(err.error)).not.toContain('sk-ant-wrong-key');
  });

  it('refuses an image type Anthropic cannot take with a 400 naming the field', async () => {
    const before = gw.fake.chatRequests().length;
    const err = (await gw.client.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/bmp;base64,Qk0=' } }] }] })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(400);
    expect((err.error as { message: string }).message).toContain('messages[0].content[0].image_url.url');
    expect(gw.fake.chatRequests().length).toBe(before);
  });

  it('ends a stream that stalls past timeout_seconds with an error frame, never a clean finish', async () => {
    // The SDK ends its event iteration quietly when the request is aborted; the adapter must not
    // mistake that for a complete answer.
    gw.fake.enqueue({ type: 'stall' });
    const aborted = gw.fake.nextAbort();
    const res = await fetch(`${gw.aisbf.url}/api/slow/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer client-key' },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'x' }], stream: true }),
    });
    const body = await res.text();
    expect(body).toContain('"content":"partial"');
    expect(body).toMatch(/"error":\{[^}]*did not answer in time/);
    expect(body).not.toContain('"finish_reason":"stop"');
    expect(body.endsWith('data: [DONE]\n\n')).toBe(true);
    await aborted;
  });

  it('sends a tool result that carries an image as tool_result blocks', async () => {
    gw.fake.enqueue({ type: 'reply', text: 'a tiny image' });
    await gw.client.chat.completions.create({
      model: MODEL,
      messages: [
        { role: 'user', content: 'screenshot please' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_s', type: 'function', function: { name: 'screenshot', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'toolu_s', content: [{ type: 'text', text: 'here' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] as never },
      ],
    });
    expect(last().body.messages[2].content).toEqual([
      {
        type: 'tool_result',
        tool_use_id: 'toolu_s',
        content: [
          { type: 'text', text: 'here' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
        ],
      },
    ]);
  });

  it('sends a PDF given as an OpenAI file part as a document block', async () => {
    gw.fake.enqueue({ type: 'reply', text: 'a one-page PDF' });
    // A real one-page PDF: aisbf counts a PDF's pages (and refuses corrupt ones) before any upstream call.
    const pdf = (await textPdf(['one page'])).toString('base64');
    await gw.client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: [{ type: 'file', file: { filename: 'a.pdf', file_data: `data:application/pdf;base64,${pdf}` } }, { type: 'text', text: 'Summarise' }] }],
    });
    expect(last().body.messages[0].content).toEqual([
      { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: pdf }, title: 'a.pdf' },
      { type: 'text', text: 'Summarise' },
    ]);
  });

  it('refuses n > 1, which the Messages API cannot give, with a 400 naming n', async () => {
    const err = (await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], n: 2 }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(400);
    expect((err.error as { param: string }).param).toBe('n');
  });

  it('lists models from the Models API in OpenAI shape', async () => {
    const list = await gw.client.models.list();
    const ids = list.data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining([MODEL, 'claude-structured', 'claude-haiku-4-5']));
    const m = list.data.find((x) => x.id === MODEL)! as OpenAI.Model & { context_size?: number };
    expect(m.object).toBe('model');
    expect(m.owned_by).toBe('anthropic');
    expect(typeof m.created).toBe('number');
    const modelsReq = gw.fake.requests.filter((r) => r.path === '/v1/models').at(-1)!;
    expect(modelsReq.headers['x-api-key']).toBe(KEY);
  });
});
