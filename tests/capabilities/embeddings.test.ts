import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { errorOf } from './error-body.js';
import { useGateway } from '../helpers/fixture.js';

const sdk = (base: string) => gw.sdk(base);

const gw = useGateway({
  fake: async () => ({ a: await startFakeOpenAI(), b: await startFakeOpenAI() }),
  config: ({ a: fakeA, b: fakeB }) => ({
    providers: {
      openai: { type: 'openai', endpoint: fakeA.baseURL, api_key: 'sk-test-a-123456', models: [{ name: 'text-embedding-3-small', capabilities: ['embeddings'] }, { name: 'gpt-4o' }] },
      backup: { type: 'openai', endpoint: fakeB.baseURL, api_key: 'sk-test-b-123456', models: [{ name: 'text-embedding-3-small', capabilities: ['embeddings'] }] },
      claude: { type: 'anthropic', endpoint: 'http://127.0.0.1:9', api_key: 'sk-ant-test-123456', models: [{ name: 'claude-sonnet-4-6' }] },
    },
    rotations: {
      embed: {
        strategy: 'priority',
        providers: [
          { provider_id: 'openai', models: [{ name: 'text-embedding-3-small', weight: 10 }, { name: 'gpt-4o', weight: 20 }] },
          { provider_id: 'backup', models: [{ name: 'text-embedding-3-small', weight: 1 }] },
        ],
      },
      chatonly: { providers: [{ provider_id: 'openai', models: [{ name: 'gpt-4o', weight: 1 }] }] },
      mixed: {
        strategy: 'priority',
        providers: [
          // Declares embeddings, but the Anthropic adapter has none: skipped without a call.
          { provider_id: 'claude', models: [{ name: 'claude-sonnet-4-6', weight: 10, capabilities: ['embeddings'] }] },
          { provider_id: 'backup', models: [{ name: 'text-embedding-3-small', weight: 1 }] },
        ],
      },
    },
    autoselect: { auto: { selection_model: 'chatonly', fallback: 'embed', available_models: [{ model_id: 'chatonly', description: 'chat' }] } },
  }),
});

describe('embeddings through the openai SDK', () => {
  it('serves a direct provider request, decoding the SDK default base64 back to floats', async () => {
    const { data: r, response } = await sdk('/api/openai').embeddings.create({ model: 'text-embedding-3-small', input: ['one', 'two'] }).withResponse();
    expect(r.data).toHaveLength(2);
    expect(r.data[1]!.embedding[0]).toBeCloseTo(0.2, 5);
    expect(r.usage.prompt_tokens).toBe(6);
    expect(response.headers.get('x-aisbf-provider')).toBe('openai');
    const sent = gw.fake.a.requests.at(-1)!;
    expect(sent.path).toBe('/v1/embeddings');
    expect(sent.body.encoding_format).toBe('base64');
    expect(sent.headers.authorization).toBe('Bearer sk-test-a-123456');
  });

  it('asks the upstream for floats when the client names no format (OpenAI\'s default)', async () => {
    const res = await fetch(`${gw.aisbf.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'openai/text-embedding-3-small', input: 'hi' }) });
    const body = (await res.json()) as { data: Array<{ embedding: number[] }> };
    expect(body.data[0]!.embedding).toEqual([0.1, 0.2, 0.3]);
    expect(gw.fake.a.requests.at(-1)!.body.encoding_format).toBe('float');
  });

  it('returns floats to a client that asks for float', async () => {
    const r = await sdk('/v1').embeddings.create({ model: 'openai/text-embedding-3-small', input: 'hi', encoding_format: 'float' });
    expect(r.data[0]!.embedding).toEqual([0.1, 0.2, 0.3]);
    expect(gw.fake.a.requests.at(-1)!.body.model).toBe('text-embedding-3-small');
  });

  it('serves a rotation only from candidates that declare embeddings (the chat model is skipped)', async () => {
    const before = gw.fake.a.requests.length;
    const { response } = await sdk('/api/rotations').embeddings.create({ model: 'embed', input: 'x' }).withResponse();
    expect(response.headers.get('x-aisbf-model')).toBe('text-embedding-3-small');
    expect(gw.fake.a.requests.slice(before).map((r) => r.body.model)).toEqual(['text-embedding-3-small']);
  });

  it('fails over inside a rotation when the first provider errors', async () => {
    gw.fake.a.enqueueFor('embeddings', { type: 'error', status: 500, message: 'boom' });
    const { response } = await sdk('/v1').embeddings.create({ model: 'embed', input: 'x' }).withResponse();
    expect(response.headers.get('x-aisbf-provider')).toBe('backup');
    expect(response.headers.get('x-aisbf-attempts')).toBe('2');
  });

  it('skips a rotation candidate whose adapter has no embeddings', async () => {
    const { response } = await sdk('/v1').embeddings.create({ model: 'mixed', input: 'x' }).withResponse();
    expect(response.headers.get('x-aisbf-provider')).toBe('backup');
    expect(response.headers.get('x-aisbf-attempts')).toBe('1');
  });

  it('an autoselect id uses its fallback for embeddings', async () => {
    const chatCalls = gw.fake.a.chatRequests().length;
    const { data, response } = await sdk('/api/auto').embeddings.create({ model: 'ignored', input: 'x' }).withResponse();
    // The fallback rotation 'embed' serves (its first candidate that can embed), without asking the selector.
    expect(response.headers.get('x-aisbf-provider')).toBe('openai');
    expect(response.headers.get('x-aisbf-model')).toBe('text-embedding-3-small');
    expect(data.data).toHaveLength(1);
    expect(gw.fake.a.chatRequests()).toHaveLength(chatCalls);
  });

  it('passes an upstream 400 through without failover', async () => {
    gw.fake.a.enqueueFor('embeddings', { type: 'error', status: 400, message: "'$.input' is invalid.", param: 'input' });
    const err = await sdk('/api/openai').embeddings.create({ model: 'text-embedding-3-small', input: 'x' }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.message).toContain("'$.input' is invalid.");
  });
});

describe('embeddings: routing by capability and bad input', () => {
  it('400 names the capability and the models that could serve it when no rotation candidate declares it', async () => {
    const err = await sdk('/v1').embeddings.create({ model: 'chatonly', input: 'x' }).catch((e) => e);
    expect(err.status).toBe(400);
    expect(err.message).toContain("capability 'embeddings'");
    expect(err.message).toContain('openai/text-embedding-3-small');
    expect(err.code).toBe('unsupported_capability');
  });

  it('400 names a provider whose adapter has no embeddings', async () => {
    const err = await sdk('/api/claude').embeddings.create({ model: 'claude-sonnet-4-6', input: 'x' }).catch((e) => e);
    expect(err.status).toBe(400);
    expect(err.message).toContain("Provider 'claude' (type anthropic) does not support embeddings");
    expect(err.message).toContain('openai');
  });

  it('400 names a missing input', async () => {
    const res = await fetch(`${gw.aisbf.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'openai/text-embedding-3-small' }) });
    expect(res.status).toBe(400);
    expect((await errorOf(res))).toMatchObject({ param: 'input', code: 'missing_required_parameter', type: 'invalid_request_error' });
  });

  it('400 names an invalid encoding_format', async () => {
    const res = await fetch(`${gw.aisbf.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'openai/text-embedding-3-small', input: 'x', encoding_format: 'int8' }) });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).param).toBe('encoding_format');
  });

  it('404 for an unknown /api/{id}', async () => {
    const res = await fetch(`${gw.aisbf.url}/api/nope/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(404);
  });
});
