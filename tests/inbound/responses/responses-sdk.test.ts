/**
 * The Responses API through aisbf, driven by the official `openai` SDK's `responses` methods: translated
 * onto the OpenAI chat, Anthropic, Gemini and Ollama provider types (JSON and streams, tool round
 * trips), stored responses (previous_response_id, GET, input_items, DELETE, 404s), pass-through to an
 * OpenAI-type provider with `responses_api`, and bad input in OpenAI's envelope.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeServer, sendJson, type FakeServer } from '../../fakes/fake-server.js';
import { startAisbf, type TestServer } from '../../helpers/aisbf-server.js';
import { anthropicUpstream, geminiUpstream, ollamaUpstream, openaiUpstream, type Upstream } from '../upstreams.js';

const openai = openaiUpstream();
const ups: Upstream[] = [openai, anthropicUpstream(), geminiUpstream(), ollamaUpstream()];
let native: FakeServer;
let server: TestServer;
let client: OpenAI;

const weatherTool = { type: 'function' as const, name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false }, strict: true };

/** A minimal upstream that speaks the Responses API itself (for pass-through). */
async function startNativeResponses(): Promise<FakeServer> {
  return startFakeServer(async (req, res) => {
    if (req.method !== 'POST' || req.path !== '/v1/responses') return sendJson(res, 404, { error: { message: 'no', type: 'invalid_request_error', param: null, code: null } });
    const response = { id: 'resp_native1', object: 'response', created_at: 1, status: 'completed', model: req.body.model, output: [{ id: 'msg_n1', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'native answer', annotations: [] }] }], usage: { input_tokens: 3, output_tokens: 2, total_tokens: 5, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } } };
    if (!req.body.stream) return sendJson(res, 200, response);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(`event: response.created\ndata: ${JSON.stringify({ type: 'response.created', sequence_number: 0, response: { ...response, status: 'in_progress', output: [] } })}\n\n`);
    res.end(`event: response.completed\ndata: ${JSON.stringify({ type: 'response.completed', sequence_number: 1, response })}\n\n`);
  });
}

beforeAll(async () => {
  for (const u of ups) await u.start();
  native = await startNativeResponses();
  server = await startAisbf({
    providers: {
      ...Object.fromEntries(ups.map((u) => [u.id, u.providerConfig()])),
      native: { type: 'openai', endpoint: `${native.origin}/v1`, api_key: 'sk-native', responses_api: true, models: [{ name: 'gpt-5' }] },
    },
    aisbf: { model_aliases: { 'gpt-5-codex*': 'oai/gpt-4o-mini' } },
  });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-dummy', maxRetries: 0 });
});

afterAll(async () => {
  await server?.close();
  await native?.close();
  for (const u of ups) await u.stop();
});

