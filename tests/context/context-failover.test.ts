import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { startAisbf, type TestServer } from '../helpers/aisbf-server.js';

// Two fake providers in one rotation: a context-length error moves on only to a larger context_size.
let small: FakeOpenAI;
let big: FakeOpenAI;
let aisbf: TestServer;

const CONTEXT_ERROR = {
  type: 'error' as const,
  status: 400,
  message: "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens. Please reduce the length of the messages.",
  code: 'context_length_exceeded',
  param: 'messages',
};

beforeAll(async () => {
  small = await startFakeOpenAI();
  big = await startFakeOpenAI();
  small.setModelBehavior('eight-k', CONTEXT_ERROR);
  aisbf = await startAisbf({
    providers: {
      small: { type: 'openai', endpoint: small.baseURL, api_key: 'sk-small', models: [{ name: 'eight-k', context_size: 8192 }, { name: 'four-k', context_size: 4096 }] },
      big: { type: 'openai', endpoint: big.baseURL, api_key: 'sk-big', models: [{ name: 'long', context_size: 128000 }] },
    },
    rotations: {
      ctx: {
        strategy: 'priority',
        providers: [
          { provider_id: 'small', models: [{ name: 'eight-k', weight: 10 }, { name: 'four-k', weight: 5 }] },
          { provider_id: 'big', models: [{ name: 'long', weight: 1 }] },
        ],
      },
    },
  });
});
afterAll(async () => {
  await aisbf?.close();
  await small?.close();
  await big?.close();
});

describe('context-length errors in a rotation', () => {
  it('fail over to a candidate with a larger context_size, skipping smaller ones', async () => {
    const client = new OpenAI({ baseURL: `${aisbf.url}/api/rotations`, apiKey: 'client', maxRetries: 0 });
    const { data, response } = await client.chat.completions.create({ model: 'ctx', messages: [{ role: 'user', content: 'a very long prompt' }] }).withResponse();
    expect(data.choices[0]!.message.content).toBe('echo: a very long prompt');
    expect(response.headers.get('x-aisbf-provider')).toBe('big');
    expect(response.headers.get('x-aisbf-model')).toBe('long');
    // eight-k failed with the context error; four-k (smaller) was never tried.
    expect(small.chatRequests().map((r) => r.body.model)).toEqual(['eight-k']);
    expect(big.chatRequests()).toHaveLength(1);
  });
});
