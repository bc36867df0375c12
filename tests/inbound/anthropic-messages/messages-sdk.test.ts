/**
 * The Anthropic Messages API through aisbf, driven by the official `@anthropic-ai/sdk`: translated onto
 * the OpenAI, Gemini and Ollama provider types (JSON and streams, tool round trips, thinking,
 * count_tokens, model_aliases), passed through unchanged to an Anthropic-type provider (body and
 * anthropic-beta header checked), and bad input answered in Anthropic's error envelope.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAisbf, type TestServer } from '../../helpers/aisbf-server.js';
import { anthropicUpstream, geminiUpstream, ollamaUpstream, openaiUpstream, type Upstream } from '../upstreams.js';
import { textPdf } from '../../documents/make-documents.js';

const openai = openaiUpstream();
const anthropic = anthropicUpstream();
const translated: Upstream[] = [openai, geminiUpstream(), ollamaUpstream()];
const all: Upstream[] = [...translated, anthropic];
let server: TestServer;
let client: Anthropic;

const weatherTool = { name: 'get_weather', description: 'Weather for a city', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] } };

beforeAll(async () => {
  for (const u of all) await u.start();
  server = await startAisbf({
    providers: Object.fromEntries(all.map((u) => [u.id, u.providerConfig()])),
    aisbf: { model_aliases: { 'claude-haiku-*': 'gem/gemini-2.5-flash', 'claude-*': 'oai/gpt-4o-mini' } },
  });
  client = new Anthropic({ baseURL: server.url, apiKey: 'sk-ant-client-dummy', maxRetries: 0 });
});

afterAll(async () => {
  await server?.close();
  for (const u of all) await u.stop();
});

/** The text the upstream last received as the latest user turn / tool result, in any wire format. */
const lastBody = (u: Upstream) => JSON.stringify(u.requests().at(-1)?.body ?? {});

describe.each(translated.map((u) => [u.type, u] as const))('Messages onto the %s provider type', (_type, up) => {
  const model = `${up.id}/${up.model}`;

  it('answers a JSON message with text, stop_reason and input usage', async () => {
    up.reply({ text: 'Hello from upstream' });
    const msg = await client.messages.create({ model, max_tokens: 200, system: 'Be terse.', messages: [{ role: 'user', content: 'Say hello' }] });
    expect(msg.type).toBe('message');
    expect(msg.content).toEqual([{ type: 'text', text: 'Hello from upstream' }]);
    expect(msg.stop_reason).toBe('end_turn');
    expect(msg.usage.input_tokens).toBeGreaterThan(0);
    expect(lastBody(up)).toContain('Be terse.');
  });

  it('streams a tool call, then completes the round trip with the tool result', async () => {
    up.reply({ toolCalls: [{ id: 'call_w1', name: 'get_weather', arguments: '{"city":"Paris"}' }] });
    const stream = client.messages.stream({ model, max_tokens: 200, tools: [weatherTool], messages: [{ role: 'user', content: 'Weather in Paris?' }] });
    const types: string[] = [];
    stream.on('streamEvent', (e) => types.push(e.type));
    const first = await stream.finalMessage();
    expect(types[0]).toBe('message_start');
    expect(types.slice(-2)).toEqual(['message_delta', 'message_stop']);
    expect(first.stop_reason).toBe('tool_use');
    const use = first.content.find((b) => b.type === 'tool_use');
    expect(use).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: 'Paris' } });

    up.reply({ text: 'It is sunny in Paris.' });
    const second = client.messages.stream({
      model,
      max_tokens: 200,
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: (use as { id: string }).id, content: '22°C and sunny' }] },
      ],
    });
    const done = await second.finalMessage();
    expect(done.content).toEqual([{ type: 'text', text: 'It is sunny in Paris.' }]);
    expect(done.stop_reason).toBe('end_turn');
    expect(lastBody(up)).toContain('22°C and sunny');
  });
});

