import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { startAisbf, type TestServer } from '../helpers/aisbf-server.js';
import { makeTestFrame } from '../helpers/glasses-frames.js';

let fake: FakeOpenAI;
let aisbf: TestServer;
let v1: OpenAI;

// Prices in USD per million tokens (providers.json `price` overrides): costs below are exact.
const CHAT_PRICE = { input_per_mtok: 2, output_per_mtok: 10 };
const EMBED_PRICE = { input_per_mtok: 100, output_per_mtok: 0 };

beforeAll(async () => {
  fake = await startFakeOpenAI();
  aisbf = await startAisbf({
    providers: {
      openai: {
        type: 'openai', endpoint: fake.baseURL, api_key: 'sk-upstream-test-1234567890',
        models: [
          { name: 'gpt-4o', capabilities: ['chat', 'vision'], price: CHAT_PRICE },
          { name: 'text-embedding-3-small', capabilities: ['embeddings'], price: EMBED_PRICE },
          { name: 'dall-e-3', capabilities: ['image'], price: { input_per_mtok: 0, output_per_mtok: 0 } },
        ],
      },
    },
    aisbf: { visionai: { target: 'openai/gpt-4o' } },
  });
  v1 = new OpenAI({ baseURL: `${aisbf.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(async () => {
  await aisbf?.close();
  await fake?.close();
});

async function usage(query = ''): Promise<any> {
  const r = await fetch(`${aisbf.url}/admin/usage${query}`);
  expect(r.status).toBe(200);
  return r.json();
}

async function metricsText(): Promise<string> {
  const r = await fetch(`${aisbf.url}/metrics`);
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toContain('text/plain');
  return r.text();
}

function records(requestId: string) {
  aisbf.running.deps.accounting!.writer.flush();
  return aisbf.running.deps.accounting!.usage.forRequest(requestId);
}

describe('usage records, /admin/usage and /metrics for known requests on every route family', () => {
  it('records chat JSON, a stream, an aborted stream, embeddings, an image and a compat call with exact costs', async () => {
    // 1. chat JSON: 1000 prompt + 500 completion tokens → 1000·2/1e6 + 500·10/1e6 = 0.007
    fake.enqueue({ type: 'reply', text: 'hello', usage: { prompt_tokens: 1000, completion_tokens: 500 } });
    const json = await v1.chat.completions.create({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'acct-json' } });
    expect(json.choices[0]!.message.content).toBe('hello');

    // 2. stream: 2000 + 100 → 0.004 + 0.001 = 0.005
    fake.enqueue({ type: 'reply', text: 'streamed answer', usage: { prompt_tokens: 2000, completion_tokens: 100 } });
    const stream = await v1.chat.completions.create({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'go' }], stream: true }, { headers: { 'x-request-id': 'acct-stream' } });
    let text = '';
    for await (const ch of stream) text += ch.choices[0]?.delta.content ?? '';
    expect(text).toBe('streamed answer');

    // 3. a stream the client abandons after its first content chunk (no usage reported: cost 0).
    fake.enqueue({ type: 'reply', text: 'one two three four five six seven eight', chunkDelayMs: 150 });
    const ac = new AbortController();
    const res = await fetch(`${aisbf.url}/v1/chat/completions`, {
      method: 'POST', signal: ac.signal,
      headers: { 'content-type': 'application/json', 'x-request-id': 'acct-aborted' },
      body: JSON.stringify({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'long' }], stream: true }),
    });
    const reader = res.body!.getReader();
    let seen = '';
    while (!seen.includes('"content":"one')) seen += new TextDecoder().decode((await reader.read()).value);
    ac.abort();
    await reader.cancel().catch(() => undefined);
    await expect.poll(() => records('acct-aborted').length, { timeout: 5000 }).toBe(1);
    const aborted = records('acct-aborted')[0]!;
    expect(aborted).toMatchObject({ route: 'chat', provider: 'openai', model: 'gpt-4o', stream: 1, aborted: 1 });

    // 4. embeddings: the fake reports 3 tokens per input → 6 · 100/1e6 = 0.0006
    const emb = await v1.embeddings.create({ model: 'openai/text-embedding-3-small', input: ['a', 'b'] }, { headers: { 'x-request-id': 'acct-embed' } });
    expect(emb.data).toHaveLength(2);

    // 5. an image (priced 0 here).
    const img = await v1.images.generate({ model: 'openai/dall-e-3', prompt: 'a red square' }, { headers: { 'x-request-id': 'acct-image' } });
    expect(img.data?.length).toBe(1);

    // 6. a compat route (VisionAI's /analyze): 100 + 10 → 0.0002 + 0.0001 = 0.0003
    fake.enqueue({ type: 'reply', text: '{"label":"mug","confidence":80,"predictions":[{"label":"mug","confidence":80}]}', usage: { prompt_tokens: 100, completion_tokens: 10 } });
    const analyze = await fetch(`${aisbf.url}/analyze`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'acct-compat' }, body: JSON.stringify({ image: makeTestFrame(1).bytes.toString('base64') }) });
    expect(analyze.status).toBe(200);

    expect(records('acct-json')[0]).toMatchObject({ route: 'chat', target: 'openai/gpt-4o', provider: 'openai', model: 'gpt-4o', status: 200, prompt_tokens: 1000, completion_tokens: 500, cost_usd: 0.007, stream: 0, attempts: 1, client_id: 'anonymous' });
    expect(records('acct-stream')[0]).toMatchObject({ route: 'chat', stream: 1, prompt_tokens: 2000, completion_tokens: 100, aborted: 0 });
    expect(records('acct-stream')[0]!.cost_usd).toBeCloseTo(0.005, 12);
    expect(records('acct-stream')[0]!.ttft_ms).toBeGreaterThanOrEqual(0);
    expect(records('acct-embed')[0]).toMatchObject({ route: 'embeddings', model: 'text-embedding-3-small', prompt_tokens: 6 });
    expect(records('acct-embed')[0]!.cost_usd).toBeCloseTo(0.0006, 12);
    expect(records('acct-image')[0]).toMatchObject({ route: 'images', model: 'dall-e-3', status: 200 });
    expect(records('acct-compat')[0]).toMatchObject({ route: 'visionai', prompt_tokens: 100, completion_tokens: 10 });

    const all = await usage();
    expect(all.instance).toMatch(/^.+:\d+$/);
    expect(all.totals.requests).toBe(6);
    expect(all.totals.errors).toBe(0);
    expect(all.totals.prompt_tokens).toBe(1000 + 2000 + aborted.prompt_tokens + 6 + 100);
    expect(all.totals.cost_usd).toBeCloseTo(0.007 + 0.005 + (aborted.cost_usd ?? 0) + 0.0006 + 0.0003, 9);

    const byModel = await usage('?group_by=model');
    const chatGroup = byModel.groups.find((g: any) => g.group === 'openai/gpt-4o');
    expect(chatGroup.requests).toBe(4);
    expect(byModel.groups.find((g: any) => g.group === 'openai/text-embedding-3-small').requests).toBe(1);

    const m = await metricsText();
    expect(m).toContain('aisbf_requests_total{route="chat",provider="openai",model="gpt-4o",status_class="2xx"} 3');
    expect(m).toContain('aisbf_requests_total{route="embeddings",provider="openai",model="text-embedding-3-small",status_class="2xx"} 1');
    expect(m).toContain('aisbf_requests_total{route="images",provider="openai",model="dall-e-3",status_class="2xx"} 1');
    expect(m).toContain('aisbf_requests_total{route="visionai",provider="openai",model="gpt-4o",status_class="2xx"} 1');
    expect(m).toContain(`aisbf_tokens_total{provider="openai",model="gpt-4o",type="prompt"} ${3100 + aborted.prompt_tokens}`);
    expect(m).toMatch(/aisbf_time_to_first_token_seconds_count\{provider="openai",model="gpt-4o"\} [12]/);
    expect(m).toContain('aisbf_cooldown_active{provider="openai",model="gpt-4o"} 0');
    expect(m).toContain('process_resident_memory_bytes');
  });

  it('records an upstream failure as an error with its status', async () => {
    fake.enqueue({ type: 'error', status: 400, message: 'bad thing' });
    const r = await fetch(`${aisbf.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'acct-err' }, body: JSON.stringify({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'x' }] }) });
    expect(r.status).toBe(400);
    await expect.poll(() => records('acct-err').length).toBe(1);
    expect(records('acct-err')[0]).toMatchObject({ status: 400, cost_usd: null });
    expect((await usage()).totals.errors).toBe(1);
    expect(await metricsText()).toContain('aisbf_requests_total{route="chat",provider="openai",model="gpt-4o",status_class="4xx"} 1');
  });
});

describe('/admin/usage bad input', () => {
  it('answers 400 naming the parameter for from after to, an unknown group_by and a range over 400 days', async () => {
    const cases: Array<[string, string]> = [
      ['?from=2025-06-02&to=2025-06-01', 'from'],
      ['?group_by=color', 'group_by'],
      ['?from=2020-01-01&to=2025-01-01', 'from'],
      ['?from=yesterday', 'from'],
      ['?to=soon', 'to'],
    ];
    for (const [q, param] of cases) {
      const r = await fetch(`${aisbf.url}/admin/usage${q}`);
      expect(r.status, q).toBe(400);
      const body: any = await r.json();
      expect(body.error.param, q).toBe(param);
    }
  });

  it('accepts every documented group_by', async () => {
    for (const g of ['key', 'user', 'client', 'model', 'provider', 'day']) {
      const body = await usage(`?group_by=${g}&from=7d`);
      expect(Array.isArray(body.groups)).toBe(true);
      expect(body.group_by).toBe(g);
    }
  });
});
