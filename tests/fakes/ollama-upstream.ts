/**
 * @module A fake Ollama server speaking its native API faithfully (docs/api.md, api/types.go,
 * server/routes.go): `/api/chat` streams NDJSON (`application/x-ndjson`, one object a line,
 * `done:false` lines with `message.content` / `message.thinking` / `message.tool_calls`, a final
 * `done:true` line with `done_reason` and the counts) unless `stream:false` asks for one JSON object;
 * tool-call arguments are objects and calls carry `call_…` ids and `function.index`; errors are
 * `{"error":"…"}` with the status (404 `model 'x' not found` for a model that is not pulled), and an
 * error after streaming began is an `{"error":…}` line under the 200 already sent. Also `/api/tags`,
 * `/api/embed`, `/api/version`.
 *
 * Behaviour is scripted per request: `enqueue(b)` queues behaviours consumed in order; with nothing
 * queued it echoes the last user message.
 */
import type { ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { startFakeServer, sendJson, type FakeServer, type RecordedRequest } from './fake-server.js';
import { splitText } from './openai-upstream.js';

export interface OllamaFakeToolCall {
  name: string;
  /** Arguments as an object, as Ollama sends them. */
  arguments: Record<string, unknown>;
  /** Sent as the call's `id` (Ollama ≥ 0.12); omitted when undefined, as older servers do. */
  id?: string;
}

export type OllamaBehavior =
  | {
      type: 'reply';
      text?: string;
      thinking?: string;
      toolCalls?: OllamaFakeToolCall[];
      /** Ollama's done_reason: "stop" (also after tool calls) or "length". */
      doneReason?: string;
      promptEvalCount?: number;
      evalCount?: number;
    }
  | { type: 'error'; status: number; message: string; headers?: Record<string, string> }
  /** A non-JSON error page, as a proxy in front of Ollama sends. */
  | { type: 'error_page'; status: number; html: string }
  /** 404 `model '<requested>' not found`. */
  | { type: 'unknown_model' }
  /** Streams one content line ("partial") and never ends. */
  | { type: 'stall' }
  /** Streams `afterLines` content lines, then an `{"error":…}` line, then ends. */
  | { type: 'mid_stream_error'; afterLines: number; message: string };

export interface FakeOllama extends FakeServer {
  enqueue(...b: OllamaBehavior[]): void;
  /** Drops behaviours nobody consumed. */
  clearQueue(): void;
  chatRequests(): RecordedRequest[];
  embedRequests(): RecordedRequest[];
  /** Pulled models (what /api/tags lists); others answer 404. */
  models: string[];
}

const NDJSON = 'application/x-ndjson';

function lastUserText(body: any): string {
  const msgs: any[] = Array.isArray(body?.messages) ? body.messages : [];
  for (let i = msgs.length - 1; i >= 0; i--) if (msgs[i].role === 'user') return String(msgs[i].content ?? '');
  return '';
}

/** Ollama names a model `name:tag`; a bare name means `:latest`. */
function withTag(model: string): string {
  return model.includes(':') ? model : `${model}:latest`;
}

function sendError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: message }, { 'content-type': 'application/json; charset=utf-8', ...headers });
}

