import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { countRequestTokens } from '../../src/tokens/count-tokens.js';
import type { ChatMessage } from '../../src/providers/provider-adapter.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { startAisbf, type TestServer } from '../helpers/aisbf-server.js';

let main: FakeOpenAI; // serves the requests
let helper: FakeOpenAI; // the condensation helper model
let aisbf: TestServer;
let client: OpenAI;

const SYSTEM: ChatMessage = { role: 'system', content: 'You are a helpful assistant.' };

/** A conversation of `turns` user/assistant pairs, then a final question. */
function conversation(turns: number): ChatMessage[] {
  const msgs: ChatMessage[] = [SYSTEM];
  for (let i = 1; i <= turns; i++) {
    msgs.push({ role: 'user', content: `Question number ${i}: please explain topic ${i} in some detail with an example.` });
    msgs.push({ role: 'assistant', content: `Answer number ${i}: topic ${i} is explained here with a fairly long paragraph and an example.` });
  }
  msgs.push({ role: 'user', content: 'Final question: which topic was the hardest?' });
  return msgs;
}

const SHORT: ChatMessage[] = [SYSTEM, { role: 'user', content: 'Hi, how are you?' }];
const EDGE_REQ: ChatMessage[] = conversation(2);
const EDGE_TOKENS = countRequestTokens({ messages: EDGE_REQ }, 'edge-at');
const cond = (method: unknown) => ({ context_size: 400, condense_context: 50, condense_method: method });

beforeAll(async () => {
  main = await startFakeOpenAI();
  helper = await startFakeOpenAI();
  aisbf = await startAisbf({
    condensation: { provider_id: 'helper', model: 'summarizer' },
    providers: {
      helper: { type: 'openai', endpoint: helper.baseURL, api_key: 'sk-helper', models: [{ name: 'summarizer' }] },
      main: {
        type: 'openai',
        endpoint: main.baseURL,
        api_key: 'sk-main',
        models: [
          { name: 'conv', ...cond('conversational') },
          { name: 'sem', ...cond('semantic') },
          { name: 'hier', ...cond('hierarchical') },
          { name: 'algo', ...cond('algoritmic') },
          { name: 'chain', ...cond(['algorithmic', 'conversational']) },
          { name: 'plain', context_size: 400 },
          // pct 100: the threshold is context_size itself.
          { name: 'edge-at', context_size: EDGE_TOKENS, condense_context: 100, condense_method: 'conversational' },
          { name: 'edge-below', context_size: EDGE_TOKENS + 1, condense_context: 100, condense_method: 'conversational' },
        ],
      },
    },
  });
  client = new OpenAI({ baseURL: `${aisbf.url}/api/main`, apiKey: 'client', maxRetries: 0 });
});
afterAll(async () => {
  await aisbf?.close();
  await main?.close();
  await helper?.close();
});
beforeEach(() => {
  main.requests.length = 0;
  helper.requests.length = 0;
  helper.setModelBehavior('summarizer', { type: 'reply', text: 'SUMMARY-TEXT' });
});

async function chat(model: string, messages: ChatMessage[], extra: Record<string, unknown> = {}) {
  const r = await client.chat.completions.create({ model, messages, ...extra } as never);
  const sent = main.chatRequests().at(-1)!.body;
  return { r: r as unknown as OpenAI.ChatCompletion & { usage: { effective_context: number; prompt_tokens: number } }, sent, sentMessages: sent.messages as ChatMessage[] };
}

describe('condensation trigger', () => {
  it('does not condense below the threshold, and effective_context is the upstream prompt count', async () => {
    const { r, sentMessages } = await chat('conv', SHORT);
    expect(sentMessages).toEqual(SHORT);
    expect(helper.chatRequests()).toHaveLength(0);
    expect(r.usage.effective_context).toBe(r.usage.prompt_tokens);
  });

  it('never condenses a model without condense settings', async () => {
    const msgs = conversation(8);
    const { sentMessages } = await chat('plain', msgs);
    expect(sentMessages).toEqual(msgs);
    expect(helper.chatRequests()).toHaveLength(0);
  });

  it('condenses at exactly floor(context_size × pct / 100) tokens, not one below', async () => {
    const at = await chat('edge-at', EDGE_REQ);
    expect(helper.chatRequests()).toHaveLength(1);
    expect(at.sentMessages).not.toEqual(EDGE_REQ);
    helper.requests.length = 0;
    const below = await chat('edge-below', EDGE_REQ);
    expect(helper.chatRequests()).toHaveLength(0);
    expect(below.sentMessages).toEqual(EDGE_REQ);
  });
});

