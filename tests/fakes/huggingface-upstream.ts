/**
 * @module A fake of Hugging Face's inference router: OpenAI-compatible `/v1/chat/completions` (JSON,
 * or `chat.completion.chunk` SSE ending with `data: [DONE]`, reasoning as `reasoning_content` as the
 * router relays it from reasoning models) and `/v1/models` (with the router's `providers` field), and
 * HF's error shapes: the router's own OpenAI envelope (unknown model: 400 `model_not_found`), and the
 * relayed forms `{"error":"…"}` (503 loading adds `estimated_time`), `{"message":"…"}`,
 * `{"detail":"…"}`, a non-JSON body, and an `{"error":"…"}` event inside a stream.
 *
 * Behaviour is scripted per request (`enqueue`), as in the OpenAI fake; with nothing queued it echoes.
 */
import type { ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { startFakeServer, sendJson, type FakeServer, type RecordedRequest } from './fake-server.js';
import { fakePromptTokens, splitText } from './openai-upstream.js';

export type HuggingFaceBehavior =
  | {
      type: 'reply';
      text?: string;
      reasoning?: string;
      toolCalls?: Array<{ id: string; name: string; arguments: string }>;
      finishReason?: string;
      usage?: { prompt_tokens: number; completion_tokens: number };
    }
  /** Any error body, sent as JSON (or as text when `raw` is set). */
  | { type: 'error'; status: number; body?: unknown; raw?: string; headers?: Record<string, string> }
  /** The router's answer to a model that does not exist. */
  | { type: 'unknown_model' }
  /** One content chunk ("partial"), then nothing, never ending. */
  | { type: 'stall' }
  /** `afterChunks` content chunks, then `data: {"error":"…"}`. */
  | { type: 'mid_stream_error'; afterChunks: number; message: string };

export interface FakeHuggingFace extends FakeServer {
  /** For providers.json `endpoint`: http://127.0.0.1:PORT/v1 */
  baseURL: string;
  enqueue(...b: HuggingFaceBehavior[]): void;
  clearQueue(): void;
  chatRequests(): RecordedRequest[];
  models: string[];
}

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

export async function startFakeHuggingFace(opts: { models?: string[] } = {}): Promise<FakeHuggingFace> {
  const queue: HuggingFaceBehavior[] = [];
  const models = opts.models ?? ['meta-llama/Llama-3.1-8B-Instruct'];

  const server = await startFakeServer(async (req, res) => {
    if (req.method === 'GET' && req.path === '/v1/models') {
      return sendJson(res, 200, {
        object: 'list',
        data: models.map((id) => ({
          id,
          object: 'model',
          created: 1721347200,
          owned_by: id.split('/')[0],
          providers: [{ provider: 'novita', status: 'live', context_length: 131072, supports_tools: true, supports_structured_output: true }],
        })),
      });
    }
    if (req.method === 'POST' && req.path === '/v1/chat/completions') return chat(req, res, queue.shift() ?? { type: 'reply' });
    sendJson(res, 404, { error: 'Not Found' });
  });

  async function chat(req: RecordedRequest, res: ServerResponse, b: HuggingFaceBehavior): Promise<void> {
    const body = req.body ?? {};
    if (b.type === 'unknown_model') {
      return sendJson(res, 400, { error: { message: `The requested model '${body.model}' does not exist.`, type: 'invalid_request_error', param: 'model', code: 'model_not_found' } });
    }
    if (b.type === 'error') {
      if (b.raw !== undefined) {
        res.writeHead(b.status, { 'content-type': 'text/html', ...b.headers });
        res.end(b.raw);
        return;
      }
      return sendJson(res, b.status, b.body ?? { error: `fake error ${b.status}` }, b.headers);
    }
    const id = `chatcmpl-${randomBytes(8).toString('hex')}`;
    const created = Math.floor(Date.now() / 1000);
    const model = String(body.model ?? '').toLowerCase();

    if (b.type === 'stall' || b.type === 'mid_stream_error') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (content: string) =>
        res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta: { role: 'assistant', content }, logprobs: null, finish_reason: null }] })}\n\n`);
      if (b.type === 'stall') {
        chunk('partial');
        return; // never ends
      }
      for (let i = 0; i < b.afterChunks; i++) chunk(`part${i} `);
      res.end(`data: ${JSON.stringify({ error: b.message })}\n\n`);
      return;
    }

    const text = b.text ?? (b.toolCalls?.length ? '' : `echo: ${lastUserText(body)}`);
    const toolCalls = b.toolCalls ?? [];
    const finish = b.finishReason ?? (toolCalls.length ? 'tool_calls' : 'stop');
    const prompt = b.usage?.prompt_tokens ?? fakePromptTokens(body);
    const completion = b.usage?.completion_tokens ?? Math.max(1, Math.ceil(text.length / 4));
    const usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };

    if (!body.stream) {
      const message: Record<string, unknown> = { role: 'assistant', content: toolCalls.length && !text ? null : text };
      if (b.reasoning) message.reasoning_content = b.reasoning;
      if (toolCalls.length) message.tool_calls = toolCalls.map((t) => ({ id: t.id, type: 'function', function: { name: t.name, arguments: t.arguments } }));
      return sendJson(res, 200, { id, object: 'chat.completion', created, model, choices: [{ index: 0, message, logprobs: null, finish_reason: finish }], usage });
    }

    const includeUsage = body.stream_options?.include_usage === true;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const delta = (d: Record<string, unknown>, finish_reason: string | null = null) =>
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta: d, logprobs: null, finish_reason }], ...(includeUsage ? { usage: null } : {}) })}\n\n`);
    delta({ role: 'assistant', content: '' });
    for (const piece of b.reasoning ? splitText(b.reasoning) : []) delta({ reasoning_content: piece });
    for (const piece of text ? splitText(text) : []) delta({ content: piece });
    toolCalls.forEach((t, index) => {
      delta({ tool_calls: [{ index, id: t.id, type: 'function', function: { name: t.name, arguments: '' } }] });
      delta({ tool_calls: [{ index, function: { arguments: t.arguments } }] });
    });
    delta({}, finish);
    if (includeUsage) res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage })}\n\n`);
    res.end('data: [DONE]\n\n');
  }

  return Object.assign(server, {
    baseURL: `${server.origin}/v1`,
    models,
    enqueue: (...b: HuggingFaceBehavior[]) => void queue.push(...b),
    clearQueue: () => void queue.splice(0),
    chatRequests: () => server.requests.filter((r) => r.path === '/v1/chat/completions'),
  });
}
