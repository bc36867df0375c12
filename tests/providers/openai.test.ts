/**
 * The shared client suite against the OpenAI provider type (and so any OpenAI-compatible endpoint).
 */
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { parseDataUrl } from '../../src/providers/fetch-image.js';
import type { ProviderFixture } from './provider-fixture.js';
import { runProviderSuite } from './provider-suite.js';

let fake: FakeOpenAI;
const KEY = 'sk-suite-openai-key-0123456789';

type Msg = { role: string; content?: unknown; tool_call_id?: string };
const messages = (body: any): Msg[] => (Array.isArray(body?.messages) ? body.messages : []);

const fixture: ProviderFixture = {
  id: 'openai',
  model: 'gpt-4o',
  supportsReasoning: true,
  providerConfig: () => ({ type: 'openai', endpoint: fake.baseURL, api_key: KEY, models: [{ name: 'gpt-4o', capabilities: ['chat', 'vision', 'tools'] }] }),
  start: async () => {
    fake = await startFakeOpenAI();
  },
  stop: () => fake.close(),
  reply: (r) =>
    fake.enqueue({
      type: 'reply',
      text: r.text ?? '',
      reasoning: r.reasoning,
      toolCalls: r.toolCalls,
      finishReason: r.finish,
      usage: r.usage ? { prompt_tokens: r.usage.input, completion_tokens: r.usage.output } : undefined,
    }),
  fail: (f, opts) => {
    switch (f) {
      case 'rate_limit':
        return fake.enqueue({ type: 'error', status: 429, message: 'Rate limit reached for requests', code: 'rate_limit_exceeded', headers: opts?.retryAfterSeconds ? { 'retry-after': String(opts.retryAfterSeconds) } : {} });
      case 'server':
        return fake.enqueue({ type: 'error', status: 500, message: 'The server had an error while processing your request.' });
      case 'bad_key':
        return fake.enqueue({ type: 'error', status: 401, message: `Incorrect API key provided: ${KEY}. You can find your API key at https://platform.openai.com/account/api-keys.`, code: 'invalid_api_key' });
      case 'unknown_model':
        return fake.enqueue({ type: 'error', status: 404, message: 'The model `no-such-model` does not exist or you do not have access to it.', code: 'model_not_found' });
    }
  },
  stallAfterFirstChunk: () => fake.enqueue({ type: 'stall' }),
  chatRequests: () => fake.chatRequests(),
  clientAborts: () => fake.clientAborts,
  nextAbort: () => fake.nextAbort(),
  systemPromptOf: (req) =>
    messages(req.body)
      .filter((m) => m.role === 'system' || m.role === 'developer')
      .map((m) => String(m.content))
      .join('\n') || undefined,
  imagesOf: (req) =>
    messages(req.body).flatMap((m) =>
      Array.isArray(m.content)
        ? (m.content as Array<{ type: string; image_url?: { url: string } }>)
            .filter((p) => p.type === 'image_url')
            .map((p) => {
              const data = parseDataUrl(p.image_url!.url);
              return data ? { mediaType: data.mediaType, base64: data.base64 } : { url: p.image_url!.url };
            })
        : [],
    ),
  toolResultsOf: (req) => messages(req.body).filter((m) => m.role === 'tool').map((m) => ({ callId: m.tool_call_id, content: String(m.content) })),
  toolNamesOf: (req) => ((req.body?.tools ?? []) as Array<{ function: { name: string } }>).map((t) => t.function.name),
  jsonModeOf: (req) => ['json_object', 'json_schema'].includes(req.body?.response_format?.type),
  samplingOf: (req) => ({
    maxTokens: req.body?.max_completion_tokens ?? req.body?.max_tokens,
    temperature: req.body?.temperature,
    topP: req.body?.top_p,
    stop: req.body?.stop === undefined ? undefined : [req.body.stop].flat(),
  }),
};

runProviderSuite(fixture);
