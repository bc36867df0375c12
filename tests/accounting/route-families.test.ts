/**
 * Every route family leaves its usage records (CONTRACTS §7.4 item 28): chat on /v1 and /api/{id},
 * a capability route, the platform compat routes (/api/llm, /api/embedding), VisionAI's /analyze,
 * the glasses' /process, the Responses and Messages APIs, and the internal calls some of them cause
 * (the condensation helper, the glasses cascade and check) under the request that caused them. One
 * known usage per call and price overrides make every cost exact; /admin/usage and /metrics agree.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { startAisbf, type TestServer } from '../helpers/aisbf-server.js';
import { addGlassesProfile, makeJpeg, makeTestFrame, processForm } from '../helpers/glasses-frames.js';
import type { UsageRow } from '../../src/store/usage.js';

// USD per million tokens: 2 in, 10 out for chat; 1 in, 1 out for the helper; 100 in for embeddings.
const CHAT = { input_per_mtok: 2, output_per_mtok: 10 };
const HELPER = { input_per_mtok: 1, output_per_mtok: 1 };
const EMBED = { input_per_mtok: 100, output_per_mtok: 0 };
const chatCost = (p: number, c: number) => (p * 2 + c * 10) / 1e6;

let fake: FakeOpenAI;
let aisbf: TestServer;
let v1: OpenAI;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  aisbf = await startAisbf({
    providers: {
      openai: {
        type: 'openai', endpoint: fake.baseURL, api_key: 'sk-upstream-families-123456',
        models: [
          { name: 'gpt-4o', capabilities: ['chat', 'vision'], price: CHAT },
          { name: 'gpt-4o-mini', price: HELPER },
          // Condenses (one conversational helper call) once the prompt reaches 50 % of 300 tokens.
          { name: 'conv', context_size: 300, condense_context: 50, condense_method: 'conversational', price: CHAT },
          { name: 'text-embedding-3-small', capabilities: ['embeddings'], price: EMBED },
        ],
      },
    },
    condensation: { provider_id: 'openai', model: 'gpt-4o-mini', enabled: true },
    aisbf: {
      platform: { llm: 'openai/gpt-4o', embedding: 'openai/text-embedding-3-small' },
      visionai: { target: 'openai/gpt-4o' },
      glasses: { cascade: ['openai/gpt-4o'] },
    },
  });
  v1 = new OpenAI({ baseURL: `${aisbf.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  await addGlassesProfile(aisbf.running.deps.db, 'alice', 'alice-key-000000001');
});
afterAll(async () => {
  await aisbf?.close();
  await fake?.close();
});

function rowsOf(requestId: string): UsageRow[] {
  const acc = aisbf.running.deps.accounting!;
  acc.writer.flush();
  return acc.usage.forRequest(requestId);
}
const own = (id: string) => rowsOf(id).find((r) => r.request_id === id);
const reply = (text: string, prompt_tokens: number, completion_tokens: number) => fake.enqueue({ type: 'reply', text, usage: { prompt_tokens, completion_tokens } });
const post = (path: string, id: string, body: unknown) =>
  fetch(`${aisbf.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': id }, body: JSON.stringify(body) });

describe('usage records of every route family', () => {
  it('records each route once, with its route name, exact cost and internal calls under their parent', async () => {
    const expected: Array<{ id: string; route: string; model: string; prompt: number; completion: number; cost: number }> = [];

    reply('chat', 100, 10);
    expect((await v1.chat.completions.create({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'f-chat' } })).choices[0]!.message.content).toBe('chat');
    expected.push({ id: 'f-chat', route: 'chat', model: 'gpt-4o', prompt: 100, completion: 10, cost: chatCost(100, 10) });

    reply('by id', 200, 20);
    expect((await post('/api/openai/chat/completions', 'f-api-id', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })).status).toBe(200);
    expected.push({ id: 'f-api-id', route: 'chat', model: 'gpt-4o', prompt: 200, completion: 20, cost: chatCost(200, 20) });

    // The fake reports 3 tokens per embedding input.
    await v1.embeddings.create({ model: 'openai/text-embedding-3-small', input: ['a'] }, { headers: { 'x-request-id': 'f-embed' } });
    expected.push({ id: 'f-embed', route: 'embeddings', model: 'text-embedding-3-small', prompt: 3, completion: 0, cost: 300 / 1e6 });

    reply('platform answer', 300, 30);
    const llm = await post('/api/llm', 'f-llm', { messages: [{ role: 'user', content: 'hi' }] });
    expect(llm.status).toBe(200);
    expect(((await llm.json()) as any).response).toBe('platform answer');
    expected.push({ id: 'f-llm', route: 'platform', model: 'gpt-4o', prompt: 300, completion: 30, cost: chatCost(300, 30) });

    expect((await post('/api/embedding', 'f-pembed', { text: 'hello' })).status).toBe(200);
    expected.push({ id: 'f-pembed', route: 'platform', model: 'text-embedding-3-small', prompt: 3, completion: 0, cost: 300 / 1e6 });

    reply('{"label":"mug","confidence":80,"predictions":[{"label":"mug","confidence":80}]}', 400, 40);
    expect((await post('/analyze', 'f-analyze', { image: makeTestFrame(2).bytes.toString('base64') })).status).toBe(200);
    expected.push({ id: 'f-analyze', route: 'visionai', model: 'gpt-4o', prompt: 400, completion: 40, cost: chatCost(400, 40) });

    reply('A responses answer', 500, 50);
    const resp = await v1.responses.create({ model: 'openai/gpt-4o', input: 'hi', store: false }, { headers: { 'x-request-id': 'f-responses' } });
    expect(resp.output_text).toBe('A responses answer');
    expected.push({ id: 'f-responses', route: 'responses', model: 'gpt-4o', prompt: 500, completion: 50, cost: chatCost(500, 50) });

    reply('A messages answer', 600, 60);
    const anthropic = new Anthropic({ baseURL: aisbf.url, apiKey: 'unused', maxRetries: 0 });
    const msg = await anthropic.messages.create({ model: 'openai/gpt-4o', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'f-messages' } });
    expect(msg.content[0]).toMatchObject({ type: 'text', text: 'A messages answer' });
    expected.push({ id: 'f-messages', route: 'messages', model: 'gpt-4o', prompt: 600, completion: 60, cost: chatCost(600, 60) });

    // Condensation: the helper (gpt-4o-mini) is called first, then the model with the condensed prompt.
    reply('[summary]', 700, 7);
    reply('condensed answer', 70, 7);
    const long = Array.from({ length: 8 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `turn ${i} ${'words '.repeat(40)}` })) as OpenAI.ChatCompletionMessageParam[];
    const cond = await v1.chat.completions.create({ model: 'openai/conv', messages: [...long, { role: 'user', content: 'now?' }] }, { headers: { 'x-request-id': 'f-condense' } });
    expect(cond.choices[0]!.message.content).toBe('condensed answer');
    // The model's own prompt count is what was sent after condensation (usage.effective_context).
    const condensed = own('f-condense')!;
    expected.push({ id: 'f-condense', route: 'chat', model: 'conv', prompt: 70, completion: 7, cost: chatCost(70, 7) });

    // Glasses: the one cascade member answers (a lone member needs no YES/NO check).
    reply('A red mug.', 800, 80);
    const glasses = await fetch(`${aisbf.url}/process`, { method: 'POST', headers: { 'x-request-id': 'f-glasses' }, body: processForm({ image: makeJpeg(64, 48), username: 'alice', authKey: 'alice-key-000000001' }) });
    expect(glasses.status).toBe(200);
    expect(((await glasses.json()) as any).answer).toBe('A red mug.');

    for (const e of expected) {
      const row = own(e.id);
      expect(row, e.id).toMatchObject({ route: e.route, provider: 'openai', model: e.model, status: 200, prompt_tokens: e.prompt, completion_tokens: e.completion, parent_id: null });
      expect(row!.cost_usd, e.id).toBeCloseTo(e.cost, 12);
    }
    expect(condensed.effective_context).toBeGreaterThan(0);

    // Internal calls: recorded as such, under the request that caused them, each priced.
    const helper = rowsOf('f-condense').filter((r) => r.parent_id === 'f-condense');
    expect(helper).toHaveLength(1);
    expect(helper[0]).toMatchObject({ route: 'internal:condense', provider: 'openai', model: 'gpt-4o-mini', prompt_tokens: 700, completion_tokens: 7 });
    expect(helper[0]!.cost_usd).toBeCloseTo(707 / 1e6, 12);
    const cascade = rowsOf('f-glasses').filter((r) => r.parent_id === 'f-glasses');
    expect(cascade.map((r) => `${r.route} ${r.prompt_tokens}/${r.completion_tokens}`)).toEqual(['internal:glasses 800/80']);
    const glassesCost = chatCost(800, 80);
    // The /process request's own record: no model of its own, its tokens are in the calls above.
    expect(own('f-glasses')).toMatchObject({ route: 'glasses', parent_id: null, status: 200, provider: null, prompt_tokens: 0, error_code: null });
    expect(cascade.reduce((s, r) => s + r.cost_usd!, 0)).toBeCloseTo(glassesCost, 12);

    // /admin/usage totals are the sum of every record above; /metrics counts the same requests.
    const all: any = await (await fetch(`${aisbf.url}/admin/usage`)).json();
    const internal = [...helper, ...cascade];
    expect(all.totals.requests).toBe(expected.length + internal.length + 1);
    expect(all.totals.errors).toBe(0);
    expect(all.totals.prompt_tokens).toBe(expected.reduce((s, e) => s + e.prompt, 0) + 700 + 800);
    expect(all.totals.completion_tokens).toBe(expected.reduce((s, e) => s + e.completion, 0) + 7 + 80);
    expect(all.totals.cost_usd).toBeCloseTo(expected.reduce((s, e) => s + e.cost, 0) + 707 / 1e6 + glassesCost, 12);

    const metrics = await (await fetch(`${aisbf.url}/metrics`)).text();
    const count = (route: string, model: string) => Number(new RegExp(`^aisbf_requests_total\\{route="${route}",provider="openai",model="${model}",status_class="2xx"\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? 0);
    expect(count('chat', 'gpt-4o')).toBe(2);
    expect(count('chat', 'conv')).toBe(1);
    expect(count('embeddings', 'text-embedding-3-small')).toBe(1);
    expect(count('platform', 'gpt-4o')).toBe(1);
    expect(count('platform', 'text-embedding-3-small')).toBe(1);
    expect(count('visionai', 'gpt-4o')).toBe(1);
    expect(count('responses', 'gpt-4o')).toBe(1);
    expect(count('messages', 'gpt-4o')).toBe(1);
    expect(count('internal:condense', 'gpt-4o-mini')).toBe(1);
    expect(count('internal:glasses', 'gpt-4o')).toBe(1);
    expect(metrics).toMatch(/^aisbf_requests_total\{route="glasses",provider="none",model="none",status_class="2xx"\} 1$/m);
  });
});
