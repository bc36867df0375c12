/**
 * @module A fake OpenAI-compatible upstream that speaks OpenAI's wire format faithfully:
 * `chat.completion` JSON, `chat.completion.chunk` SSE (role chunk first, `usage: null` on every chunk
 * when `stream_options.include_usage` is set, then a `choices: []` usage chunk, then `data: [DONE]`),
 * `{"error":{message,type,param,code}}` error bodies, `/v1/models`, `/v1/embeddings`.
 * Images, audio and video jobs live in openai-capabilities.ts (scripted with `enqueueFor`/`setEndpointBehavior`).
 *
 * Behaviour is scripted per request: `fake.enqueue(b)` queues behaviours consumed in order (a model
 * name can also have its own queue); with nothing queued it echoes the last user message.
 */
import type { ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { startFakeServer, sendJson, sleep, type FakeServer, type RecordedRequest } from './fake-server.js';
import { embeddingBehavior, encodeEmbedding, handleCapability, newCapabilityState, sendCapabilityBehavior, type CapabilityBehavior, type CapabilityEndpoint, type CapabilityState } from './openai-capabilities.js';

export type FakeToolCall = { id: string; name: string; arguments: string };

export type OpenAIBehavior =
  | { type: 'reply'; text?: string; toolCalls?: FakeToolCall[]; finishReason?: string; reasoning?: string; usage?: { prompt_tokens: number; completion_tokens: number }; chunkDelayMs?: number; headerDelayMs?: number; extra?: Record<string, unknown> }
  | { type: 'error'; status: number; message?: string; errType?: string; code?: string | null; param?: string | null; headers?: Record<string, string> }
  /** Accepts the request and never answers. */
  | { type: 'hang' }
  /** Streams `afterChunks` content chunks (each after `chunkDelayMs`, so they reach the client first), then destroys the socket. */
  | { type: 'reset'; afterChunks: number; chunkDelayMs?: number }
  /** Answers 200 with a body that is not JSON. */
  | { type: 'garbage' }
  /** Streams one content chunk ("partial") and then stalls without ending. */
  | { type: 'stall' };

export interface FakeOpenAI extends FakeServer {
  /** Base URL for an OpenAI client / providers.json endpoint: http://127.0.0.1:PORT/v1 */
  baseURL: string;
  enqueue(...b: OpenAIBehavior[]): void;
  /** Behaviour for every request to one model, until cleared. */
  setModelBehavior(model: string, b: OpenAIBehavior | undefined): void;
  chatRequests(): RecordedRequest[];
  models: string[];
  /** Non-chat endpoints (images, audio, videos, embeddings): queued behaviours, consumed in order. */
  enqueueFor(endpoint: CapabilityEndpoint, ...b: CapabilityBehavior[]): void;
  /** Behaviour for every request to one non-chat endpoint, until cleared. */
  setEndpointBehavior(endpoint: CapabilityEndpoint, b: CapabilityBehavior | undefined): void;
  /** Video jobs, transcript text and video size of the non-chat endpoints. */
  capabilities: CapabilityState;
}

const ERROR_TYPES: Record<number, string> = { 400: 'invalid_request_error', 401: 'invalid_request_error', 403: 'invalid_request_error', 404: 'invalid_request_error', 429: 'requests', 500: 'server_error', 503: 'server_error' };

function lastUserText(body: any): string {
  const msgs: any[] = Array.isArray(body?.messages) ? body.messages : [];
  for (let i = msgs.length - 1; i >= 0; i--) {
    const m = msgs[i];
    if (m.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    if (Array.isArray(m.content)) return m.content.filter((p: any) => p.type === 'text').map((p: any) => p.text).join(' ');
  }
  return '';
}

/** A rough, deterministic prompt count (4 characters a token), as upstreams report their own. */
export function fakePromptTokens(body: any): number {
  return Math.max(1, Math.ceil(JSON.stringify(body?.messages ?? '').length / 4));
}

export async function startFakeOpenAI(opts: { models?: string[] } = {}): Promise<FakeOpenAI> {
  const queue: OpenAIBehavior[] = [];
  const perModel = new Map<string, OpenAIBehavior>();
  const models = opts.models ?? ['gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small'];
  const fingerprint = `fp_${randomBytes(5).toString('hex')}`;
  const caps = newCapabilityState();

  const server = await startFakeServer(async (req, res) => {
    if (req.method === 'GET' && req.path === '/v1/models') {
      return sendJson(res, 200, { object: 'list', data: models.map((id) => ({ id, object: 'model', created: 1715367049, owned_by: 'system' })) });
    }
    if (req.method === 'POST' && req.path === '/v1/embeddings') {
      const scripted = embeddingBehavior(caps);
      if (scripted) return sendCapabilityBehavior(res, scripted);
      const input = req.body?.input;
      const inputs: unknown[] = Array.isArray(input) ? input : [input];
      return sendJson(res, 200, {
        object: 'list',
        data: inputs.map((_, index) => ({ object: 'embedding', index, embedding: encodeEmbedding([0.1 * (index + 1), 0.2, 0.3], req.body?.encoding_format) })),
        model: req.body?.model,
        usage: { prompt_tokens: inputs.length * 3, total_tokens: inputs.length * 3 },
      });
    }
    if (await handleCapability(req, res, caps)) return;
    if (req.method === 'POST' && req.path === '/v1/chat/completions') {
      const b = perModel.get(req.body?.model) ?? queue.shift() ?? { type: 'reply' };
      return chat(req, res, b);
    }
    sendJson(res, 404, { error: { message: `Invalid URL (${req.method} ${req.path})`, type: 'invalid_request_error', param: null, code: null } });
  });

  async function chat(req: RecordedRequest, res: ServerResponse, b: OpenAIBehavior): Promise<void> {
    const body = req.body ?? {};
    if (b.type === 'error') {
      return sendJson(
        res,
        b.status,
        { error: { message: b.message ?? `fake error ${b.status}`, type: b.errType ?? ERROR_TYPES[b.status] ?? 'server_error', param: b.param ?? null, code: b.code ?? null } },
        b.headers,
      );
    }
    if (b.type === 'hang') return; // never answers
    if (b.type === 'garbage') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('<html>502 Bad Gateway</html>');
      return;
    }
    const reply = b.type === 'reply' ? b : { type: 'reply' as const, chunkDelayMs: b.type === 'reset' ? b.chunkDelayMs : undefined };
    if (reply.headerDelayMs) await sleep(reply.headerDelayMs);
    const text = reply.text ?? `echo: ${lastUserText(body)}`;
    const toolCalls = reply.toolCalls;
    const finish = reply.finishReason ?? (toolCalls?.length ? 'tool_calls' : 'stop');
    const prompt = reply.usage?.prompt_tokens ?? fakePromptTokens(body);
    const completion = reply.usage?.completion_tokens ?? Math.max(1, Math.ceil(text.length / 4));
    const usage = {
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    };
    const id = `chatcmpl-${randomBytes(12).toString('base64url')}`;
    const created = Math.floor(Date.now() / 1000);
    const model = `${body.model}-2024-08-06`;

    if (!body.stream) {
      const message: Record<string, unknown> = { role: 'assistant', content: toolCalls?.length ? null : text, refusal: null, annotations: [] };
      if (toolCalls?.length) message.tool_calls = toolCalls.map((t) => ({ id: t.id, type: 'function', function: { name: t.name, arguments: t.arguments } }));
      if (reply.reasoning) message.reasoning_content = reply.reasoning;
      return sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
        usage,
        service_tier: 'default',
        system_fingerprint: fingerprint,
        ...reply.extra,
      });
    }

    const includeUsage = body.stream_options?.include_usage === true;
    if (b.type === 'stall') {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta: { role: 'assistant', content: 'partial' }, logprobs: null, finish_reason: null }] })}\n\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const send = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, service_tier: 'default', system_fingerprint: fingerprint, choices, ...(includeUsage ? { usage: null } : {}), ...extra })}\n\n`);
    const delta = (d: Record<string, unknown>, finish_reason: string | null = null) => send([{ index: 0, delta: d, logprobs: null, finish_reason }]);

    delta({ role: 'assistant', content: '', refusal: null });
    if (reply.reasoning) delta({ reasoning_content: reply.reasoning });
    const pieces = toolCalls?.length ? [] : splitText(text);
    let sent = 0;
    for (const piece of pieces) {
      if (b.type === 'reset' && sent >= b.afterChunks) {
        if (reply.chunkDelayMs) await sleep(reply.chunkDelayMs); // let the chunks sent so far arrive
        res.socket?.destroy();
        return;
      }
      if (reply.chunkDelayMs) await sleep(reply.chunkDelayMs);
      if (res.destroyed) return;
      delta({ content: piece });
      sent++;
    }
    if (b.type === 'reset') {
      res.socket?.destroy();
      return;
    }
    toolCalls?.forEach((t, index) => {
      delta({ tool_calls: [{ index, id: t.id, type: 'function', function: { name: t.name, arguments: '' } }] });
      const half = Math.ceil(t.arguments.length / 2);
      delta({ tool_calls: [{ index, function: { arguments: t.arguments.slice(0, half) } }] });
      delta({ tool_calls: [{ index, function: { arguments: t.arguments.slice(half) } }] });
    });
    delta({}, finish);
    if (includeUsage) res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, service_tier: 'default', system_fingerprint: fingerprint, choices: [], usage })}\n\n`);
    res.end('data: [DONE]\n\n');
  }

  return Object.assign(server, {
    baseURL: `${server.origin}/v1`,
    models,
    enqueue: (...b: OpenAIBehavior[]) => void queue.push(...b),
    setModelBehavior: (model: string, b: OpenAIBehavior | undefined) => void (b ? perModel.set(model, b) : perModel.delete(model)),
    chatRequests: () => server.requests.filter((r) => r.path === '/v1/chat/completions'),
    capabilities: caps,
    enqueueFor: (endpoint: CapabilityEndpoint, ...b: CapabilityBehavior[]) => {
      const q = caps.queues.get(endpoint) ?? [];
      q.push(...b);
      caps.queues.set(endpoint, q);
    },
    setEndpointBehavior: (endpoint: CapabilityEndpoint, b: CapabilityBehavior | undefined) => void (b ? caps.fixed.set(endpoint, b) : caps.fixed.delete(endpoint)),
  });
}

/** Splits text into word-sized pieces, as a model streams. */
export function splitText(text: string): string[] {
  const out = text.match(/\S+\s*|\s+/g) ?? [];
  return out.length ? out : [''];
}
