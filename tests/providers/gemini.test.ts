/**
 * The shared client suite against the Gemini provider type (`"type": "google"`), plus what only
 * Gemini's wire format can show: functionResponse names from tool_call_id, schema keyword stripping,
 * tool_choice modes, RetryInfo → Retry-After, API_KEY_INVALID → auth, SAFETY → content_filter,
 * thought signatures, and models.list paging.
 */
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { startFakeGemini, rateLimitError, type FakeGemini } from '../fakes/gemini-upstream.js';
import type { RecordedRequest } from '../fakes/fake-server.js';
import { useGateway } from '../helpers/fixture.js';
import type { ProviderFixture } from './provider-fixture.js';
import { runProviderSuite } from './provider-suite.js';

const KEY = 'AIzaSyFakeSuiteKey_0123456789abcdef';
const MODEL = 'gemini-2.5-flash';

type Part = { text?: string; thought?: boolean; inlineData?: { mimeType: string; data: string }; fileData?: { mimeType?: string; fileUri: string }; functionCall?: any; functionResponse?: any; thoughtSignature?: string };
type Content = { role?: string; parts: Part[] };
const contents = (req: RecordedRequest): Content[] => (Array.isArray(req.body?.contents) ? req.body.contents : []);
const allParts = (req: RecordedRequest): Part[] => contents(req).flatMap((c) => c.parts ?? []);
const functionResponses = (req: RecordedRequest) => allParts(req).filter((p) => p.functionResponse).map((p) => p.functionResponse);

let suiteFake: FakeGemini;

const fixture: ProviderFixture = {
  id: 'gemini',
  model: MODEL,
  supportsReasoning: true,
  providerConfig: () => ({ type: 'google', endpoint: suiteFake.endpoint, api_key: KEY, models: [{ name: MODEL, capabilities: ['chat', 'vision', 'tools'] }] }),
  start: async () => {
    suiteFake = await startFakeGemini({ apiKey: KEY });
  },
  stop: () => suiteFake.close(),
  reply: (r) =>
    suiteFake.enqueue({
      type: 'reply',
      text: r.text ?? '',
      reasoning: r.reasoning,
      toolCalls: r.toolCalls,
      finishReason: r.finish === 'length' ? 'MAX_TOKENS' : r.finish === 'content_filter' ? 'SAFETY' : 'STOP',
      usage: r.usage ? { prompt: r.usage.input, candidates: r.usage.output } : undefined,
    }),
  fail: (f, opts) => {
    switch (f) {
      case 'rate_limit':
        return suiteFake.enqueue(rateLimitError(MODEL, opts?.retryAfterSeconds));
      case 'server':
        return suiteFake.enqueue({ type: 'error', status: 503, statusName: 'UNAVAILABLE', message: 'The model is overloaded. Please try again later.' });
      case 'bad_key':
        return suiteFake.enqueue({
          type: 'error',
          status: 400,
          statusName: 'INVALID_ARGUMENT',
          message: 'API key not valid. Please pass a valid API key.',
          details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } }],
        });
      case 'unknown_model':
        return suiteFake.enqueue({ type: 'not-found' });
    }
  },
  stallAfterFirstChunk: () => suiteFake.enqueue({ type: 'stall' }),
  chatRequests: () => suiteFake.chatRequests(),
  clientAborts: () => suiteFake.clientAborts,
  nextAbort: () => suiteFake.nextAbort(),
  systemPromptOf: (req) => {
    const parts: Part[] = req.body?.systemInstruction?.parts ?? [];
    return parts.map((p) => p.text ?? '').join('\n') || undefined;
  },
  imagesOf: (req) =>
    allParts(req)
      .filter((p) => p.inlineData || p.fileData)
      .map((p) => (p.inlineData ? { mediaType: p.inlineData.mimeType, base64: p.inlineData.data } : { mediaType: p.fileData!.mimeType, url: p.fileData!.fileUri })),
  toolResultsOf: (req) => functionResponses(req).map((r) => ({ callId: r.id, name: r.name, content: JSON.stringify(r.response) })),
  toolNamesOf: (req) => ((req.body?.tools ?? []) as Array<{ functionDeclarations?: Array<{ name: string }> }>).flatMap((t) => (t.functionDeclarations ?? []).map((d) => d.name)),
  jsonModeOf: (req) => req.body?.generationConfig?.responseMimeType === 'application/json',
  samplingOf: (req) => {
    const g = req.body?.generationConfig ?? {};
    return { maxTokens: g.maxOutputTokens, temperature: g.temperature, topP: g.topP, stop: g.stopSequences };
  },
};

