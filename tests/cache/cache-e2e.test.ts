/**
 * The response cache end to end: the openai and anthropic SDKs against a real aisbf (auth on, two
 * API keys) in front of a fake OpenAI upstream. What the upstream saw proves hit or miss.
 */
import { join } from 'node:path';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { startAisbf, type TestServer } from '../helpers/aisbf-server.js';
import { openDatabase, type Db } from '../../src/store/db.js';
import { ApiKeyStore } from '../../src/store/api-keys.js';
import { UserStore } from '../../src/store/users.js';
import { createApiKey } from '../../src/identity/api-keys.js';

const ADMIN = 'static-admin-token-for-cache-tests';
// USD per million tokens: a miss costs something, so a hit's 0 is visible.
const PRICE = { input_per_mtok: 1000, output_per_mtok: 1000 };

let fake: FakeOpenAI;
let aisbf: TestServer;
let cli: Db;
let keyA: string;
let keyB: string;

const sdk = (apiKey: string) => new OpenAI({ baseURL: `${aisbf.url}/v1`, apiKey, maxRetries: 0 });
const upstreamCalls = (text: string) => fake.chatRequests().filter((r) => JSON.stringify(r.body?.messages ?? r.body?.input ?? '').includes(text)).length;
const msg = (text: string) => [{ role: 'user' as const, content: text }];

async function streamText(client: OpenAI, text: string, headers: Record<string, string> = {}): Promise<{ text: string; cache: string | null }> {
  const { data, response } = await client.chat.completions.create({ model: 'up/gpt-4o', messages: msg(text), stream: true, stream_options: { include_usage: true } }, { headers }).withResponse();
  let out = '';
  for await (const chunk of data) out += chunk.choices[0]?.delta?.content ?? '';
  return { text: out, cache: response.headers.get('x-aisbf-cache') };
}

async function usageTotals(): Promise<{ requests: number; cost_usd: number; cache_hits: number }> {
  const r = await fetch(`${aisbf.url}/admin/usage`, { headers: { authorization: `Bearer ${ADMIN}` } });
  expect(r.status).toBe(200);
  return ((await r.json()) as { totals: { requests: number; cost_usd: number; cache_hits: number } }).totals;
}

beforeAll(async () => {
  fake = await startFakeOpenAI();
  aisbf = await startAisbf({
    providers: { up: { type: 'openai', endpoint: fake.baseURL, api_key: 'sk-upstream-000000', models: [{ name: 'gpt-4o', price: PRICE }] } },
    aisbf: { auth: { enabled: true, tokens: [ADMIN] }, cache: { enabled: true, ttl_seconds: 600, max_mb: 8 } },
  });
  // As `aisbf key create` does: a second connection to the same database.
  cli = openDatabase(join(aisbf.configDir, 'aisbf.db'));
  keyA = createApiKey(new ApiKeyStore(cli), new UserStore(cli), { name: 'tenant-a' }).key;
  keyB = createApiKey(new ApiKeyStore(cli), new UserStore(cli), { name: 'tenant-b' }).key;
});
afterAll(async () => {
  cli?.close();
  await aisbf?.close();
  await fake?.close();
});