describe.each(ups.map((u) => [u.type, u] as const))('Responses onto the %s provider type', (_type, up) => {
  const model = `${up.id}/${up.model}`;

  it('answers JSON with instructions, output_text and usage', async () => {
    up.reply({ text: 'Hello from upstream' });
    const r = await client.responses.create({ model, instructions: 'Be terse.', input: 'Say hello', store: false });
    expect(r.object).toBe('response');
    expect(r.status).toBe('completed');
    expect(r.output_text).toBe('Hello from upstream');
    expect(r.usage!.input_tokens).toBeGreaterThan(0);
    expect(JSON.stringify(up.requests().at(-1)!.body)).toContain('Be terse.');
  });

  it('streams a function call, then completes the round trip with function_call_output', async () => {
    up.reply({ toolCalls: [{ id: 'call_w1', name: 'get_weather', arguments: '{"city":"Paris"}' }] });
    const stream = await client.responses.create({ model, input: 'Weather in Paris?', tools: [weatherTool], stream: true, store: false });
    const types: string[] = [];
    let completed: OpenAI.Responses.Response | undefined;
    for await (const e of stream) {
      types.push(e.type);
      if (e.type === 'response.completed') completed = e.response;
    }
    expect(types.slice(0, 2)).toEqual(['response.created', 'response.in_progress']);
    expect(types).toContain('response.function_call_arguments.done');
    const call = completed!.output.find((o) => o.type === 'function_call') as OpenAI.Responses.ResponseFunctionToolCall;
    expect(call).toMatchObject({ name: 'get_weather' });
    expect(JSON.parse(call.arguments)).toEqual({ city: 'Paris' });

    up.reply({ text: 'It is sunny in Paris.' });
    const second = await client.responses.create({
      model,
      tools: [weatherTool],
      store: false,
      input: [
        { role: 'user', content: 'Weather in Paris?' },
        { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
        { type: 'function_call_output', call_id: call.call_id, output: '22°C and sunny' },
      ],
    });
    expect(second.output_text).toBe('It is sunny in Paris.');
    expect(JSON.stringify(up.requests().at(-1)!.body)).toContain('22°C and sunny');
  });
});

/** Text whose JSON literal has every kind of escape, non-ASCII and an emoji: spliced from the upstream's chunks unparsed. */
const TRICKY = 'Say "hi" \\ then\na tab\there: café, 日本, 😀 </script> \u2028 end';

describe('Responses translation details', () => {
  it('streams text with escapes and non-ASCII whole: the deltas, output_text.done, the final and the stored response', async () => {
    openai.reply({ text: TRICKY });
    const stream = client.responses.stream({ model: 'oai/gpt-4o-mini', input: 'tricky' });
    const deltas: string[] = [];
    let done: string | undefined;
    stream.on('response.output_text.delta', (e) => deltas.push(e.delta));
    stream.on('response.output_text.done', (e) => (done = e.text));
    const final = await stream.finalResponse();
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.join('')).toBe(TRICKY);
    expect(done).toBe(TRICKY);
    expect(final.output[0]).toMatchObject({ type: 'message', status: 'completed', content: [{ type: 'output_text', text: TRICKY }] });
    expect((await client.responses.retrieve(final.id)).output_text).toBe(TRICKY);
  });

  it('streams reasoning as a reasoning item with a summary, and maps reasoning.effort, text.format and max_output_tokens', async () => {
    openai.reply({ reasoning: 'Adding.', text: '{"sum":4}' });
    const stream = client.responses.stream({
      model: 'oai/gpt-4o-mini',
      input: [{ role: 'user', content: [{ type: 'input_text', text: '2+2 as JSON' }] }],
      reasoning: { effort: 'low' },
      max_output_tokens: 300,
      text: { format: { type: 'json_schema', name: 'sum', schema: { type: 'object', properties: { sum: { type: 'number' } }, required: ['sum'], additionalProperties: false }, strict: true } },
    });
    const deltas: string[] = [];
    stream.on('response.reasoning_summary_text.delta', (e) => deltas.push(e.delta));
    const final = await stream.finalResponse();
    expect(deltas.join('')).toBe('Adding.');
    expect(final.output[0]).toMatchObject({ type: 'reasoning', summary: [{ type: 'summary_text', text: 'Adding.' }] });
    expect(final.output[1]).toMatchObject({ type: 'message', content: [{ type: 'output_text', text: '{"sum":4}' }] });
    const body = openai.requests().at(-1)!.body;
    expect(body.reasoning_effort).toBe('low');
    expect(body.max_completion_tokens).toBe(300);
    expect(body.response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'sum', strict: true } });
  });

  it('keeps function tools with strict and drops the tool kinds only OpenAI runs', async () => {
    openai.reply({ text: 'ok' });
    await client.responses.create({
      model: 'oai/gpt-4o-mini',
      input: 'hi',
      store: false,
      parallel_tool_calls: false,
      tool_choice: 'auto',
      tools: [{ type: 'web_search' } as never, { type: 'custom', name: 'apply_patch', description: 'patch' } as never, weatherTool],
    });
    const body = openai.requests().at(-1)!.body;
    expect(body.tools).toEqual([{ type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: weatherTool.parameters, strict: true } }]);
    expect(body.parallel_tool_calls).toBe(false);
  });

  it('passes input images as image parts', async () => {
    openai.reply({ text: 'a pixel' });
    await client.responses.create({ model: 'oai/gpt-4o-mini', store: false, input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'low' }, { type: 'input_text', text: 'What?' }] }] });
    const last = (openai.requests().at(-1)!.body.messages as Array<{ content: unknown }>).at(-1)!.content;
    expect(last).toEqual([{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } }, { type: 'text', text: 'What?' }]);
  });

  it('maps hard-coded model names through model_aliases', async () => {
    openai.reply({ text: 'aliased' });
    const r = await client.responses.create({ model: 'gpt-5-codex', input: 'hi', store: false });
    expect(r.output_text).toBe('aliased');
  });
});