runProviderSuite(fixture);

describe('the Gemini provider type in detail', () => {
  const gw = useGateway({
    fake: async () => ({ main: await startFakeGemini({ apiKey: KEY }), paged: await startFakeGemini({ apiKey: KEY, pageSize: 2 }) }),
    config: (f) => ({
      providers: {
        gemini: {
          type: 'google',
          endpoint: f.main.endpoint,
          api_key: KEY,
          models: [{ name: MODEL }, { name: 'gemini-3-pro-preview' }, { name: 'text-embedding-004', capabilities: ['embeddings'] }],
        },
        badkey: { type: 'google', endpoint: f.main.endpoint, api_key: 'AIzaSyWrongKey_should_never_leak_999', models: [{ name: MODEL }] },
        paged: { type: 'google', endpoint: f.paged.endpoint, api_key: KEY, models: [] },
      },
    }),
    base: '/api/gemini',
  });

  const last = () => gw.fake.main.chatRequests().at(-1)!;

  it('calls /v1beta/models/{model}:generateContent and :streamGenerateContent?alt=sse with x-goog-api-key', async () => {
    await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] });
    expect(last().path).toBe(`/v1beta/models/${MODEL}:generateContent`);
    expect(last().headers['x-goog-api-key']).toBe(KEY);
    const stream = await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], stream: true });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    expect(text).toBe('echo: hi');
    expect(last().path).toBe(`/v1beta/models/${MODEL}:streamGenerateContent`);
    expect(last().query.get('alt')).toBe('sse');
  });

  it('names each functionResponse after the call its tool_call_id answers, and merges consecutive turns', async () => {
    gw.fake.main.enqueue({ type: 'reply', text: 'Sunny and noon.' });
    const r = await gw.client.chat.completions.create({
      model: MODEL,
      messages: [
        { role: 'user', content: 'Weather and time in Rome?' },
        { role: 'user', content: 'Please be quick.' },
        {
          role: 'assistant',
          content: 'Checking.',
          tool_calls: [
            { id: 'call_w', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
            { id: 'call_t', type: 'function', function: { name: 'get_time', arguments: '{"city":"Rome"}' } },
          ],
        },
        // Answered out of order, one result plain text.
        { role: 'tool', tool_call_id: 'call_t', content: '12:00' },
        { role: 'tool', tool_call_id: 'call_w', content: '{"sky":"clear"}' },
      ],
    });
    expect(r.choices[0]!.message.content).toBe('Sunny and noon.');
    const sent = contents(last());
    expect(sent.map((c) => c.role)).toEqual(['user', 'model', 'user']);
    expect(sent[0]!.parts.map((p) => p.text)).toEqual(['Weather and time in Rome?', 'Please be quick.']);
    expect(sent[1]!.parts[0]).toEqual({ text: 'Checking.' });
    expect(sent[1]!.parts.slice(1).map((p) => p.functionCall)).toEqual([
      { name: 'get_weather', args: { city: 'Rome' } },
      { name: 'get_time', args: { city: 'Rome' } },
    ]);
    expect(sent[2]!.parts.map((p) => p.functionResponse)).toEqual([
      { name: 'get_time', response: { result: '12:00' } },
      { name: 'get_weather', response: { sky: 'clear' } },
    ]);
  });

  it('answers 400 naming the message when a tool result answers no earlier call', async () => {
    const err = (await gw.client.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: 'x' }, { role: 'tool', tool_call_id: 'call_nowhere', content: 'r' }] })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(400);
    expect((err.error as { message: string }).message).toContain('call_nowhere');
    expect((err.error as { param: string }).param).toBe('messages[1].tool_call_id');
  });

  it('strips the JSON-schema keywords Gemini rejects from tool parameters', async () => {
    gw.fake.main.enqueue({ type: 'reply', text: 'ok' });
    await gw.client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'search' }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'search',
            parameters: {
              $schema: 'http://json-schema.org/draft-07/schema#',
              type: 'object',
              additionalProperties: false,
              properties: {
                query: { type: 'string', minLength: 1, format: 'uri' },
                when: { type: 'string', format: 'date-time' },
                limit: { type: ['integer', 'null'], exclusiveMinimum: 0, default: 10 },
                mode: { const: 'fast' },
                level: { type: 'integer', enum: [1, 2, 3] },
                filter: { $ref: '#/$defs/Filter' },
                tags: { type: 'array', items: { type: 'object', additionalProperties: { type: 'string' }, properties: { k: { type: 'string' } } } },
                either: { oneOf: [{ type: 'string' }, { type: 'number' }] },
              },
              required: ['query', 'ghost'],
              $defs: { Filter: { type: 'object', additionalProperties: false, properties: { lang: { type: 'string', pattern: '^[a-z]{2}$' } }, required: ['lang'] } },
            },
          },
        },
        { type: 'function', function: { name: 'ping', description: 'No arguments', parameters: { type: 'object', properties: {}, additionalProperties: false } } },
      ],
    });
    const decls = last().body.tools[0].functionDeclarations;
    expect(decls[1]).toEqual({ name: 'ping', description: 'No arguments' });
    expect(decls[0].parameters).toEqual({
      type: 'OBJECT',
      properties: {
        query: { type: 'STRING', minLength: 1 },
        when: { type: 'STRING', format: 'date-time' },
        limit: { type: 'INTEGER', nullable: true, default: 10 },
        mode: { type: 'STRING', enum: ['fast'] },
        level: { type: 'INTEGER', description: 'Allowed values: 1, 2, 3' },
        filter: { type: 'OBJECT', properties: { lang: { type: 'STRING', pattern: '^[a-z]{2}$' } }, required: ['lang'] },
        tags: { type: 'ARRAY', items: { type: 'OBJECT', properties: { k: { type: 'STRING' } } } },
        either: { anyOf: [{ type: 'STRING' }, { type: 'NUMBER' }] },
      },
      required: ['query'],
    });
  });

  it('maps tool_choice to functionCallingConfig modes', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const modes: Array<[OpenAI.ChatCompletionToolChoiceOption, unknown]> = [
      ['auto', { mode: 'AUTO' }],
      ['none', { mode: 'NONE' }],
      ['required', { mode: 'ANY' }],
      [{ type: 'function', function: { name: 'get_weather' } }, { mode: 'ANY', allowedFunctionNames: ['get_weather'] }],
    ];
    for (const [choice, expected] of modes) {
      gw.fake.main.enqueue({ type: 'reply', text: 'ok' });
      await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'w' }], tools, tool_choice: choice });
      expect(last().body.toolConfig.functionCallingConfig).toEqual(expected);
    }
  });

  it('turns RESOURCE_EXHAUSTED with a RetryInfo retryDelay into 429 with Retry-After, streamed too', async () => {
    gw.fake.main.enqueue(rateLimitError(MODEL, 12));
    const err = (await gw.client.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], stream: true })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.headers?.get('retry-after')).toBe('12');
    expect((err.error as { message: string }).message).toContain('exceeded your current quota');
  });

  it('treats 400 API_KEY_INVALID as a rejected key: 502 naming the provider, never the key', async () => {
    const bad = gw.sdk('/api/badkey');
    const err = (await bad.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(502);
    const body = JSON.stringify(err.error);
    expect(body).toContain("provider 'badkey'");
    expect(body).toContain('rejected the configured API key');
    expect(body).not.toContain('AIzaSyWrongKey_should_never_leak_999');
    // It really was the fake's own key check that refused it.
    expect(gw.fake.main.requests.at(-1)!.headers['x-goog-api-key']).toBe('AIzaSyWrongKey_should_never_leak_999');
  });

  it('maps SAFETY and a blocked prompt to finish_reason content_filter', async () => {
    gw.fake.main.enqueue({ type: 'reply', text: '', finishReason: 'SAFETY' });
    const r = await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'bad' }] });
    expect(r.choices[0]!.finish_reason).toBe('content_filter');

    gw.fake.main.enqueue({ type: 'reply', text: 'Partial answer', finishReason: 'SAFETY' });
    const stream = await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'bad' }], stream: true });
    let finish: string | null = null;
    for await (const c of stream) finish = c.choices[0]?.finish_reason ?? finish;
    expect(finish).toBe('content_filter');

    gw.fake.main.enqueue({ type: 'reply', blockReason: 'PROHIBITED_CONTENT' });
    const blocked = await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'worse' }] });
    expect(blocked.choices[0]!.finish_reason).toBe('content_filter');
    expect(blocked.choices[0]!.message.content).toBe('');

    gw.fake.main.enqueue({ type: 'reply', blockReason: 'SAFETY' });
    const blockedStream = await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'worse' }], stream: true });
    finish = null;
    for await (const c of blockedStream) finish = c.choices[0]?.finish_reason ?? finish;
    expect(finish).toBe('content_filter');
  });

  it('ends a stream that fails after its first part with an SSE error frame naming the provider', async () => {
    gw.fake.main.enqueue({ type: 'stream-error', status: 500, statusName: 'INTERNAL', message: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting' });
    const stream = await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'go' }], stream: true });
    let text = '';
    const err = await (async () => {
      for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    })().catch((e: unknown) => e);
    expect(text).toBe('partial');
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as Error).message).toContain("provider 'gemini'");
  });

  it('maps a token-count-exceeded 400 to context_length_exceeded', async () => {
    gw.fake.main.enqueue({ type: 'error', status: 400, statusName: 'INVALID_ARGUMENT', message: 'The input token count (1200293) exceeds the maximum number of tokens allowed (1048576).' });
    const err = (await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'long' }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(400);
    expect((err.error as { code: string }).code).toBe('context_length_exceeded');
    expect((err.error as { message: string }).message).toContain('exceeds the maximum number of tokens');
  });

  it("keeps Gemini's functionCall id and thoughtSignature, and replays the signature (Gemini 3)", async () => {
    const model = 'gemini-3-pro-preview';
    gw.fake.main.enqueue({ type: 'reply', toolCalls: [{ id: 'fc_gem_1', name: 'get_weather', arguments: '{"city":"Oslo"}' }], withIds: true, signature: 'c2lnbmF0dXJlLTE=' });
    const first = await gw.client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Oslo?' }], tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }] });
    const call = first.choices[0]!.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall & { extra_content?: { google?: { thought_signature?: string } } };
    expect(first.choices[0]!.finish_reason).toBe('tool_calls');
    expect(call.id).toBe('fc_gem_1');
    expect(call.extra_content?.google?.thought_signature).toBe('c2lnbmF0dXJlLTE=');

    // Echoed back unchanged: the real signature goes upstream.
    gw.fake.main.enqueue({ type: 'reply', text: 'Cold.' });
    await gw.client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Oslo?' }, { role: 'assistant', content: null, tool_calls: [call] }, { role: 'tool', tool_call_id: call.id, content: '{"t":-3}' }],
    });
    expect(contents(last())[1]!.parts[0]!.thoughtSignature).toBe('c2lnbmF0dXJlLTE=');

    // Rebuilt by a client that dropped it: the documented sentinel keeps Gemini 3 from refusing.
    gw.fake.main.enqueue({ type: 'reply', text: 'Still cold.' });
    const r = await gw.client.chat.completions.create({
      model,
      messages: [
        { role: 'user', content: 'Oslo?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_x', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
        { role: 'tool', tool_call_id: 'call_x', content: '{"t":-3}' },
      ],
    });
    expect(r.choices[0]!.message.content).toBe('Still cold.');
    expect(contents(last())[1]!.parts[0]!.thoughtSignature).toBe('skip_thought_signature_validator');
  });

  it('asks for JSON Schema output with responseJsonSchema for json_schema', async () => {
    gw.fake.main.enqueue({ type: 'reply', text: '{"n":1}' });
    const schema = { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'], additionalProperties: false };
    await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'n' }], response_format: { type: 'json_schema', json_schema: { name: 'n', schema, strict: true } } });
    expect(last().body.generationConfig).toMatchObject({ responseMimeType: 'application/json', responseJsonSchema: schema });
  });

  it('passes seed, max_completion_tokens and reasoning_effort as seed, maxOutputTokens and thinkingConfig', async () => {
    gw.fake.main.enqueue({ type: 'reply', text: 'ok' });
    await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 's' }], seed: 42, max_completion_tokens: 77, reasoning_effort: 'low' });
    expect(last().body.generationConfig).toMatchObject({ seed: 42, maxOutputTokens: 77, thinkingConfig: { thinkingBudget: 1024, includeThoughts: true } });
  });

  it('reports usage with thoughts counted as completion tokens', async () => {
    gw.fake.main.enqueue({ type: 'reply', text: 'x', reasoning: 'hmm', usage: { prompt: 10, candidates: 2, thoughts: 30 } });
    const r = await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'u' }] });
    expect(r.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 32, total_tokens: 42, completion_tokens_details: { reasoning_tokens: 30 } });
  });

  it('lists models from models.list across pages, without the models/ prefix', async () => {
    const paged = gw.sdk('/api/paged');
    const list = await paged.models.list();
    const ids = list.data.map((m) => m.id);
    expect(ids).toEqual(gw.fake.paged.models.map((m) => m.name));
    expect(list.data[0]).toMatchObject({ object: 'model', owned_by: 'google' });
    const listCalls = gw.fake.paged.requests.filter((r) => r.path === '/v1beta/models');
    expect(listCalls.length).toBe(Math.ceil(gw.fake.paged.models.length / 2));
    expect(listCalls[1]!.query.get('pageToken')).toBeTruthy();
  });

  it('answers embeddings from batchEmbedContents, in floats and in base64', async () => {
    const floats = await gw.client.embeddings.create({ model: 'text-embedding-004', input: ['alpha', 'beta gamma'], dimensions: 4, encoding_format: 'float' });
    expect(floats.data.map((d) => d.index)).toEqual([0, 1]);
    expect(floats.data[0]!.embedding).toHaveLength(4);
    expect(floats.usage.prompt_tokens).toBeGreaterThan(0);
    const sent = gw.fake.main.requests.at(-1)!;
    expect(sent.path).toBe('/v1beta/models/text-embedding-004:batchEmbedContents');
    expect(sent.body.requests).toEqual([
      { content: { parts: [{ text: 'alpha' }], role: 'user' }, model: 'models/text-embedding-004', outputDimensionality: 4 },
      { content: { parts: [{ text: 'beta gamma' }], role: 'user' }, model: 'models/text-embedding-004', outputDimensionality: 4 },
    ]);
    // The openai SDK asks for base64 by default and decodes it: the same numbers must come back.
    const decoded = await gw.client.embeddings.create({ model: 'text-embedding-004', input: ['alpha', 'beta gamma'], dimensions: 4 });
    expect(decoded.data[1]!.embedding.map((v) => Number(v.toFixed(5)))).toEqual(floats.data[1]!.embedding.map((v) => Number(v.toFixed(5))));
  });

  it('refuses a model name that cannot be a Gemini model without calling upstream', async () => {
    const before = gw.fake.main.chatRequests().length;
    const err = (await gw.client.chat.completions.create({ model: 'gemini..evil', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(404);
    expect(gw.fake.main.chatRequests().length).toBe(before);
  });
});
