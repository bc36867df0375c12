import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { startFakeHuggingFace, type FakeHuggingFace } from '../fakes/huggingface-upstream.js';
import type { RecordedRequest } from '../fakes/fake-server.js';
import { useGateway } from '../helpers/fixture.js';
import { HuggingFaceAdapter, HUGGINGFACE_DEFAULT_ENDPOINT } from '../../src/providers/huggingface/huggingface-adapter.js';
import { ProviderError } from '../../src/providers/provider-error.js';
import { silentLogger } from '../../src/log.js';
import type { ProviderFixture } from './provider-fixture.js';
import { runProviderSuite } from './provider-suite.js';

const MODEL = 'Qwen/Qwen2.5-VL-7B-Instruct';
const TOKEN = 'hf_testTokenAbCdEf0123456789';

function huggingFaceFixture(): ProviderFixture {
  let fake: FakeHuggingFace;
  const messages = (r: RecordedRequest): any[] => r.body?.messages ?? [];
  const script = (...b: Parameters<FakeHuggingFace['enqueue']>) => {
    // Each scripted call replaces what an earlier (failed) test may have left unconsumed.
    fake.clearQueue();
    fake.enqueue(...b);
  };
  return {
    id: 'hf',
    model: MODEL,
    supportsReasoning: true,
    providerConfig: () => ({
      type: 'huggingface',
      endpoint: fake.baseURL,
      api_key: TOKEN,
      models: [{ name: MODEL, context_size: 32768, capabilities: ['chat', 'vision', 'tools'] }],
    }),
    async start() {
      fake = await startFakeHuggingFace({ models: [MODEL] });
    },
    stop: () => fake.close(),
    reply: (r) =>
      script({
        type: 'reply',
        text: r.text,
        reasoning: r.reasoning,
        toolCalls: r.toolCalls,
        finishReason: r.finish,
        usage: r.usage ? { prompt_tokens: r.usage.input, completion_tokens: r.usage.output } : undefined,
      }),
    fail(f, opts) {
      const headers: Record<string, string> = opts?.retryAfterSeconds !== undefined ? { 'retry-after': String(opts.retryAfterSeconds) } : {};
      if (f === 'rate_limit') script({ type: 'error', status: 429, body: { error: 'Rate limit reached. Please retry later.' }, headers });
      else if (f === 'server') script({ type: 'error', status: 503, body: { error: `Model ${MODEL} is currently loading`, estimated_time: 20 } });
      else if (f === 'bad_key') script({ type: 'error', status: 401, body: { error: 'Invalid credentials in Authorization header' } });
      else script({ type: 'unknown_model' });
    },
    stallAfterFirstChunk: () => script({ type: 'stall' }),
    chatRequests: () => fake.chatRequests(),
    clientAborts: () => fake.clientAborts,
    nextAbort: () => fake.nextAbort(),
    systemPromptOf: (r) => {
      const sys = messages(r).filter((m) => m.role === 'system').map((m) => m.content);
      return sys.length ? sys.join('\n') : undefined;
    },
    imagesOf: (r) =>
      messages(r)
        .flatMap((m) => (Array.isArray(m.content) ? m.content : []))
        .filter((p: any) => p.type === 'image_url')
        .map((p: any) => {
          const m = /^data:([^;]+);base64,(.*)$/.exec(p.image_url.url);
          return m ? { mediaType: m[1], base64: m[2] } : { url: p.image_url.url };
        }),
    toolResultsOf: (r) => messages(r).filter((m) => m.role === 'tool').map((m) => ({ callId: m.tool_call_id, content: m.content })),
    toolNamesOf: (r) => (r.body?.tools ?? []).map((t: any) => t.function.name),
    jsonModeOf: (r) => ['json_object', 'json_schema'].includes(r.body?.response_format?.type),
    samplingOf: (r) => ({ maxTokens: r.body?.max_tokens, temperature: r.body?.temperature, topP: r.body?.top_p, stop: r.body?.stop }),
  };
}

runProviderSuite(huggingFaceFixture());

