import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { startFakeOllama, type FakeOllama } from '../fakes/ollama-upstream.js';
import type { RecordedRequest } from '../fakes/fake-server.js';
import { startAisbf } from '../helpers/aisbf-server.js';
import { useGateway } from '../helpers/fixture.js';
import { makePng } from '../helpers/png.js';
import { sniffImageType } from '../../src/providers/fetch-image.js';
import { OllamaAdapter } from '../../src/providers/ollama/ollama-adapter.js';
import { ProviderError } from '../../src/providers/provider-error.js';
import { silentLogger } from '../../src/log.js';
import type { ProviderFixture } from './provider-fixture.js';
import { runProviderSuite } from './provider-suite.js';

const MODEL = 'llama3.2-vision:latest';
const KEY = 'ollama-proxy-key-5f2a9c';

function ollamaFixture(): ProviderFixture & { fake(): FakeOllama } {
  let fake: FakeOllama;
  const messages = (r: RecordedRequest): any[] => r.body?.messages ?? [];
  return {
    id: 'ollama-local',
    fake: () => fake,
    model: MODEL,
    supportsReasoning: true,
    providerConfig: () => ({
      type: 'ollama',
      endpoint: fake.origin,
      api_key_required: false,
      // Ollama itself is keyless; a key is sent as a Bearer token (ollama.com, or an auth proxy).
      api_key: KEY,
      models: [{ name: MODEL, context_size: 131072, capabilities: ['chat', 'vision', 'tools'] }],
    }),
    async start() {
      fake = await startFakeOllama({ models: [MODEL, 'llama3.2:latest', 'nomic-embed-text:latest'] });
    },
    stop: () => fake.close(),
    // Each scripted call replaces what an earlier (failed) test may have left unconsumed.
    reply(r) {
      fake.clearQueue();
      fake.enqueue({
        type: 'reply',
        text: r.text,
        thinking: r.reasoning,
        toolCalls: r.toolCalls?.map((t) => ({ id: t.id, name: t.name, arguments: JSON.parse(t.arguments) })),
        doneReason: r.finish === 'length' ? 'length' : 'stop',
        promptEvalCount: r.usage?.input,
        evalCount: r.usage?.output,
      });
    },
    fail(f, opts) {
      fake.clearQueue();
      const retry: Record<string, string> = opts?.retryAfterSeconds !== undefined ? { 'retry-after': String(opts.retryAfterSeconds) } : {};
      if (f === 'rate_limit') fake.enqueue({ type: 'error', status: 429, message: 'too many concurrent requests', headers: retry });
      else if (f === 'server') fake.enqueue({ type: 'error', status: 500, message: 'llama runner process has terminated: exit status 2' });
      else if (f === 'bad_key') fake.enqueue({ type: 'error', status: 401, message: 'unauthorized' });
      else fake.enqueue({ type: 'unknown_model' });
    },
    stallAfterFirstChunk: () => {
      fake.clearQueue();
      fake.enqueue({ type: 'stall' });
    },
    chatRequests: () => fake.chatRequests(),
    clientAborts: () => fake.clientAborts,
    nextAbort: () => fake.nextAbort(),
    systemPromptOf: (r) => {
      const sys = messages(r).filter((m) => m.role === 'system').map((m) => m.content);
      return sys.length ? sys.join('\n') : undefined;
    },
    imagesOf: (r) =>
      messages(r).flatMap((m) => (m.images ?? []) as string[]).map((base64) => ({ base64, mediaType: sniffImageType(Buffer.from(base64, 'base64')) })),
    toolResultsOf: (r) => messages(r).filter((m) => m.role === 'tool').map((m) => ({ callId: m.tool_call_id, name: m.tool_name, content: m.content })),
    toolNamesOf: (r) => (r.body?.tools ?? []).map((t: any) => t.function.name),
    jsonModeOf: (r) => r.body?.format === 'json' || (typeof r.body?.format === 'object' && r.body.format !== null),
    samplingOf: (r) => {
      const o = r.body?.options ?? {};
      return { maxTokens: o.num_predict, temperature: o.temperature, topP: o.top_p, stop: o.stop };
    },
  };
}

const fixture = ollamaFixture();
runProviderSuite(fixture);