describe('stored responses', () => {
  it('continues a conversation with previous_response_id on a non-OpenAI provider, and lists, gets and deletes it', async () => {
    const gem = ups[2]!;
    gem.reply({ text: 'Nice to meet you, Ada.' });
    const first = await client.responses.create({ model: 'gem/gemini-2.5-flash', input: 'My name is Ada.' });
    gem.reply({ text: 'Your name is Ada.' });
    const second = await client.responses.create({ model: 'gem/gemini-2.5-flash', input: 'What is my name?', previous_response_id: first.id });
    expect(second.output_text).toBe('Your name is Ada.');
    expect(second.previous_response_id).toBe(first.id);
    const sent = JSON.stringify(gem.requests().at(-1)!.body);
    expect(sent).toContain('My name is Ada.');
    expect(sent).toContain('Nice to meet you, Ada.');

    const got = await client.responses.retrieve(second.id);
    expect(got.id).toBe(second.id);
    expect(got.output_text).toBe('Your name is Ada.');
    const items = await client.responses.inputItems.list(second.id);
    expect(items.data).toHaveLength(1);
    expect(items.data[0]).toMatchObject({ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'What is my name?' }] });

    await client.responses.delete(first.id);
    await expect(client.responses.retrieve(first.id)).rejects.toMatchObject({ status: 404 });
  });

  it('404 in OpenAI shape for an unknown previous_response_id', async () => {
    const res = await fetch(`${server.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'oai/gpt-4o-mini', input: 'x', previous_response_id: 'resp_nope' }) });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { message: "Previous response with id 'resp_nope' not found.", type: 'invalid_request_error', param: 'previous_response_id', code: 'previous_response_not_found' } });
  });

  it('store: false keeps nothing', async () => {
    openai.reply({ text: 'forget me' });
    const r = await client.responses.create({ model: 'oai/gpt-4o-mini', input: 'x', store: false });
    await expect(client.responses.retrieve(r.id)).rejects.toMatchObject({ status: 404 });
  });
});

describe('Responses pass-through (responses_api: true)', () => {
  it('sends the body unchanged but for model, JSON and streamed', async () => {
    const body = { model: 'native/gpt-5', input: [{ role: 'user' as const, content: 'hi' }], tools: [{ type: 'web_search' as const }], include: ['reasoning.encrypted_content' as const] };
    const r = await client.responses.create(body);
    expect(r.output_text).toBe('native answer');
    expect(native.requests.at(-1)!.body).toEqual({ ...body, model: 'gpt-5' });
    const events: string[] = [];
    for await (const e of await client.responses.create({ ...body, stream: true })) events.push(e.type);
    expect(events).toEqual(['response.created', 'response.completed']);
    expect(native.requests.at(-1)!.body.stream).toBe(true);
  });

  it('records a streamed pass-through once, when it ends, with the tokens of response.completed', async () => {
    const stream = await client.responses.create({ model: 'native/gpt-5', input: 'hi', stream: true }, { headers: { 'x-request-id': 'resp-pass-stream-1' } });
    for await (const e of stream) void e;
    const acc = server.running.deps.accounting!;
    acc.writer.flush();
    const rows = acc.usage.forRequest('resp-pass-stream-1');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ route: 'responses', provider: 'native', model: 'gpt-5', status: 200, stream: 1, prompt_tokens: 3, completion_tokens: 2 });
  });
});

describe("Responses errors in OpenAI's envelope", () => {
  const post = (body: unknown) => fetch(`${server.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('400 naming an unknown input item type', async () => {
    const res = await post({ model: 'oai/gpt-4o-mini', input: [{ type: 'telepathy', data: 'x' }] });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error', param: 'input[0].type', message: expect.stringContaining("'telepathy'") } });
  });

  it('400 for a function_call_output with no matching function_call', async () => {
    const res = await post({ model: 'oai/gpt-4o-mini', input: [{ type: 'function_call_output', call_id: 'call_ghost', output: 'x' }] });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('call_ghost');
  });
});
