import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { startAisbf, type TestServer } from '../helpers/aisbf-server.js';
import { sleep, startFakeServer } from '../fakes/fake-server.js';

let fake: FakeOpenAI;
let aisbf: TestServer;
let client: OpenAI;
let v1: OpenAI;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  aisbf = await startAisbf({
    providers: {
      openai: { type: 'openai', endpoint: fake.baseURL, api_key: 'sk-test-upstream-key-123456', models: [{ name: 'gpt-4o', context_size: 128000 }] },
      local: { type: 'openai', endpoint: fake.baseURL, api_key_required: false, models: [] },
    },
  });
  client = new OpenAI({ baseURL: `${aisbf.url}/api/openai`, apiKey: 'client-key', maxRetries: 0 });
  v1 = new OpenAI({ baseURL: `${aisbf.url}/v1`, apiKey: 'client-key', maxRetries: 0 });
});
afterAll(async () => {
  await aisbf.close();
  await fake.close();
});

describe('OpenAI provider through /api/openai', () => {
  it('answers a chat completion with the upstream response and effective_context in usage', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello there' }] })
      .withResponse();
    expect(data.choices[0]!.message.content).toBe('echo: hello there');
    expect(data.system_fingerprint).toMatch(/^fp_/);
    expect((data.usage as any).effective_context).toBe(data.usage!.prompt_tokens);
    expect(response.headers.get('x-aisbf-provider')).toBe('openai');
    expect(response.headers.get('x-aisbf-model')).toBe('gpt-4o');
    expect(response.headers.get('x-aisbf-attempts')).toBe('1');
    const sent = fake.chatRequests().at(-1)!;
    expect(sent.headers.authorization).toBe('Bearer sk-test-upstream-key-123456');
    expect(sent.body.model).toBe('gpt-4o');
  });

  it('streams chunks that end with [DONE] and carry effective_context in the finish chunk', async () => {
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'one two three' }], stream: true });
    let text = '';
    let finish: string | null = null;
    let usage: any;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.choices[0]?.finish_reason) {
        finish = chunk.choices[0].finish_reason;
        usage = chunk.usage;
      }
    }
    expect(text).toBe('echo: one two three');
    expect(finish).toBe('stop');
    expect(usage.effective_context).toBeGreaterThan(0);
    // The SDK hides [DONE]: the raw body shows it is the last frame, after the finish chunk.
    const res = await fetch(`${aisbf.url}/api/openai/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer client-key' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'one two three' }], stream: true }),
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const frames = (await res.text()).split('\n\n').filter(Boolean);
    expect(frames.at(-1)).toBe('data: [DONE]');
    expect(JSON.parse(frames.at(-2)!.slice('data: '.length)).choices[0].finish_reason).toBe('stop');
  });

  it('sends a separate usage chunk when the client asks for include_usage', async () => {
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect((last.usage as any).effective_context).toBe(last.usage!.prompt_tokens);
  });
});

describe('the unified /v1 base', () => {
  it('routes provider/model to that provider', async () => {
    const r = await v1.chat.completions.create({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'via v1' }] });
    expect(r.choices[0]!.message.content).toBe('echo: via v1');
    expect(fake.chatRequests().at(-1)!.body.model).toBe('gpt-4o');
  });
});

describe('a stream that stalls after its first chunk', () => {
  it('ends with an SSE error frame and [DONE], not a normal finish', async () => {
    const slow = await startFakeOpenAI();
    const server = await startAisbf({ providers: { p: { type: 'openai', endpoint: slow.baseURL, api_key: 'k', timeout_seconds: 1.5, models: [] } } });
    try {
      slow.enqueue({ type: 'stall' });
      const res = await fetch(`${server.url}/api/p/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      });
      const text = await res.text();
      expect(text).toContain('"content":"partial"');
      expect(text).not.toContain('"finish_reason":"stop"');
      expect(text).toMatch(/data: \{"error":\{"message":"[^"]*did not answer in time/);
      expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    } finally {
      await server.close();
      await slow.close();
    }
  });
});

describe('a slow but steady stream', () => {
  it('is not timed out: each upstream chunk restarts the clock', async () => {
    const slow = await startFakeOpenAI();
    // 0.2 s between chunks, ten chunks: 2 s in all against a 0.6 s timeout between chunks.
    const server = await startAisbf({ providers: { p: { type: 'openai', endpoint: slow.baseURL, api_key: 'k', timeout_seconds: 0.6, models: [] } } });
    try {
      slow.enqueue({ type: 'reply', text: 'one two three four five six seven eight nine ten', chunkDelayMs: 200 });
      const c = new OpenAI({ baseURL: `${server.url}/api/p`, apiKey: 'x', maxRetries: 0 });
      const stream = await c.chat.completions.create({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] });
      let text = '';
      let finish: string | null | undefined;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        finish ??= chunk.choices[0]?.finish_reason;
      }
      expect(text).toBe('one two three four five six seven eight nine ten');
      expect(finish).toBe('stop');
    } finally {
      await server.close();
      await slow.close();
    }
  }, 20_000);

  it('is not timed out by events that make no part (empty choices): each is a sign of life', async () => {
    const head = '{"id":"chatcmpl-e","object":"chat.completion.chunk","created":1,"model":"m",';
    const up = await startFakeServer(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${head}"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}\n\n`);
      // 1.2 s of events with no choices, 0.2 s apart, against a 0.6 s timeout between chunks.
      for (let i = 0; i < 6; i++) {
        await sleep(200);
        res.write(`data: ${head}"choices":[]}\n\n`);
      }
      res.write(`data: ${head}"choices":[{"index":0,"delta":{"content":"at last"},"logprobs":null,"finish_reason":null}]}\n\n`);
      res.end(`data: ${head}"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n`);
    });
    const server = await startAisbf({ providers: { p: { type: 'openai', endpoint: `${up.origin}/v1`, api_key: 'k', timeout_seconds: 0.6, models: [] } } });
    try {
      const c = new OpenAI({ baseURL: `${server.url}/api/p`, apiKey: 'x', maxRetries: 0 });
      const stream = await c.chat.completions.create({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      expect(text).toBe('at last');
    } finally {
      await server.close();
      await up.close();
    }
  }, 20_000);
});

describe('upstream connections', () => {
  it('reuses one keep-alive connection for sequential requests, streamed and not', async () => {
    const up = await startFakeOpenAI();
    const server = await startAisbf({ providers: { p: { type: 'openai', endpoint: up.baseURL, api_key: 'k', models: [] } } });
    try {
      const c = new OpenAI({ baseURL: `${server.url}/api/p`, apiKey: 'x', maxRetries: 0 });
      for (let i = 0; i < 3; i++) {
        await c.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: `json ${i}` }] });
        const stream = await c.chat.completions.create({ model: 'm', stream: true, messages: [{ role: 'user', content: `stream ${i}` }] });
        for await (const chunk of stream) void chunk;
      }
      expect(up.chatRequests()).toHaveLength(6);
      expect(up.connections).toBe(1);
    } finally {
      await server.close();
      await up.close();
    }
  });
});