export async function startFakeOllama(opts: { models?: string[] } = {}): Promise<FakeOllama> {
  const queue: OllamaBehavior[] = [];
  const models = opts.models ?? ['llama3.2:latest'];
  const pulled = (m: unknown) => typeof m === 'string' && models.some((x) => withTag(x) === withTag(m));

  const server = await startFakeServer(async (req, res) => {
    if (req.method === 'GET' && req.path === '/api/version') return sendJson(res, 200, { version: '0.12.6' });
    if (req.method === 'GET' && req.path === '/api/tags') {
      return sendJson(res, 200, {
        models: models.map((name, i) => ({
          name,
          model: name,
          modified_at: `2025-0${(i % 9) + 1}-15T10:20:30.123456789+02:00`,
          size: 2019393189,
          digest: randomBytes(32).toString('hex'),
          details: { parent_model: '', format: 'gguf', family: 'llama', families: ['llama'], parameter_size: '3.2B', quantization_level: 'Q4_K_M' },
        })),
      });
    }
    if (req.method === 'POST' && req.path === '/api/embed') {
      const body = req.body ?? {};
      if (!pulled(body.model)) return sendError(res, 404, `model '${body.model}' not found`);
      const inputs: string[] = Array.isArray(body.input) ? body.input : [body.input];
      const dims = typeof body.dimensions === 'number' ? body.dimensions : 4;
      return sendJson(res, 200, {
        model: body.model,
        embeddings: inputs.map((text, i) => Array.from({ length: dims }, (_, d) => Math.round(((String(text).length + i + d) % 10) * 0.1 * 1000) / 1000)),
        total_duration: 14143917,
        load_duration: 1019500,
        prompt_eval_count: inputs.reduce((n, t) => n + Math.max(1, String(t).split(/\s+/).length), 0),
      });
    }
    if (req.method === 'POST' && req.path === '/api/chat') return chat(req, res, queue.shift());
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('404 page not found');
  });

  async function chat(req: RecordedRequest, res: ServerResponse, queued: OllamaBehavior | undefined): Promise<void> {
    const body = req.body ?? {};
    const model = String(body.model ?? '');
    if (queued?.type === 'unknown_model' || (!queued && !pulled(model))) return sendError(res, 404, `model '${model}' not found`);
    if (queued?.type === 'error') return sendError(res, queued.status, queued.message, queued.headers);
    if (queued?.type === 'error_page') {
      res.writeHead(queued.status, { 'content-type': 'text/html' });
      res.end(queued.html);
      return;
    }
    const b = queued ?? { type: 'reply' as const };
    // Ollama streams unless told `stream: false`.
    const stream = body.stream !== false;
    const now = () => new Date().toISOString();

    if (b.type === 'reply') {
      const text = b.toolCalls?.length ? (b.text ?? '') : (b.text ?? `echo: ${lastUserText(body)}`);
      const calls = (b.toolCalls ?? []).map((t, index) => ({ ...(t.id !== undefined ? { id: t.id } : {}), function: { index, name: t.name, arguments: t.arguments } }));
      const promptEvalCount = b.promptEvalCount ?? Math.max(1, Math.ceil(JSON.stringify(body.messages ?? []).length / 4));
      const evalCount = b.evalCount ?? Math.max(1, Math.ceil(text.length / 4));
      const final = {
        done: true,
        done_reason: b.doneReason ?? 'stop',
        total_duration: 4883583458,
        load_duration: 1334875,
        prompt_eval_count: promptEvalCount,
        prompt_eval_duration: 342546000,
        eval_count: evalCount,
        eval_duration: 4535599000,
      };
      if (!stream) {
        const message: Record<string, unknown> = { role: 'assistant', content: text };
        if (b.thinking) message.thinking = b.thinking;
        if (calls.length) message.tool_calls = calls;
        return sendJson(res, 200, { model, created_at: now(), message, ...final }, { 'content-type': 'application/json; charset=utf-8' });
      }
      res.writeHead(200, { 'content-type': NDJSON });
      const line = (message: Record<string, unknown>) => res.write(`${JSON.stringify({ model, created_at: now(), message: { role: 'assistant', content: '', ...message }, done: false })}\n`);
      for (const piece of b.thinking ? splitText(b.thinking) : []) line({ thinking: piece });
      for (const piece of text ? splitText(text) : []) line({ content: piece });
      // Each call in a line of its own, as Ollama's tool parser emits them.
      for (const call of calls) line({ tool_calls: [call] });
      res.end(`${JSON.stringify({ model, created_at: now(), message: { role: 'assistant', content: '' }, ...final })}\n`);
      return;
    }

    res.writeHead(200, { 'content-type': NDJSON });
    const contentLine = (content: string) => res.write(`${JSON.stringify({ model, created_at: now(), message: { role: 'assistant', content }, done: false })}\n`);
    if (b.type === 'stall') {
      contentLine('partial');
      return; // never ends
    }
    for (let i = 0; i < b.afterLines; i++) contentLine(`part${i} `);
    res.end(`${JSON.stringify({ error: b.message })}\n`);
  }

  return Object.assign(server, {
    models,
    enqueue: (...b: OllamaBehavior[]) => void queue.push(...b),
    clearQueue: () => void queue.splice(0),
    chatRequests: () => server.requests.filter((r) => r.path === '/api/chat'),
    embedRequests: () => server.requests.filter((r) => r.path === '/api/embed'),
  });
}