describe('Hugging Face router specifics', () => {
  const last = () => gw.fake.chatRequests().at(-1)!;
  const ctx = () => ({ model: MODEL, apiKey: TOKEN, signal: new AbortController().signal, timeoutMs: 5000, log: silentLogger });
  const failWith = async (b: Parameters<FakeHuggingFace['enqueue']>[0]): Promise<ProviderError> => {
    gw.fake.enqueue(b);
    const err = await adapter().chat({ model: MODEL, messages: [{ role: 'user', content: 'x' }] }, ctx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    return err as ProviderError;
  };

  const gw = useGateway({
    fake: () => startFakeHuggingFace({ models: [MODEL, 'deepseek-ai/DeepSeek-R1'] }),
    config: (f) => ({ providers: { huggingface: { type: 'huggingface', endpoint: f.baseURL, api_key: TOKEN, models: [{ name: MODEL }] } } }),
    base: '/api/huggingface',
  });
  const adapter = () => new HuggingFaceAdapter('hf', { endpoint: gw.fake.baseURL });

  it('defaults to the router endpoint', () => {
    expect(new HuggingFaceAdapter('hf', {}).endpoint).toBe('https://router.huggingface.co/v1');
    expect(HUGGINGFACE_DEFAULT_ENDPOINT).toBe('https://router.huggingface.co/v1');
  });

  it('sends the HF token as a Bearer, developer messages as system, max_completion_tokens as max_tokens', async () => {
    await gw.client.chat.completions.create({
      model: MODEL,
      messages: [
        { role: 'developer', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
      ],
      max_completion_tokens: 64,
    });
    const req = last();
    expect(req.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(req.body.messages[0]).toEqual({ role: 'system', content: 'Be brief.' });
    expect(req.body.max_tokens).toBe(64);
    expect(req.body.max_completion_tokens).toBeUndefined();
  });

  it('keeps the message of a string-form error body ({"error": "…"})', async () => {
    gw.fake.enqueue({ type: 'error', status: 500, body: { error: 'Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096' } });
    const err = (await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(502);
    expect((err.error as { message: string }).message).toContain('Input validation error: `inputs` tokens');
  });

  it('answers 503 with Retry-After from estimated_time while the model is loading', async () => {
    gw.fake.enqueue({ type: 'error', status: 503, body: { error: `Model ${MODEL} is currently loading`, estimated_time: 19.4 } });
    const err = (await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(503);
    expect(err.headers?.get('retry-after')).toBe('20');
    expect((err.error as { message: string }).message).toContain('is currently loading');
  });

  it('classifies HF error shapes: loading → server with retryAfterMs, 402 credits → auth, unknown model → not_found', async () => {
    const loading = await failWith({ type: 'error', status: 503, body: { error: 'Model is currently loading', estimated_time: 7 } });
    expect(loading).toMatchObject({ kind: 'server', status: 503, retryAfterMs: 7000, code: 'model_loading', message: 'Model is currently loading' });
    const credits = await failWith({ type: 'error', status: 402, body: { error: 'You have exceeded your monthly included credits for Inference Providers.' } });
    expect(credits).toMatchObject({ kind: 'auth', status: 402 });
    expect(credits.message).toContain('exceeded your monthly included credits');
    const unsupported = await failWith({
      type: 'error',
      status: 400,
      body: { error: { message: "The requested model 'x/y' is not supported by any provider you have enabled.", type: 'invalid_request_error', param: 'model', code: 'model_not_supported' } },
    });
    expect(unsupported).toMatchObject({ kind: 'not_found', status: 404, code: 'model_not_supported' });
  });

  it('reads {"message"}, {"detail"} and non-JSON error bodies', async () => {
    expect((await failWith({ type: 'error', status: 400, body: { message: 'Model requires a Pro subscription' } })).message).toBe('Model requires a Pro subscription');
    const detail = await failWith({ type: 'error', status: 422, body: { detail: [{ loc: ['body', 'messages'], msg: 'Field required', type: 'missing' }] } });
    expect(detail).toMatchObject({ kind: 'bad_request', status: 422, message: 'Field required' });
    const html = await failWith({ type: 'error', status: 502, raw: '<html><body><h1>502 Bad Gateway</h1></body></html>' });
    expect(html).toMatchObject({ kind: 'server', message: '502 Bad Gateway' });
  });

  it('turns an {"error": "…"} event inside the stream into an SSE error frame with that message', async () => {
    gw.fake.enqueue({ type: 'mid_stream_error', afterChunks: 1, message: 'Request failed during generation: Server error: CUDA out of memory' });
    const res = await fetch(`${gw.aisbf.url}/api/huggingface/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'x' }], stream: true }),
    });
    const body = await res.text();
    expect(body).toContain('"content":"part0 "');
    expect(body).toContain('Request failed during generation: Server error: CUDA out of memory');
    expect(body).not.toContain('\\"Request failed');
    expect(body.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('lists the router models', async () => {
    const { data, response } = await gw.client.models.list().withResponse();
    expect(response.headers.get('x-aisbf-models-source')).toBe('upstream');
    expect(data.data.map((m) => m.id)).toEqual(expect.arrayContaining([MODEL, 'deepseek-ai/DeepSeek-R1']));
  });
});