describe('Ollama specifics', () => {
  const gw = useGateway({
    fake: () => startFakeOllama({ models: ['llama3.2:latest', 'qwen3:8b', 'nomic-embed-text:latest'] }),
    config: (f) => ({
      providers: {
        ollama: {
          type: 'ollama',
          endpoint: f.origin,
          api_key_required: false,
          models: [
            { name: 'llama3.2:latest', capabilities: ['chat', 'tools', 'vision'] },
            { name: 'qwen3:8b', options: { num_ctx: 8192, top_k: 40 } },
            { name: 'nomic-embed-text', capabilities: ['embeddings'] },
          ],
        },
      },
      aisbf: { images: { allow_private_addresses: true } },
    }),
    base: '/api/ollama',
  });
  const last = () => gw.fake.chatRequests().at(-1)!;

  it('calls the native /api/chat with structured messages, never a flattened prompt or /api/generate', async () => {
    await gw.client.chat.completions.create({
      model: 'llama3.2',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'answer' },
        { role: 'user', content: 'second' },
      ],
    });
    const req = last();
    expect(req.path).toBe('/api/chat');
    expect(gw.fake.requests.some((r) => r.path === '/api/generate')).toBe(false);
    expect(req.body.stream).toBe(false);
    expect(req.body.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'first' },
      { role: 'assistant', content: 'answer' },
      { role: 'user', content: 'second' },
    ]);
  });

  it('forwards each NDJSON line as it arrives (the upstream is still streaming when the client has the first text)', async () => {
    gw.fake.enqueue({ type: 'stall' });
    const aborted = gw.fake.nextAbort();
    const ac = new AbortController();
    const stream = await gw.client.chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'go' }], stream: true }, { signal: ac.signal });
    const it = stream[Symbol.asyncIterator]();
    let text = '';
    while (!text) text += (await it.next()).value?.choices[0]?.delta.content ?? '';
    expect(text).toBe('partial');
    expect(last().body.stream).toBe(true);
    ac.abort();
    await aborted;
  });

  it('sends tool-call arguments to Ollama as objects with the tool name on results, and returns them as JSON text', async () => {
    gw.fake.enqueue({ type: 'reply', toolCalls: [{ name: 'get_weather', arguments: { city: 'Oslo', days: 2 } }] });
    const r = await gw.client.chat.completions.create({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'Weather?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
    });
    const call = r.choices[0]!.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
    // An old Ollama sends no id: one is made, in Ollama's own format.
    expect(call.id).toMatch(/^call_[a-z0-9]{8}$/);
    expect(typeof call.function.arguments).toBe('string');
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Oslo', days: 2 });
    expect(r.choices[0]!.finish_reason).toBe('tool_calls');
    expect(r.choices[0]!.message.content).toBeNull();

    await gw.client.chat.completions.create({
      model: 'llama3.2',
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: call.id, content: 'sunny' },
      ],
    });
    const [, assistant, tool] = last().body.messages;
    expect(assistant.tool_calls).toEqual([{ id: call.id, function: { index: 0, name: 'get_weather', arguments: { city: 'Oslo', days: 2 } } }]);
    expect(tool).toEqual({ role: 'tool', content: 'sunny', tool_name: 'get_weather', tool_call_id: call.id });
  });

  it('rejects tool-call arguments that are not a JSON object with a 400 naming the field', async () => {
    const before = gw.fake.chatRequests().length;
    const err = (await gw.client.chat.completions
      .create({
        model: 'llama3.2',
        messages: [
          { role: 'user', content: 'x' },
          { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '[1,2]' } }] },
          { role: 'tool', tool_call_id: 'call_1', content: 'y' },
        ],
      })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(400);
    expect(JSON.stringify(err.error)).toContain('messages[1].tool_calls[0].function.arguments');
    expect(gw.fake.chatRequests().length).toBe(before);
  });

  it('maps tool_choice: "none" offers no tools, a named function offers only that one', async () => {
    const tools = [
      { type: 'function' as const, function: { name: 'a', parameters: { type: 'object', properties: {} } } },
      { type: 'function' as const, function: { name: 'b', parameters: { type: 'object', properties: {} } } },
    ];
    await gw.client.chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'x' }], tools, tool_choice: 'none' });
    expect(last().body.tools).toBeUndefined();
    await gw.client.chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'x' }], tools, tool_choice: { type: 'function', function: { name: 'b' } } });
    expect(last().body.tools.map((t: any) => t.function.name)).toEqual(['b']);
  });

  it('answers 404 with Ollama\'s own message for a model that is not pulled', async () => {
    const err = (await gw.client.chat.completions.create({ model: 'mistral', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err.error as { message: string }).message).toContain("model 'mistral' not found");
  });

  it('reads a proxy\'s non-JSON error page into a readable message', async () => {
    gw.fake.enqueue({ type: 'error_page', status: 502, html: '<html><head><title>502</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>' });
    const err = (await gw.client.chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(502);
    expect((err.error as { message: string }).message).toContain('502 Bad Gateway nginx');
  });

  it('turns an error line in the middle of the NDJSON stream into an SSE error frame, then [DONE]', async () => {
    gw.fake.enqueue({ type: 'mid_stream_error', afterLines: 2, message: 'an error was encountered while running the model' });
    const res = await fetch(`${gw.aisbf.url}/api/ollama/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'x' }], stream: true }),
    });
    const body = await res.text();
    expect(body).toContain('"content":"part0 "');
    expect(body).toContain('an error was encountered while running the model');
    expect(body.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('maps response_format json_schema to format: <schema>, and reasoning_effort to think', async () => {
    const schema = { type: 'object', properties: { age: { type: 'integer' } }, required: ['age'] };
    await gw.client.chat.completions.create({
      model: 'qwen3:8b',
      messages: [{ role: 'user', content: 'x' }],
      response_format: { type: 'json_schema', json_schema: { name: 'person', schema } },
      reasoning_effort: 'low',
      seed: 7,
      max_completion_tokens: 20,
    });
    expect(last().body.format).toEqual(schema);
    expect(last().body.think).toBe('low');
    expect(last().body.options).toMatchObject({ num_predict: 20, seed: 7 });
  });

  it('merges Ollama options: the model\'s from providers.json, then the client\'s own `options`, then the OpenAI settings', async () => {
    const params = { model: 'qwen3:8b', messages: [{ role: 'user', content: 'x' }], temperature: 0.2, options: { top_k: 10, temperature: 0.9, mirostat: 1 } };
    await gw.client.chat.completions.create(params as OpenAI.ChatCompletionCreateParamsNonStreaming);
    expect(last().body.options).toEqual({ num_ctx: 8192, top_k: 10, mirostat: 1, temperature: 0.2 });
    await gw.client.chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'x' }] });
    expect(last().body.options).toBeUndefined();
  });

  it('never reads a local file named by a data: URL payload (the SDK would for an existing path)', async () => {
    const png = makePng(2, 2, [255, 0, 0]).toString('base64');
    await gw.client.chat.completions.create({
      model: 'llama3.2',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,//etc/passwd' } },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } },
          ],
        },
      ],
    });
    const user = last().body.messages[0];
    expect(user.content).toBe('what?');
    expect(user.images).toEqual(['//etc/passwd', png]);
  });

  it('serves /embeddings from /api/embed (the openai SDK asks for base64 and decodes it)', async () => {
    const r = await gw.client.embeddings.create({ model: 'nomic-embed-text', input: ['hello world', 'bye'] });
    const sent = gw.fake.requests.filter((q) => q.path === '/api/embed').at(-1)!;
    expect(sent.body).toEqual({ model: 'nomic-embed-text', input: ['hello world', 'bye'] });
    expect(r.data.map((d) => d.index)).toEqual([0, 1]);
    // The fake's vectors: ((len(text) + i + d) % 10) / 10 for d in 0..3.
    expect(r.data[0]!.embedding.map((x) => Math.round(x * 1000) / 1000)).toEqual([0.1, 0.2, 0.3, 0.4]);
    expect(r.data[1]!.embedding.map((x) => Math.round(x * 1000) / 1000)).toEqual([0.4, 0.5, 0.6, 0.7]);
    expect(r.usage.prompt_tokens).toBe(3);
  });

  it('lists models from /api/tags', async () => {
    const { data, response } = await gw.client.models.list().withResponse();
    expect(response.headers.get('x-aisbf-models-source')).toBe('upstream');
    expect(data.data.map((m) => m.id)).toEqual(expect.arrayContaining(['llama3.2:latest', 'qwen3:8b', 'nomic-embed-text:latest']));
    expect(gw.fake.requests.some((r) => r.path === '/api/tags')).toBe(true);
  });

  it('answers 502 when nothing listens at the endpoint (connection refused)', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const down = await startAisbf({ providers: { ollama: { type: 'ollama', endpoint: `http://127.0.0.1:${port}`, api_key_required: false, models: [] } } });
    try {
      const c = new OpenAI({ baseURL: `${down.url}/api/ollama`, apiKey: 'k', maxRetries: 0 });
      const err = (await c.chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(err.status).toBe(502);
      expect((err.error as { message: string }).message).toMatch(/Ollama connection failed: .*ECONNREFUSED/);
    } finally {
      await down.close();
    }
  });
});

describe('the Ollama adapter called directly (embed, image fetching)', () => {
  let fake: FakeOllama;
  let adapter: OllamaAdapter;
  let images: HttpServer;
  let imageUrl: string;
  const PNG = makePng(3, 3, [0, 255, 0]);
  const ctx = (model: string) => ({ model, apiKey: undefined, signal: new AbortController().signal, timeoutMs: 5000, log: silentLogger });

  beforeAll(async () => {
    fake = await startFakeOllama({ models: ['nomic-embed-text:latest', 'llava:latest'] });
    adapter = new OllamaAdapter('ollama', { endpoint: fake.origin });
    images = createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(PNG);
    });
    await new Promise<void>((r) => images.listen(0, '127.0.0.1', r));
    imageUrl = `http://127.0.0.1:${(images.address() as { port: number }).port}/x.png`;
  });
  afterAll(async () => {
    await fake.close();
    await new Promise<void>((r) => images.close(() => r()));
  });

  const withImage = { model: 'llava', messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'see' }, { type: 'image_url' as const, image_url: { url: '' } }] }] };

  it('fetches an http(s) image URL and sends its bytes as base64 when the image policy allows the address', async () => {
    withImage.messages[0]!.content[1] = { type: 'image_url', image_url: { url: imageUrl } };
    await adapter.chat(withImage, { ...ctx('llava'), imagePolicy: { allowPrivate: true } });
    expect(fake.chatRequests().at(-1)!.body.messages[0].images).toEqual([PNG.toString('base64')]);
  });

  it('refuses a loopback image URL by default, before calling Ollama', async () => {
    const before = fake.chatRequests().length;
    withImage.messages[0]!.content[1] = { type: 'image_url', image_url: { url: imageUrl } };
    const err = await adapter.chat(withImage, ctx('llava')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).kind).toBe('bad_request');
    expect(fake.chatRequests().length).toBe(before);
  });

  it('calls /api/embed and answers in OpenAI embedding-list shape', async () => {
    const r = await adapter.embed({ model: 'ollama/nomic-embed-text', input: ['hello world', 'bye'], dimensions: 3 }, ctx('nomic-embed-text'));
    expect(fake.embedRequests().at(-1)!.body).toEqual({ model: 'nomic-embed-text', input: ['hello world', 'bye'], dimensions: 3 });
    expect(r.object).toBe('list');
    expect(r.data.map((d) => [d.object, d.index])).toEqual([
      ['embedding', 0],
      ['embedding', 1],
    ]);
    expect(r.data[0]!.embedding).toHaveLength(3);
    expect(r.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
  });

  it('encodes base64 as little-endian float32, as OpenAI does', async () => {
    const floats = await adapter.embed({ model: 'e', input: 'abc' }, ctx('nomic-embed-text'));
    const b64 = await adapter.embed({ model: 'e', input: 'abc', encoding_format: 'base64' }, ctx('nomic-embed-text'));
    const bytes = Buffer.from(b64.data[0]!.embedding as string, 'base64');
    const decoded = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4));
    expect(decoded.map((x) => Math.round(x * 1000) / 1000)).toEqual(floats.data[0]!.embedding);
  });

  it('refuses token-id input with a bad_request naming input, and maps an unknown model to not_found', async () => {
    const bad = await adapter.embed({ model: 'e', input: [1, 2, 3] }, ctx('nomic-embed-text')).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ProviderError);
    expect((bad as ProviderError).kind).toBe('bad_request');
    expect((bad as ProviderError).param).toBe('input');
    const missing = await adapter.embed({ model: 'e', input: 'x' }, ctx('all-minilm')).catch((e: unknown) => e);
    expect((missing as ProviderError).kind).toBe('not_found');
    expect((missing as ProviderError).message).toBe("model 'all-minilm' not found");
  });
});