describe('condensation methods', () => {
  it('conversational: system messages, a [CONVERSATION SUMMARY], then the last 4 messages', async () => {
    const msgs = conversation(8);
    const { r, sentMessages } = await chat('conv', msgs);
    expect(sentMessages).toEqual([SYSTEM, { role: 'system', content: '[CONVERSATION SUMMARY]\nSUMMARY-TEXT' }, ...msgs.slice(-4)]);
    const h = helper.chatRequests()[0]!.body;
    expect(h.model).toBe('summarizer');
    expect(h.temperature).toBe(0.3);
    expect(h.max_tokens).toBe(1000);
    expect(h.messages[0].content).toContain('user: Question number 1: please explain topic 1');
    expect(h.messages[0].content).not.toContain('Final question');
    expect(helper.chatRequests()[0]!.headers.authorization).toBe('Bearer sk-helper');
    // effective_context is our count of what was sent, not the upstream's.
    expect(r.usage.effective_context).toBe(countRequestTokens({ messages: sentMessages }, 'conv'));
    expect(r.usage.effective_context).toBeLessThan(countRequestTokens({ messages: msgs }, 'conv'));
  });

  it('semantic: a [RELEVANT CONTEXT] message built for the current query, then the latest turn', async () => {
    const msgs = conversation(8);
    const { sentMessages } = await chat('sem', msgs);
    expect(sentMessages).toEqual([SYSTEM, { role: 'system', content: '[RELEVANT CONTEXT]\nSUMMARY-TEXT' }, msgs.at(-1)]);
    const h = helper.chatRequests()[0]!.body;
    expect(h.temperature).toBe(0.2);
    expect(h.messages[0].content).toContain('Current query:\nFinal question: which topic was the hardest?');
  });

  it('hierarchical: summarises older turns, keeps system, the newest turns and the active task verbatim', async () => {
    const msgs = conversation(8);
    const { sentMessages } = await chat('hier', msgs);
    expect(sentMessages[0]).toEqual(SYSTEM);
    expect(sentMessages[1]).toEqual({ role: 'system', content: '[EARLIER CONVERSATION SUMMARY]\nSUMMARY-TEXT' });
    expect(sentMessages.slice(2)).toEqual(msgs.slice(-4));
    expect(sentMessages.length).toBeLessThan(msgs.length);
  });

  it('hierarchical keeps an older active task verbatim when the newest turns are tool work', async () => {
    const msgs: ChatMessage[] = [SYSTEM, ...conversation(6).slice(1, -1), { role: 'user', content: 'Task: fix the failing build in repo X.' }];
    for (let i = 0; i < 3; i++) {
      msgs.push({ role: 'assistant', content: null, tool_calls: [{ id: `c${i}`, type: 'function', function: { name: 'shell', arguments: `{"cmd":"step ${i}"}` } }] });
      msgs.push({ role: 'tool', tool_call_id: `c${i}`, content: `output of step ${i}` });
    }
    const { sentMessages } = await chat('hier', msgs);
    expect(sentMessages).toContainEqual({ role: 'user', content: 'Task: fix the failing build in repo X.' });
    expect(sentMessages[1]!.content).toMatch(/^\[EARLIER CONVERSATION SUMMARY\]/);
    assertToolPairs(sentMessages);
  });

  it('algorithmic (spelled "algoritmic"): drops short and repeated messages, squeezes blank space, keeps tool fields', async () => {
    const filler = 'This is a long enough message about the weather in Oslo and Bergen. '.repeat(6);
    const msgs: ChatMessage[] = [
      SYSTEM,
      { role: 'user', content: filler },
      { role: 'assistant', content: 'ok' },
      { role: 'user', content: filler },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'weather', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'call_9', content: 'ok' },
      { role: 'assistant', content: 'It   is\t\training.\n\n\n\nBring   a coat.' },
      { role: 'user', content: 'thanks' },
    ];
    const { sentMessages } = await chat('algo', msgs);
    expect(helper.chatRequests()).toHaveLength(0);
    expect(sentMessages).toEqual([
      SYSTEM,
      { role: 'user', content: filler.trim() },
      msgs[4],
      msgs[5],
      { role: 'assistant', content: 'It is raining.\n\nBring a coat.' },
      { role: 'user', content: 'thanks' },
    ]);
  });

  it('chains methods in the listed order: algorithmic first, then conversational on its output', async () => {
    const msgs = conversation(8);
    msgs.splice(3, 0, { role: 'user', content: 'ok' }, { role: 'assistant', content: 'sure' });
    const { sentMessages } = await chat('chain', msgs);
    expect(sentMessages[1]).toEqual({ role: 'system', content: '[CONVERSATION SUMMARY]\nSUMMARY-TEXT' });
    // The helper saw the conversation after algorithmic had dropped the short messages.
    const transcript: string = helper.chatRequests()[0]!.body.messages[0].content;
    expect(transcript).not.toMatch(/^user: ok$/m);
    expect(transcript).not.toMatch(/^assistant: sure$/m);
  });

  it('a failing method leaves the messages as they were and the request still succeeds', async () => {
    helper.setModelBehavior('summarizer', { type: 'error', status: 500, message: 'helper down' });
    const msgs = conversation(8);
    const { r, sentMessages } = await chat('conv', msgs);
    expect(helper.chatRequests()).toHaveLength(1);
    expect(sentMessages).toEqual(msgs);
    expect(r.choices[0]!.message.content).toBe('echo: Final question: which topic was the hardest?');
  });
});