describe('Messages translation details', () => {
  it('streams text with escapes and non-ASCII whole (spliced from the upstream chunks unparsed)', async () => {
    const tricky = 'Say "hi" \\ then\na tab\there: café, 日本, 😀 </script> \u2028 end';
    openai.reply({ text: tricky });
    const deltas: string[] = [];
    const stream = client.messages.stream({ model: 'oai/gpt-4o-mini', max_tokens: 50, messages: [{ role: 'user', content: 'tricky' }] });
    stream.on('text', (t) => deltas.push(t));
    const msg = await stream.finalMessage();
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.join('')).toBe(tricky);
    expect(msg.content).toEqual([{ type: 'text', text: tricky }]);
  });

  it('message_start carries the counted input tokens before any content', async () => {
    openai.reply({ text: 'x' });
    const events: Array<{ type: string; message?: { usage: { input_tokens: number } } }> = [];
    const stream = client.messages.stream({ model: 'oai/gpt-4o-mini', max_tokens: 50, system: 'A system prompt with several words in it.', messages: [{ role: 'user', content: 'hi' }] });
    stream.on('streamEvent', (e) => events.push(e as never));
    await stream.finalMessage();
    expect(events[0]!.message!.usage.input_tokens).toBeGreaterThan(5);
  });

  it('streams reasoning as a thinking block and maps thinking budgets to reasoning_effort', async () => {
    openai.reply({ reasoning: 'Two plus two.', text: '4' });
    const msg = await client.messages.stream({ model: 'oai/gpt-4o-mini', max_tokens: 3000, thinking: { type: 'enabled', budget_tokens: 2048 }, messages: [{ role: 'user', content: '2+2?' }] }).finalMessage();
    expect(msg.content[0]).toMatchObject({ type: 'thinking', thinking: 'Two plus two.' });
    expect(msg.content[1]).toEqual({ type: 'text', text: '4' });
    expect(openai.requests().at(-1)!.body.reasoning_effort).toBe('low');
  });

  it('keeps role:"system" entries, several tool results per turn (is_error too), stop_sequences and tool_choice', async () => {
    openai.reply({ text: 'ok' });
    await client.messages.create({
      model: 'oai/gpt-4o-mini',
      max_tokens: 100,
      stop_sequences: ['END'],
      tools: [weatherTool],
      tool_choice: { type: 'any' },
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 'toolu_a', name: 'get_weather', input: { city: 'Paris' } },
            { type: 'tool_use', id: 'toolu_b', name: 'get_weather', input: { city: 'Rome' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_a', content: 'sunny' },
            { type: 'tool_result', tool_use_id: 'toolu_b', content: [{ type: 'text', text: 'service down' }], is_error: true },
          ],
        },
        { role: 'system', content: 'Reminder: answer in one word.' } as never,
      ],
    });
    const body = openai.requests().at(-1)!.body;
    expect(body.stop).toEqual(['END']);
    expect(body.tool_choice).toBe('required');
    const msgs = body.messages as Array<{ role: string; content: unknown; tool_call_id?: string }>;
    expect(msgs.filter((m) => m.role === 'tool')).toEqual([
      { role: 'tool', tool_call_id: 'toolu_a', content: 'sunny' },
      { role: 'tool', tool_call_id: 'toolu_b', content: 'Error: service down' },
    ]);
    expect(msgs.at(-1)).toEqual({ role: 'system', content: 'Reminder: answer in one word.' });
  });

  it('passes images and PDF documents as content parts', async () => {
    openai.reply({ text: 'seen' });
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
    // A real one-page PDF: aisbf counts a PDF's pages (and refuses corrupt ones) before any upstream call.
    const pdf = (await textPdf(['spec'])).toString('base64');
    await client.messages.create({
      model: 'oai/gpt-4o-mini',
      max_tokens: 50,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } },
            { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: pdf }, title: 'spec.pdf' },
            { type: 'text', text: 'What is this?', cache_control: { type: 'ephemeral' } },
          ],
        },
      ],
    });
    const parts = (openai.requests().at(-1)!.body.messages as Array<{ content: Array<Record<string, unknown>> }>).at(-1)!.content;
    expect(parts[0]).toEqual({ type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } });
    expect(parts[1]).toEqual({ type: 'file', file: { file_data: `data:application/pdf;base64,${pdf}`, filename: 'spec.pdf' } });
    expect(parts[2]).toEqual({ type: 'text', text: 'What is this?' });
  });

  it("maps Claude Code's hard-coded model names through model_aliases", async () => {
    openai.reply({ text: 'via alias' });
    const msg = await client.messages.create({ model: 'claude-opus-4-5-20251101', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] });
    expect(msg.content).toEqual([{ type: 'text', text: 'via alias' }]);
    expect(msg.model).toBe('claude-opus-4-5-20251101');
  });

  it('counts tokens with count_tokens (system, messages and tools)', async () => {
    const small = await client.messages.countTokens({ model: 'oai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    const big = await client.messages.countTokens({ model: 'oai/gpt-4o-mini', system: 'You are a careful assistant. '.repeat(50), tools: [weatherTool], messages: [{ role: 'user', content: 'hi' }] });
    expect(small.input_tokens).toBeGreaterThan(0);
    expect(big.input_tokens).toBeGreaterThan(small.input_tokens + 200);
  });
});

