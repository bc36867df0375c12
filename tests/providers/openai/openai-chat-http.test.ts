/**
 * The OpenAI adapter's stream converter (openai-stream-parts.ts, opened by openai-chat-http.ts) replaying recorded SSE answers served
 * byte for byte by a fake upstream, and the request it sends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenAIAdapter } from '../../../src/providers/openai/openai-adapter.js';
import { MAX_EVENT_BYTES } from '../../../src/providers/openai/openai-stream-parts.js';
import { RawChunkPart, type ChatStreamPart } from '../../../src/providers/openai-types.js';
import { ProviderError } from '../../../src/providers/provider-error.js';
import { startReplayUpstream, type ReplayUpstream } from '../../fakes/replay-upstream.js';
import { callContext, collect, recorded, rejection, sseEvents } from '../../helpers/recorded.js';

let up: ReplayUpstream;
let adapter: OpenAIAdapter;
beforeAll(async () => {
  up = await startReplayUpstream();
  adapter = new OpenAIAdapter('oa', { endpoint: `${up.origin}/v1` });
});
afterAll(() => up.close());

const SSE = 'text/event-stream';
const req = { model: 'client-name', messages: [{ role: 'user' as const, content: 'hi' }], temperature: 0.2, logit_bias: { '50256': -100 } };

/** Raw (forwarded unparsed) chunks as their text; parsed parts as they are. */
const view = (parts: ChatStreamPart[]) => parts.map((p) => (p instanceof RawChunkPart ? { raw: p.raw } : p));
const data = (file: string) => sseEvents(recorded('openai', file)).map((e) => e.data);

async function replay(file: string): Promise<ChatStreamPart[]> {
  up.next({ contentType: SSE, body: recorded('openai', file) });
  return collect(adapter.streamChat(req, callContext({ model: 'gpt-4o-mini' })));
}

describe('OpenAI SSE → parts (recorded answers)', () => {
  it('text: content chunks go on raw, the finish chunk parsed, the usage-only chunk as usage', async () => {
    const d = data('text.sse');
    expect(view(await replay('text.sse'))).toEqual([
      { raw: d[0] },
      { raw: d[1] },
      { raw: d[2] },
      { type: 'chunk', chunk: JSON.parse(d[3]!), final: true },
      { type: 'usage', usage: JSON.parse(d[4]!).usage },
    ]);
    expect(d[5]).toBe('[DONE]');
  });

  it('sends the request as the client gave it, with the upstream model, stream and include_usage', () => {
    const sent = up.requests.at(-1)!;
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.headers.authorization).toBe('Bearer sk-test');
    expect(sent.body).toEqual({ ...req, model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true } });
  });

  it('tool-call deltas pass through raw, in order', async () => {
    const d = data('tool-call-deltas.sse');
    const parts = view(await replay('tool-call-deltas.sse'));
    expect(parts).toEqual([{ raw: d[0] }, { raw: d[1] }, { raw: d[2] }, { type: 'chunk', chunk: JSON.parse(d[3]!), final: true }, { type: 'usage', usage: JSON.parse(d[4]!).usage }]);
    const args = parts.slice(0, 3).map((p) => JSON.parse((p as { raw: string }).raw).choices[0].delta.tool_calls[0].function.arguments);
    expect(args.join('')).toBe('{"city":"Paris"}');
  });

  it('reasoning (DeepSeek-style reasoning_content): usage in the finish chunk is lifted out of it', async () => {
    const d = data('reasoning.sse');
    const last = JSON.parse(d[4]!);
    const { usage, ...withoutUsage } = last;
    expect(view(await replay('reasoning.sse'))).toEqual([{ raw: d[0] }, { raw: d[1] }, { raw: d[2] }, { raw: d[3] }, { type: 'chunk', chunk: withoutUsage, final: true }, { type: 'usage', usage }]);
  });

  it('a server without usage:null on its chunks: content raw, the usage-only final chunk is usage', async () => {
    const d = data('usage-only-final.sse');
    expect(view(await replay('usage-only-final.sse'))).toEqual([
      { raw: d[0] },
      { type: 'chunk', chunk: JSON.parse(d[1]!), final: true },
      { type: 'usage', usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } },
    ]);
  });

  it('an error event mid-stream is a server failure in the upstream’s words, after the parts before it', async () => {
    up.next({ contentType: SSE, body: recorded('openai', 'error-event.sse') });
    const got: ChatStreamPart[] = [];
    const err = await rejection(
      (async () => {
        for await (const p of adapter.streamChat(req, callContext())) got.push(p);
      })(),
    );
    expect(got).toHaveLength(1);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ kind: 'server', message: 'The server had an error while processing your request. Sorry about that!' });
  });

  it('an event that is not JSON is a malformed answer (a provider failure), not our SyntaxError', async () => {
    up.next({ contentType: SSE, body: 'data: {"id":"x","choices":[{"finish_reason":"stop"\n\n' });
    expect(await rejection(collect(adapter.streamChat(req, callContext())))).toMatchObject({ kind: 'malformed' });
  });

  it('an event that never ends is a malformed answer once it passes the bound, a line or data lines alike', async () => {
    const long = 'x'.repeat(MAX_EVENT_BYTES + 1024);
    up.next({ contentType: SSE, body: `data: ${long}` });
    expect(await rejection(collect(adapter.streamChat(req, callContext())))).toMatchObject({ kind: 'malformed', message: expect.stringContaining('longer than') });
    // Short lines, no blank line between them: one event growing without end.
    up.next({ contentType: SSE, body: `data: ${'y'.repeat(1024)}\n`.repeat(MAX_EVENT_BYTES / 1024 + 16) });
    expect(await rejection(collect(adapter.streamChat(req, callContext())))).toMatchObject({ kind: 'malformed', message: expect.stringContaining('longer than') });
  });
});

describe('OpenAI endpoint without /v1', () => {
  it('a 404 on /chat/completions names the provider and the path, and suggests /v1', async () => {
    const noV1 = new OpenAIAdapter('local-llm', { endpoint: up.origin });
    up.next({ status: 404, contentType: 'text/plain; charset=utf-8', body: '404 page not found' });
    const err = (await rejection(noV1.chat(req, callContext()))) as ProviderError;
    expect(err).toMatchObject({ kind: 'not_found', status: 404, code: 'endpoint_not_found' });
    expect(err.message).toContain("provider 'local-llm' answered 404 for the path /chat/completions itself");
    expect(err.message).toContain('may be missing its /v1');
  });

  it('a model-not-found 404 stays a model error', async () => {
    up.next({ status: 404, body: JSON.stringify({ error: { message: 'The model `nope` does not exist', type: 'invalid_request_error', code: 'model_not_found' } }) });
    expect(await rejection(adapter.chat(req, callContext()))).toMatchObject({ kind: 'not_found', code: 'model_not_found', message: 'The model `nope` does not exist' });
  });
});