describe('response cache over HTTP (chat completions)', () => {
  it('answers an exact JSON repeat from the cache with x-aisbf-cache: hit and records it at cost 0', async () => {
    const before = await usageTotals();
    const first = await sdk(keyA).chat.completions.create({ model: 'up/gpt-4o', messages: msg('json once') }).withResponse();
    expect(first.response.headers.get('x-aisbf-cache')).toBeNull();
    expect(first.response.headers.get('x-aisbf-provider')).toBe('up');
    const second = await sdk(keyA).chat.completions.create({ model: 'up/gpt-4o', messages: msg('json once') }).withResponse();
    expect(second.response.headers.get('x-aisbf-cache')).toBe('hit');
    expect(second.data.choices[0]!.message.content).toBe('echo: json once');
    expect(second.data).toEqual(first.data);
    expect(upstreamCalls('json once')).toBe(1);

    const after = await usageTotals();
    expect(after.requests - before.requests).toBe(2);
    expect(after.cache_hits - before.cache_hits).toBe(1);
    // Only the miss cost anything: its cost equals the whole increase.
    aisbf.running.deps.accounting!.writer.flush();
    const rows = aisbf.running.deps.accounting!.usage.forRequest(second.response.headers.get('x-request-id')!);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ cache_hit: 1, cost_usd: 0, status: 200 });
    const missRow = aisbf.running.deps.accounting!.usage.forRequest(first.response.headers.get('x-request-id')!)[0]!;
    expect(missRow.cost_usd).toBeGreaterThan(0);
    expect(after.cost_usd - before.cost_usd).toBeCloseTo(missRow.cost_usd!, 9);
  });

  it("does not count a hit's tokens against the key's tpm (no upstream tokens were spent)", async () => {
    const key = createApiKey(new ApiKeyStore(cli), new UserStore(cli), { name: 'tpm-fifteen', tpm: 15 }).key;
    fake.enqueue({ type: 'reply', text: 'short', usage: { prompt_tokens: 6, completion_tokens: 4 } });
    await sdk(key).chat.completions.create({ model: 'up/gpt-4o', messages: msg('tpm question') });
    // 10 tokens used of 15: were hits counted, the third would be refused.
    for (let i = 0; i < 4; i++) {
      const r = await sdk(key).chat.completions.create({ model: 'up/gpt-4o', messages: msg('tpm question') }).withResponse();
      expect(r.response.headers.get('x-aisbf-cache')).toBe('hit');
    }
    expect(upstreamCalls('tpm question')).toBe(1);
  });

  it('replays a stream the SDK parses like the original', async () => {
    const first = await streamText(sdk(keyA), 'stream me please');
    const second = await streamText(sdk(keyA), 'stream me please');
    expect(first).toEqual({ text: 'echo: stream me please', cache: null });
    expect(second).toEqual({ text: 'echo: stream me please', cache: 'hit' });
    expect(upstreamCalls('stream me please')).toBe(1);
    // A JSON request is not answered from a stream's entry.
    const json = await sdk(keyA).chat.completions.create({ model: 'up/gpt-4o', messages: msg('stream me please') }).withResponse();
    expect(json.response.headers.get('x-aisbf-cache')).toBeNull();
    expect(upstreamCalls('stream me please')).toBe(2);
  });

  it('never shares an answer between two API keys', async () => {
    await sdk(keyA).chat.completions.create({ model: 'up/gpt-4o', messages: msg('tenant secret') });
    const b = await sdk(keyB).chat.completions.create({ model: 'up/gpt-4o', messages: msg('tenant secret') }).withResponse();
    expect(b.response.headers.get('x-aisbf-cache')).toBeNull();
    expect(upstreamCalls('tenant secret')).toBe(2);
    const b2 = await sdk(keyB).chat.completions.create({ model: 'up/gpt-4o', messages: msg('tenant secret') }).withResponse();
    expect(b2.response.headers.get('x-aisbf-cache')).toBe('hit');
    expect(upstreamCalls('tenant secret')).toBe(2);
  });

  it('bypasses the cache on Cache-Control: no-cache and stores nothing on no-store', async () => {
    await sdk(keyA).chat.completions.create({ model: 'up/gpt-4o', messages: msg('fresh please') });
    const bypass = await sdk(keyA).chat.completions.create({ model: 'up/gpt-4o', messages: msg('fresh please') }, { headers: { 'cache-control': 'no-cache' } }).withResponse();
    expect(bypass.response.headers.get('x-aisbf-cache')).toBeNull();
    expect(upstreamCalls('fresh please')).toBe(2);

    await sdk(keyA).chat.completions.create({ model: 'up/gpt-4o', messages: msg('never keep') }, { headers: { 'cache-control': 'no-store' } });
    const again = await sdk(keyA).chat.completions.create({ model: 'up/gpt-4o', messages: msg('never keep') }).withResponse();
    expect(again.response.headers.get('x-aisbf-cache')).toBeNull();
    expect(upstreamCalls('never keep')).toBe(2);
  });

  it('never caches a request for several choices (n > 1)', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await sdk(keyA).chat.completions.create({ model: 'up/gpt-4o', messages: msg('two choices'), n: 2 }).withResponse();
      expect(r.response.headers.get('x-aisbf-cache')).toBeNull();
    }
    expect(upstreamCalls('two choices')).toBe(2);
  });

  it('never caches an error', async () => {
    fake.enqueue({ type: 'error', status: 500, message: 'upstream broke' });
    const err = await sdk(keyA).chat.completions.create({ model: 'up/gpt-4o', messages: msg('flaky question') }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    const ok = await sdk(keyA).chat.completions.create({ model: 'up/gpt-4o', messages: msg('flaky question') }).withResponse();
    expect(ok.response.headers.get('x-aisbf-cache')).toBeNull();
    expect(ok.data.choices[0]!.message.content).toBe('echo: flaky question');
    expect(upstreamCalls('flaky question')).toBe(2);
  });

  it('never caches a stream cut by the upstream mid-way', async () => {
    fake.enqueue({ type: 'reset', afterChunks: 1, chunkDelayMs: 20 });
    // The client sees the stream fail (an error frame after the first piece), never a whole answer.
    const cut = await streamText(sdk(keyA), 'cut short answer').then(
      (r) => r,
      (e: unknown) => e,
    );
    expect(cut).toBeInstanceOf(Error);
    const next = await streamText(sdk(keyA), 'cut short answer');
    expect(next).toEqual({ text: 'echo: cut short answer', cache: null });
    expect(upstreamCalls('cut short answer')).toBe(2);
  });

  it('never caches a stream the client abandoned', async () => {
    fake.enqueue({ type: 'reply', chunkDelayMs: 40 });
    const ctl = new AbortController();
    const { data: stream, response } = await sdk(keyA).chat.completions.create({ model: 'up/gpt-4o', messages: msg('walk away now'), stream: true }, { signal: ctl.signal }).withResponse();
    let got = '';
    await (async () => {
      for await (const chunk of stream) {
        got += chunk.choices[0]?.delta?.content ?? '';
        if (got.length > 0) ctl.abort();
      }
    })().catch(() => undefined);
    expect(got.length).toBeGreaterThan(0);
    // The abandoned stream settles on our side (an aborted usage record) before the repeat is asked.
    const id = response.headers.get('x-request-id')!;
    const acc = aisbf.running.deps.accounting!;
    await expect.poll(() => (acc.writer.flush(), acc.usage.forRequest(id)[0]?.aborted)).toBe(1);
    const next = await streamText(sdk(keyA), 'walk away now');
    expect(next).toEqual({ text: 'echo: walk away now', cache: null });
    expect(upstreamCalls('walk away now')).toBe(2);
  });

  it('never answers a stopped model from the cache, and serves hits again once it is started', async () => {
    const admin = (action: string) => fetch(`${aisbf.url}/admin/models/up/gpt-4o/${action}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } });
    await sdk(keyA).chat.completions.create({ model: 'up/gpt-4o', messages: msg('stopped later') });
    expect((await admin('stop')).status).toBe(200);
    try {
      const err = (await sdk(keyA).chat.completions.create({ model: 'up/gpt-4o', messages: msg('stopped later') }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(err.status).toBe(503);
      expect(err.code).toBe('model_stopped');
    } finally {
      expect((await admin('start')).status).toBe(200);
    }
    const again = await sdk(keyA).chat.completions.create({ model: 'up/gpt-4o', messages: msg('stopped later') }).withResponse();
    expect(again.response.headers.get('x-aisbf-cache')).toBe('hit');
    expect(upstreamCalls('stopped later')).toBe(1);
  });
});

describe('response cache on the Responses and Anthropic Messages routes', () => {
  it('renders a Responses hit (JSON and stream) like the original', async () => {
    const client = sdk(keyA);
    const a = await client.responses.create({ model: 'up/gpt-4o', input: 'responses repeat', store: false }).withResponse();
    const b = await client.responses.create({ model: 'up/gpt-4o', input: 'responses repeat', store: false }).withResponse();
    expect(a.response.headers.get('x-aisbf-cache')).toBeNull();
    expect(b.response.headers.get('x-aisbf-cache')).toBe('hit');
    expect(b.data.output_text).toBe('echo: responses repeat');
    expect(b.data.output_text).toBe(a.data.output_text);
    // A new response object each time (its own id), with the cached answer in it.
    expect(b.data.id).not.toBe(a.data.id);

    const streamed = async () => {
      const { data, response } = await client.responses.create({ model: 'up/gpt-4o', input: 'responses stream repeat', store: false, stream: true }).withResponse();
      let text = '';
      let completed = false;
      for await (const ev of data) {
        if (ev.type === 'response.output_text.delta') text += ev.delta;
        if (ev.type === 'response.completed') completed = true;
      }
      return { text, completed, cache: response.headers.get('x-aisbf-cache') };
    };
    expect(await streamed()).toEqual({ text: 'echo: responses stream repeat', completed: true, cache: null });
    expect(await streamed()).toEqual({ text: 'echo: responses stream repeat', completed: true, cache: 'hit' });
    expect(upstreamCalls('responses repeat')).toBe(1);
    expect(upstreamCalls('responses stream repeat')).toBe(1);
  });

  it('renders an Anthropic Messages hit (JSON and stream) like the original', async () => {
    const client = new Anthropic({ baseURL: aisbf.url, apiKey: keyA, maxRetries: 0 });
    const ask = () => client.messages.create({ model: 'up/gpt-4o', max_tokens: 64, messages: [{ role: 'user', content: 'messages repeat' }] }).withResponse();
    const a = await ask();
    const b = await ask();
    expect(a.response.headers.get('x-aisbf-cache')).toBeNull();
    expect(b.response.headers.get('x-aisbf-cache')).toBe('hit');
    expect(b.data.content).toEqual([{ type: 'text', text: 'echo: messages repeat' }]);
    expect(b.data.content).toEqual(a.data.content);
    expect(b.data.stop_reason).toBe('end_turn');

    const streamed = async () => {
      const s = client.messages.stream({ model: 'up/gpt-4o', max_tokens: 64, messages: [{ role: 'user', content: 'messages stream repeat' }] });
      const final = await s.finalMessage();
      const { response } = await s.withResponse();
      return { text: final.content.map((c) => (c.type === 'text' ? c.text : '')).join(''), stop: final.stop_reason, cache: response.headers.get('x-aisbf-cache') };
    };
    expect(await streamed()).toEqual({ text: 'echo: messages stream repeat', stop: 'end_turn', cache: null });
    expect(await streamed()).toEqual({ text: 'echo: messages stream repeat', stop: 'end_turn', cache: 'hit' });
    expect(upstreamCalls('messages repeat')).toBe(1);
    expect(upstreamCalls('messages stream repeat')).toBe(1);
  });
});