/** Every tool result has its assistant tool_calls message before it, and every call has its result. */
function assertToolPairs(msgs: ChatMessage[]): void {
  const calls = new Set(msgs.flatMap((m) => m.tool_calls?.map((c) => c.id) ?? []));
  const results = new Set(msgs.filter((m) => m.role === 'tool').map((m) => m.tool_call_id));
  expect([...results].every((id) => calls.has(id!))).toBe(true);
  expect([...calls].every((id) => results.has(id))).toBe(true);
}

describe('tool-call / tool-result pairs', () => {
  it('are never split by a method that keeps the last N messages', async () => {
    const msgs: ChatMessage[] = [
      ...conversation(6).slice(0, -1),
      { role: 'user', content: 'What is the weather in Oslo and Bergen?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
          { id: 'call_b', type: 'function', function: { name: 'weather', arguments: '{"city":"Bergen"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_a', content: 'Oslo: rain' },
      { role: 'tool', tool_call_id: 'call_b', content: 'Bergen: sun' },
      { role: 'assistant', content: 'Rain in Oslo, sun in Bergen.' },
      { role: 'user', content: 'And tomorrow?' },
    ];
    for (const model of ['conv', 'sem', 'hier']) {
      const { sentMessages } = await chat(model, msgs);
      expect(sentMessages.length).toBeLessThan(msgs.length);
      assertToolPairs(sentMessages);
    }
    // "conv" keeps whole units: the tool exchange, the answer and the question.
    const { sentMessages } = await chat('conv', msgs);
    expect(sentMessages.slice(2)).toEqual(msgs.slice(-5));
  });
});

describe('effective_context', () => {
  it('is in the finish chunk of a condensed stream, as our count of what was sent', async () => {
    const msgs = conversation(8);
    const stream = await client.chat.completions.create({ model: 'conv', messages: msgs as never, stream: true });
    let usage: any;
    let text = '';
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.choices[0]?.finish_reason) usage = chunk.usage;
    }
    expect(text).toBe('echo: Final question: which topic was the hardest?');
    const sent = main.chatRequests().at(-1)!.body.messages;
    expect(usage.effective_context).toBe(countRequestTokens({ messages: sent }, 'conv'));
  });

  it('is in the include_usage chunk of an uncondensed stream', async () => {
    const stream = await client.chat.completions.create({ model: 'plain', messages: SHORT as never, stream: true, stream_options: { include_usage: true } });
    let usage: any;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    expect(usage.effective_context).toBe(usage.prompt_tokens);
  });

  it('is counted by us when the upstream reports no usage', async () => {
    main.enqueue({ type: 'reply', text: 'no usage here', extra: { usage: null } });
    const { r } = await chat('plain', SHORT);
    const expected = countRequestTokens({ messages: SHORT }, 'plain');
    expect(expected).toBeGreaterThan(10);
    expect(r.usage.effective_context).toBe(expected);
    expect(r.usage.prompt_tokens).toBe(expected);
  });
});
