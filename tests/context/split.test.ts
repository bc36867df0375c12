import OpenAI from 'openai';
import { get_encoding } from 'tiktoken';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { countRequestTokens } from '../../src/tokens/count-tokens.js';
import type { ChatMessage } from '../../src/providers/provider-adapter.js';
import { fakePromptTokens, startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { startAisbf, type TestServer } from '../helpers/aisbf-server.js';

const MAX = 300;
const cl100k = get_encoding('cl100k_base');

let up: FakeOpenAI;
let aisbf: TestServer;
let client: OpenAI;

const messages: ChatMessage[] = [{ role: 'system', content: 'You summarise documents.' }];
for (let i = 1; i <= 24; i++) messages.push({ role: 'user', content: `Section ${i}. The quarterly report describes revenue growth in region ${i}, hiring plans, supplier risks and a long list of follow-up actions for the team.` });
// The flattened conversation, built independently of our code.
const transcript = messages.map((m) => `${m.role}: ${m.content}`).join('\n');
const tools = [{ type: 'function' as const, function: { name: 'lookup', description: 'Look something up.', parameters: { type: 'object', properties: { q: { type: 'string', description: 'Query.' } } } } }];

beforeAll(async () => {
  up = await startFakeOpenAI();
  aisbf = await startAisbf({
    providers: { main: { type: 'openai', endpoint: up.baseURL, api_key: 'sk-main', models: [{ name: 'split', max_request_tokens: MAX }, { name: 'whole' }] } },
  });
  client = new OpenAI({ baseURL: `${aisbf.url}/api/main`, apiKey: 'client', maxRetries: 0 });
});
afterAll(async () => {
  await aisbf?.close();
  await up?.close();
});
beforeEach(() => {
  up.requests.length = 0;
});

function pieces(): string[] {
  return up.chatRequests().map((r) => {
    expect(r.body.messages).toHaveLength(1);
    expect(r.body.messages[0].role).toBe('user');
    return r.body.messages[0].content as string;
  });
}

function assertPieces(ps: string[]): void {
  expect(ps.length).toBeGreaterThanOrEqual(3);
  expect(transcript.startsWith(ps[0]!)).toBe(true);
  expect(transcript.endsWith(ps.at(-1)!)).toBe(true);
  for (let i = 0; i < ps.length; i++) {
    expect(transcript).toContain(ps[i]!);
    // Pieces are measured in tokens: each fits max_request_tokens with its overhead.
    expect(cl100k.encode(ps[i]!).length).toBeLessThanOrEqual(MAX - 7);
    const req = up.chatRequests()[i]!.body;
    expect(countRequestTokens({ messages: req.messages, tools: req.tools }, 'split')).toBeLessThanOrEqual(MAX);
    // Consecutive pieces overlap.
    if (i > 0) expect(ps[i - 1]!).toContain(ps[i]!.slice(0, 40));
  }
}

describe('splitting by max_request_tokens', () => {
  it('sends pieces measured in tokens, tools with the first only, and joins the outputs', async () => {
    expect(countRequestTokens({ messages }, 'split')).toBeGreaterThan(MAX * 2);
    const r = (await client.chat.completions.create({ model: 'split', messages: messages as never, tools })) as any;
    const ps = pieces();
    assertPieces(ps);
    const sent = up.chatRequests();
    expect(sent[0]!.body.tools).toEqual(tools);
    for (const s of sent.slice(1)) expect(s.body.tools).toBeUndefined();

    expect(r.id).toMatch(/^chunked-main-split-\d+$/);
    expect(r.aisbf_chunked).toBe(true);
    expect(r.aisbf_total_chunks).toBe(ps.length);
    expect(r.choices[0].message.content).toBe(ps.map((p) => `echo: ${p}`).join('\n\n'));
    const prompt = sent.reduce((n, s) => n + fakePromptTokens(s.body), 0);
    expect(r.usage.prompt_tokens).toBe(prompt);
    expect(r.usage.total_tokens).toBe(r.usage.prompt_tokens + r.usage.completion_tokens);
    expect(r.usage.effective_context).toBe(sent.reduce((n, s) => n + countRequestTokens({ messages: s.body.messages, tools: s.body.tools }, 'split'), 0));
  });

  it('does not split a request that fits, nor a model without max_request_tokens', async () => {
    await client.chat.completions.create({ model: 'split', messages: [{ role: 'user', content: 'short' }] });
    await client.chat.completions.create({ model: 'whole', messages: messages as never });
    expect(up.chatRequests().map((r) => r.body.messages.length)).toEqual([1, messages.length]);
  });

  it('returns the partial result when a later piece fails', async () => {
    up.enqueue({ type: 'reply', text: 'first' }, { type: 'reply', text: 'second' }, { type: 'error', status: 500, message: 'boom' });
    const r = (await client.chat.completions.create({ model: 'split', messages: messages as never })) as any;
    expect(up.chatRequests()).toHaveLength(3);
    expect(r.choices[0].message.content).toBe('first\n\nsecond');
    expect(r.choices[0].finish_reason).toBe('length');
    expect(r.aisbf_partial).toBe(true);
    expect(r.aisbf_total_chunks).toBeGreaterThan(3);
  });

  it('streams the pieces one after another as one answer with summed usage', async () => {
    const stream = await client.chat.completions.create({ model: 'split', messages: messages as never, stream: true, stream_options: { include_usage: true } });
    let text = '';
    const finishes: string[] = [];
    let usage: any;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason);
      if (chunk.usage) usage = chunk.usage;
    }
    const ps = pieces();
    assertPieces(ps);
    expect(text).toBe(ps.map((p) => `echo: ${p}`).join('\n\n'));
    expect(finishes).toEqual(['stop']);
    expect(usage.prompt_tokens).toBe(up.chatRequests().reduce((n, s) => n + fakePromptTokens(s.body), 0));
    expect(usage.effective_context).toBe(up.chatRequests().reduce((n, s) => n + countRequestTokens({ messages: s.body.messages }, 'split'), 0));
  });

  it('ends a stream with the partial answer when a later piece breaks', async () => {
    // The break comes after the answer's headers and first frame arrived: a reset before any byte on a
    // reused socket is resent by the upstream client (a stale keep-alive socket), so it would not break.
    up.enqueue({ type: 'reply', text: 'first piece answer' }, { type: 'reset', afterChunks: 0, chunkDelayMs: 20 });
    const stream = await client.chat.completions.create({ model: 'split', messages: messages as never, stream: true });
    let text = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe('first piece answer');
    expect(finish).toBe('length');
    expect(up.chatRequests()).toHaveLength(2);
  });
});
