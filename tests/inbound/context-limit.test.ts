/**
 * A request larger than the model's context_size, with no condensation configured, is refused before
 * any upstream call with an error that states both sizes, in each client's own envelope (never a
 * silent truncation); with a larger candidate in the rotation it fails over to that one.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { startAisbf, type TestServer } from '../helpers/aisbf-server.js';

let fake: FakeOpenAI;
let server: TestServer;
const big = 'lorem ipsum dolor sit amet '.repeat(200);

beforeAll(async () => {
  fake = await startFakeOpenAI({ models: ['tiny', 'large'] });
  server = await startAisbf({
    providers: { oai: { type: 'openai', endpoint: fake.baseURL, api_key: 'k', models: [{ name: 'tiny', context_size: 300 }, { name: 'large', context_size: 100000 }] } },
    rotations: { mixed: { model_name: 'mixed', strategy: 'priority', providers: [{ provider_id: 'oai', models: [{ name: 'tiny', weight: 10 }, { name: 'large', weight: 1 }] }] } },
  });
});

afterAll(async () => {
  await server?.close();
  await fake?.close();
});

describe('context larger than context_size', () => {
  it('Messages: 400 invalid_request_error stating both sizes, no upstream call', async () => {
    const before = fake.chatRequests().length;
    const client = new Anthropic({ baseURL: server.url, apiKey: 'x', maxRetries: 0 });
    const err = await client.messages.create({ model: 'oai/tiny', max_tokens: 10, messages: [{ role: 'user', content: big }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    const body = (err as InstanceType<typeof Anthropic.BadRequestError>).error as { type: string; error: { type: string; message: string } };
    expect(body.type).toBe('error');
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toMatch(/The request is \d+ tokens, larger than the context_size of 300 tokens/);
    expect(fake.chatRequests().length).toBe(before);
  });

  it("Responses: 400 in OpenAI's envelope with code context_length_exceeded", async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'x', maxRetries: 0 });
    const err = await client.responses.create({ model: 'oai/tiny', input: big, store: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('context_length_exceeded');
    expect((err as Error).message).toContain('context_size of 300 tokens');
  });

  it('a rotation fails over to the member whose context fits', async () => {
    fake.enqueue({ type: 'reply', text: 'served by large' });
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'x', maxRetries: 0 });
    const r = await client.responses.create({ model: 'mixed', input: big, store: false });
    expect(r.output_text).toBe('served by large');
    expect(fake.chatRequests().at(-1)!.body.model).toBe('large');
  });
});
