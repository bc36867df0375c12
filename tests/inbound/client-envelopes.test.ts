/**
 * Errors in the client's own envelope, however early they happen: the auth guard's 401 and an
 * unknown path under /v1/messages answer Anthropic's `{"type":"error"}` (the SDK raises its typed
 * errors), Responses and chat keep OpenAI's. Tool output nested 10,000 deep is a 400 naming the
 * field on all three APIs (it used to overflow the Gemini SDK: a 500), and a `provider/model` whose
 * provider part is an Object prototype key is an unknown model, not a disabled provider.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAisbf, type TestServer } from '../helpers/aisbf-server.js';
import { geminiUpstream, openaiUpstream } from './upstreams.js';

const TOKEN = 'static-token-envelopes';
const gem = geminiUpstream();
const oai = openaiUpstream();
let server: TestServer;

beforeAll(async () => {
  await gem.start();
  await oai.start();
  server = await startAisbf({
    providers: { gem: gem.providerConfig(), oai: oai.providerConfig() },
    aisbf: { auth: { enabled: true, tokens: [TOKEN] } },
  });
});

afterAll(async () => {
  await server?.close();
  await gem.stop();
  await oai.stop();
});

function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

const deep = '['.repeat(10_000) + ']'.repeat(10_000);

describe('auth errors in the client’s envelope', () => {
  it('/v1/messages and count_tokens: 401 authentication_error in Anthropic’s envelope; the SDK raises AuthenticationError', async () => {
    const body = { model: 'oai/gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };
    for (const path of ['/v1/messages', '/v1/messages/count_tokens', '/api/oai/messages']) {
      const res = await post(path, body, { 'x-api-key': 'sk-wrong', 'anthropic-version': '2023-06-01' });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error', message: expect.any(String) } });
    }
    const sdk = new Anthropic({ baseURL: server.url, apiKey: 'sk-wrong', maxRetries: 0 });
    await expect(sdk.messages.create(body as Anthropic.MessageCreateParamsNonStreaming)).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it('/v1/responses and chat: 401 in OpenAI’s envelope', async () => {
    for (const path of ['/v1/responses', '/v1/chat/completions']) {
      const res = await post(path, { model: 'oai/gpt-4o-mini', input: 'hi', messages: [{ role: 'user', content: 'hi' }] });
      expect(res.status).toBe(401);
      const json = (await res.json()) as { error: { message: string; type: string } };
      expect(json.error.type).toBe('authentication_error');
      expect(json).not.toHaveProperty('type');
    }
  });

  it('an unknown path under /v1/messages is a 404 not_found_error in Anthropic’s envelope', async () => {
    const res = await post('/v1/messages/batches', {}, { 'x-api-key': TOKEN });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error', message: expect.stringContaining('/v1/messages/batches') } });
  });

  it('a valid key in x-api-key serves the Messages request', async () => {
    oai.reply({ text: 'authorised' });
    const sdk = new Anthropic({ baseURL: server.url, apiKey: TOKEN, maxRetries: 0 });
    const msg = await sdk.messages.create({ model: 'oai/gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    expect(msg.content).toEqual([{ type: 'text', text: 'authorised' }]);
  });
});

describe('tool output nested 10,000 deep', () => {
  const auth = { authorization: `Bearer ${TOKEN}` };

  it('chat: a role:tool content is a 400 naming it, and Gemini is never called', async () => {
    const before = gem.requests().length;
    const messages = [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: deep },
    ];
    const res = await post('/v1/chat/completions', { model: 'gem/gemini-2.5-flash', messages }, auth);
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error).toMatchObject({ code: 'json_too_deep', param: 'messages[2].content' });
    expect(gem.requests().length).toBe(before);
  });

  it('plain text and shallow JSON tool output still reach Gemini', async () => {
    gem.reply({ text: 'fine' });
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: TOKEN, maxRetries: 0 });
    const r = await client.chat.completions.create({
      model: 'gem/gemini-2.5-flash',
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: `{"rows":[[1,2],[3,4]],"note":"${'['.repeat(200)}"}` },
      ],
    });
    expect(r.choices[0]!.message.content).toBe('fine');
  });

  it('Responses: function_call arguments and function_call_output are 400s naming the item', async () => {
    const call = { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' };
    const a = await post('/v1/responses', { model: 'gem/gemini-2.5-flash', input: [{ ...call, arguments: deep }, { type: 'function_call_output', call_id: 'c1', output: 'x' }] }, auth);
    expect(a.status).toBe(400);
    expect(((await a.json()) as any).error.param).toBe('input[0].arguments');
    const b = await post('/v1/responses', { model: 'gem/gemini-2.5-flash', input: [call, { type: 'function_call_output', call_id: 'c1', output: deep }] }, auth);
    expect(b.status).toBe(400);
    expect(((await b.json()) as any).error.param).toBe('input[1].output');
  });

  it('Messages: a tool_result is a 400 in Anthropic’s envelope naming the block', async () => {
    const res = await post(
      '/v1/messages',
      {
        model: 'gem/gemini-2.5-flash',
        max_tokens: 10,
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'f', input: {} }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: deep }] },
        ],
      },
      { 'x-api-key': TOKEN },
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('messages.2.content.0.content') } });
  });
});

describe('provider/model parsing', () => {
  it('"constructor/x" names no provider: 400 model_not_found, not a disabled provider', async () => {
    const res = await post('/v1/chat/completions', { model: 'constructor/x', messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${TOKEN}` });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).toBe('model_not_found');
  });
});