describe('Messages pass-through to an Anthropic-type provider', () => {
  it('sends the body and the anthropic-beta header unchanged (JSON)', async () => {
    anthropic.reply({ text: 'straight from Anthropic' });
    const body = {
      model: 'ant/claude-sonnet-4-6',
      max_tokens: 2000,
      system: [{ type: 'text' as const, text: 'Sys', cache_control: { type: 'ephemeral' as const } }],
      messages: [{ role: 'user' as const, content: 'hi' }],
      thinking: { type: 'enabled' as const, budget_tokens: 1024 },
    };
    const msg = await client.messages.create(body, { headers: { 'anthropic-beta': 'interleaved-thinking-2025-05-14' } });
    expect(msg.content.at(-1)).toMatchObject({ type: 'text', text: 'straight from Anthropic' });
    const seen = anthropic.requests().at(-1)!;
    expect(seen.body).toEqual({ ...body, model: 'claude-sonnet-4-6' });
    expect(seen.headers['anthropic-beta']).toBe('interleaved-thinking-2025-05-14');
    expect(seen.headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('relays the stream byte for byte, with a tool round trip', async () => {
    anthropic.reply({ toolCalls: [{ id: 'toolu_p1', name: 'get_weather', arguments: '{"city":"Oslo"}' }] });
    const first = await client.messages.stream({ model: 'ant/claude-sonnet-4-6', max_tokens: 100, tools: [weatherTool], messages: [{ role: 'user', content: 'Oslo?' }] }).finalMessage();
    expect(first.content.at(-1)).toMatchObject({ type: 'tool_use', id: 'toolu_p1', input: { city: 'Oslo' } });
    anthropic.reply({ text: 'Cold.' });
    const done = await client.messages
      .stream({
        model: 'ant/claude-sonnet-4-6',
        max_tokens: 100,
        tools: [weatherTool],
        messages: [
          { role: 'user', content: 'Oslo?' },
          { role: 'assistant', content: first.content },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_p1', content: '-5°C' }] },
        ],
      })
      .finalMessage();
    expect(done.content).toMatchObject([{ type: 'text', text: 'Cold.' }]);
    expect(JSON.stringify(anthropic.requests().at(-1)!.body.messages)).toContain('-5°C');
  });

  it('records a streamed pass-through once, when it ends, with message_start input and message_delta output tokens', async () => {
    anthropic.fake().enqueue({ type: 'reply', text: 'counted', usage: { input_tokens: 41, output_tokens: 7, cache_read_input_tokens: 5 } });
    await client.messages.stream({ model: 'ant/claude-sonnet-4-6', max_tokens: 100, messages: [{ role: 'user', content: 'count me' }] }, { headers: { 'x-request-id': 'msg-pass-stream-1' } }).finalMessage();
    const acc = server.running.deps.accounting!;
    acc.writer.flush();
    const rows = acc.usage.forRequest('msg-pass-stream-1');
    expect(rows).toHaveLength(1);
    // Anthropic's input_tokens leave out cache reads; in OpenAI terms both are prompt tokens.
    expect(rows[0]).toMatchObject({ route: 'messages', provider: 'ant', status: 200, stream: 1, prompt_tokens: 46, completion_tokens: 7, cached_tokens: 5 });
  });

  it('records a pass-through stream that breaks midway once, with its error', async () => {
    anthropic.fake().enqueue({ type: 'stream-error', errType: 'overloaded_error', message: 'Overloaded' });
    const res = await fetch(`${server.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'dummy', 'anthropic-version': '2023-06-01', 'x-request-id': 'msg-pass-broken-1' },
      body: JSON.stringify({ model: 'ant/claude-sonnet-4-6', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'break' }] }),
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('overloaded_error');
    const acc = server.running.deps.accounting!;
    acc.writer.flush();
    const rows = acc.usage.forRequest('msg-pass-broken-1');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ route: 'messages', provider: 'ant', stream: 1 });
  });
});

describe("Messages errors in Anthropic's envelope", () => {
  const post = (body: unknown) => fetch(`${server.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'dummy', 'anthropic-version': '2023-06-01' }, body: JSON.stringify(body) });

  it('400 naming an unknown content block type', async () => {
    const res = await post({ model: 'oai/gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'hologram', data: 'x' }] }] });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining("'hologram'") } });
  });

  it('400 naming the index of a tool_result without a matching tool_use', async () => {
    const res = await post({
      model: 'oai/gpt-4o-mini',
      max_tokens: 10,
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_missing', content: 'x' }] },
      ],
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { message: string } };
    expect(body.error.message).toContain('messages.2.content.0');
    expect(body.error.message).toContain('toolu_missing');
  });

  it('400 for a missing max_tokens, 400 for an unknown model, both as {"type":"error"}', async () => {
    const a = await post({ model: 'oai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(a.status).toBe(400);
    expect(await a.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('max_tokens') } });
    const b = await post({ model: 'nonexistent-model', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });
    expect(b.status).toBe(400);
    expect(await b.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });

  it('drops server tools and defer_loading tools for a non-Anthropic target instead of failing', async () => {
    openai.reply({ text: 'fine' });
    const res = await post({
      model: 'oai/gpt-4o-mini',
      max_tokens: 10,
      tools: [{ type: 'web_search_20250305', name: 'web_search' }, { name: 'lazy', input_schema: { type: 'object' }, defer_loading: true }, weatherTool],
      context_management: { edits: [] },
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(res.status).toBe(200);
    expect((openai.requests().at(-1)!.body.tools as Array<{ function: { name: string } }>).map((t) => t.function.name)).toEqual(['get_weather']);
  });
});
