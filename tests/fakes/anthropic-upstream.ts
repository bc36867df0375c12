/**
 * @module A fake Anthropic API that speaks the Messages API wire format faithfully (checked against
 * `@anthropic-ai/sdk` 1.12 types and Anthropic's streaming docs): `POST /v1/messages` answering a
 * `message` JSON or SSE (`event: <name>\ndata: {...}\n\n`: message_start, content_block_start, ping,
 * content_block_delta with text_delta / thinking_delta / signature_delta / input_json_delta,
 * content_block_stop, message_delta with stop_reason and cumulative usage, message_stop), `GET /v1/models`
 * (`{data, has_more, first_id, last_id}` with `limit`/`after_id`/`before_id` paging), and error bodies
 * `{"type":"error","error":{"type","message"},"request_id"}`. Like the real API it needs the
 * key it was started with, as `x-api-key` or `Authorization: Bearer` (401 authentication_error otherwise) and an `anthropic-version`
 * header (400 otherwise), and rejects requests the real API rejects (missing max_tokens, unknown
 * model, non-alternating roles, tool results without their tool_use).
 *
 * Behaviour is scripted per request: `fake.enqueue(b)` queues behaviours consumed in order; with
 * nothing queued it echoes the last user text.
 */
import type { ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { startFakeServer, sendJson, type FakeServer, type RecordedRequest } from './fake-server.js';

export type AnthropicStopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'refusal' | 'pause_turn';

export type AnthropicBehavior =
  | {
      type: 'reply';
      text?: string;
      reasoning?: string;
      toolCalls?: Array<{ id: string; name: string; arguments: string }>;
      stopReason?: AnthropicStopReason;
      usage?: { input_tokens: number; output_tokens: number; cache_creation_input_tokens?: number; cache_read_input_tokens?: number };
    }
  | { type: 'error'; status: number; errType: string; message: string; headers?: Record<string, string> }
  /** Streams message_start and one text delta ("partial"), then never sends anything else. */
  | { type: 'stall' }
  /** Streams message_start (and one text delta unless `partial` is false), then an `event: error` (e.g. overloaded_error) and ends. */
  | { type: 'stream-error'; errType: string; message: string; partial?: boolean };

export interface FakeAnthropic extends FakeServer {
  /** The providers.json `endpoint` (the SDK appends /v1/...). */
  endpoint: string;
  apiKey: string;
  models: string[];
  enqueue(...b: AnthropicBehavior[]): void;
  chatRequests(): RecordedRequest[];
}

const reqId = () => `req_${randomBytes(12).toString('base64url')}`;
const msgId = () => `msg_${randomBytes(12).toString('base64url')}`;

function errorBody(errType: string, message: string, requestId = reqId()) {
  return { type: 'error', error: { type: errType, message }, request_id: requestId };
}

function sendError(res: ServerResponse, status: number, errType: string, message: string, headers: Record<string, string> = {}): void {
  const requestId = reqId();
  sendJson(res, status, errorBody(errType, message, requestId), { 'request-id': requestId, 'x-should-retry': String(status === 429 || status >= 500), ...headers });
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

/** A rough, deterministic input count (4 characters a token), as the API reports its own. */
function inputTokens(body: any): number {
  return Math.max(1, Math.ceil(JSON.stringify([body?.system ?? '', body?.messages ?? '', body?.tools ?? '']).length / 4));
}

/** What the real API refuses with a 400 invalid_request_error, checked the way it words it. */
function validate(body: any): string | undefined {
  if (!body || typeof body !== 'object') return 'request body must be a JSON object';
  if (typeof body.model !== 'string') return 'model: Field required';
  if (typeof body.max_tokens !== 'number') return 'max_tokens: Field required';
  if (!Array.isArray(body.messages)) return 'messages: Field required';
  if (body.system !== undefined && typeof body.system !== 'string' && !(Array.isArray(body.system) && body.system.every((b: any) => b?.type === 'text'))) {
    return 'system: Input should be a valid string or a list of text blocks';
  }
  const toolUseIds = new Set<string>();
  let prevRole: string | undefined;
  for (let i = 0; i < body.messages.length; i++) {
    const m = body.messages[i];
    if (m.role !== 'user' && m.role !== 'assistant') return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    // The real API folds consecutive same-role turns; a faithful translator never sends them, so the
    // fake holds it to that.
    if (m.role === prevRole) return `messages: roles must alternate between "user" and "assistant", but found multiple "${m.role}" roles in a row`;
    prevRole = m.role;
    const blocks: any[] = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : Array.isArray(m.content) ? m.content : [];
    if (!blocks.length) return `messages.${i}: all messages must have non-empty content`;
    let sawOther = false;
    for (let j = 0; j < blocks.length; j++) {
      const b = blocks[j];
      if (b.type === 'text' && !b.text) return `messages.${i}.content.${j}.text: text content blocks must be non-empty`;
      if (b.type === 'tool_use') {
        if (m.role !== 'assistant') return `messages.${i}.content.${j}: tool_use blocks are only allowed in assistant messages`;
        if (!b.input || typeof b.input !== 'object' || Array.isArray(b.input)) return `messages.${i}.content.${j}.tool_use.input: Input should be a valid dictionary`;
        toolUseIds.add(b.id);
      } else if (b.type === 'tool_result') {
        if (m.role !== 'user') return `messages.${i}.content.${j}: tool_result blocks are only allowed in user messages`;
        if (!toolUseIds.has(b.tool_use_id)) return `messages.${i}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${b.tool_use_id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`;
        if (sawOther) return `messages.${i}: tool_result blocks must come first in the user message content`;
      } else {
        sawOther = true;
        if (b.type === 'image') {
          const s = b.source;
          if (!s || (s.type === 'base64' && (!s.data || !['image/jpeg', 'image/png', 'image/gif', 'image/webp'].includes(s.media_type))) || (s.type === 'url' && !/^https?:/.test(s.url))) {
            return `messages.${i}.content.${j}.image.source: invalid image source`;
          }
        }
        if (b.type === 'document') {
          // The real API takes a base64 PDF, a plain-text source or a URL (issue 19 checks the shapes).
          const s = b.source;
          const ok = s && ((s.type === 'base64' && s.media_type === 'application/pdf' && typeof s.data === 'string' && s.data !== '') || (s.type === 'text' && s.media_type === 'text/plain' && typeof s.data === 'string') || (s.type === 'url' && /^https?:/.test(s.url)));
          if (!ok) return `messages.${i}.content.${j}.document.source: invalid document source`;
        }
      }
    }
  }
  if (body.tool_choice && !Array.isArray(body.tools)) return 'tool_choice: tool_choice may only be specified while providing tools.';
  for (const [k, t] of (body.tools ?? []).entries()) {
    if (typeof t?.name !== 'string' || !t.input_schema || typeof t.input_schema !== 'object') return `tools.${k}.custom.input_schema: Field required`;
  }
  if (body.thinking?.type === 'enabled' && !(body.thinking.budget_tokens >= 1024 && body.thinking.budget_tokens < body.max_tokens)) {
    return 'thinking.enabled.budget_tokens: Input should be greater than or equal to 1024 and less than max_tokens';
  }
  return undefined;
}

const sse = (res: ServerResponse, event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

/** Splits text into word-sized pieces, as the model streams. */
function pieces(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

export async function startFakeAnthropic(opts: { apiKey?: string; models?: string[] } = {}): Promise<FakeAnthropic> {
  const apiKey = opts.apiKey ?? 'sk-ant-fake-key';
  const models = opts.models ?? ['claude-sonnet-4-6', 'claude-haiku-4-5', 'claude-opus-4-1'];
  const queue: AnthropicBehavior[] = [];

  const server = await startFakeServer(async (req, res) => {
    // Authentication and versioning come first on every route, as on the real API.
    // The API takes the key as `x-api-key` or (what @anthropic-ai/sdk 1.x sends) `Authorization: Bearer`;
    // every key given must be the right one.
    const keys = [req.headers['x-api-key'], /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1]].filter((k) => k !== undefined);
    if (keys.length === 0) return sendError(res, 401, 'authentication_error', 'x-api-key header is required');
    if (keys.some((k) => k !== apiKey)) return sendError(res, 401, 'authentication_error', 'invalid x-api-key');
    const version = req.headers['anthropic-version'];
    if (typeof version !== 'string' || !version) return sendError(res, 400, 'invalid_request_error', 'anthropic-version: header is required');
    if (!/^\d{4}-\d{2}-\d{2}$/.test(version)) return sendError(res, 400, 'invalid_request_error', `anthropic-version: invalid version ${JSON.stringify(version)}`);

    if (req.method === 'GET' && req.path === '/v1/models') return listModels(req, res);
    if (req.method === 'POST' && req.path === '/v1/messages') {
      const b = queue.shift() ?? { type: 'reply' };
      if (b.type === 'error') return sendError(res, b.status, b.errType, b.message, b.headers);
      const problem = validate(req.body);
      if (problem) return sendError(res, 400, 'invalid_request_error', problem);
      if (!models.includes(req.body.model)) return sendError(res, 404, 'not_found_error', `model: ${req.body.model}`);
      return messages(req, res, b);
    }
    sendError(res, 404, 'not_found_error', 'Not Found');
  });

  function listModels(req: RecordedRequest, res: ServerResponse): void {
    const all = models.map((id, i) => ({
      type: 'model',
      id,
      display_name: id.replace(/^claude-/, 'Claude ').replace(/-(\d)-(\d)$/, ' $1.$2').replace(/-/g, ' '),
      created_at: new Date(Date.UTC(2025, 8, 29 - i)).toISOString().replace('.000Z', 'Z'),
      max_input_tokens: 200000,
      max_tokens: 64000,
    }));
    const limit = Math.min(1000, Math.max(1, Number(req.query.get('limit') ?? 20)));
    const after = req.query.get('after_id');
    const before = req.query.get('before_id');
    let start = 0;
    let end = all.length;
    if (after) start = all.findIndex((m) => m.id === after) + 1;
    if (before) end = Math.max(0, all.findIndex((m) => m.id === before));
    const page = before ? all.slice(Math.max(start, end - limit), end) : all.slice(start, start + limit);
    const hasMore = before ? all.indexOf(page[0]!) > 0 : start + page.length < all.length;
    sendJson(res, 200, { data: page, has_more: hasMore, first_id: page[0]?.id ?? null, last_id: page.at(-1)?.id ?? null }, { 'request-id': reqId() });
  }

  async function messages(req: RecordedRequest, res: ServerResponse, b: AnthropicBehavior): Promise<void> {
    const body = req.body;
    const reply = b.type === 'reply' ? b : { type: 'reply' as const, text: 'partial' };
    const text = reply.text ?? (reply.toolCalls?.length ? '' : `echo: ${lastUserText(body)}`);
    const stopReason: AnthropicStopReason = reply.stopReason ?? (reply.toolCalls?.length ? 'tool_use' : 'end_turn');
    const input = reply.usage?.input_tokens ?? inputTokens(body);
    const output = reply.usage?.output_tokens ?? Math.max(1, Math.ceil((text.length + (reply.reasoning?.length ?? 0)) / 4));
    const cacheCreation = reply.usage?.cache_creation_input_tokens ?? 0;
    const cacheRead = reply.usage?.cache_read_input_tokens ?? 0;
    const id = msgId();
    const signature = randomBytes(24).toString('base64');

    const content: any[] = [];
    if (reply.reasoning) content.push({ type: 'thinking', thinking: reply.reasoning, signature });
    if (text) content.push({ type: 'text', text, citations: null });
    for (const t of reply.toolCalls ?? []) content.push({ type: 'tool_use', id: t.id, name: t.name, input: JSON.parse(t.arguments || '{}'), caller: { type: 'direct' } });
    const usage = {
      input_tokens: input,
      cache_creation_input_tokens: cacheCreation,
      cache_read_input_tokens: cacheRead,
      cache_creation: { ephemeral_5m_input_tokens: cacheCreation, ephemeral_1h_input_tokens: 0 },
      output_tokens: output,
      service_tier: 'standard',
      server_tool_use: null,
      inference_geo: null,
      output_tokens_details: null,
      speed: null,
    };
    const headers = { 'request-id': reqId(), 'anthropic-organization-id': '00000000-0000-4000-8000-000000000000' };

    if (!body.stream) {
      return sendJson(
        res,
        200,
        { id, type: 'message', role: 'assistant', model: body.model, content, stop_reason: stopReason, stop_sequence: stopReason === 'stop_sequence' ? (body.stop_sequences?.[0] ?? null) : null, stop_details: null, container: null, diagnostics: null, usage },
        headers,
      );
    }

    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', ...headers });
    sse(res, 'message_start', {
      type: 'message_start',
      message: { id, type: 'message', role: 'assistant', model: body.model, content: [], stop_reason: null, stop_sequence: null, stop_details: null, container: null, diagnostics: null, usage: { ...usage, output_tokens: 1 } },
    });
    if (b.type === 'stream-error' && b.partial === false) {
      sse(res, 'error', errorBody(b.errType, b.message));
      res.end();
      return;
    }
    if (b.type === 'stall' || b.type === 'stream-error') {
      sse(res, 'content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '', citations: null } });
      sse(res, 'ping', { type: 'ping' });
      sse(res, 'content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'partial' } });
      if (b.type === 'stall') return; // never ends; the client has to give up
      sse(res, 'error', errorBody(b.errType, b.message));
      res.end();
      return;
    }
    let index = 0;
    let pinged = false;
    const ping = () => {
      // The API sends a ping after the first block opens, and at times while generating.
      if (!pinged) sse(res, 'ping', { type: 'ping' });
      pinged = true;
    };
    if (reply.reasoning) {
      sse(res, 'content_block_start', { type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } });
      ping();
      for (const p of pieces(reply.reasoning)) sse(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: p } });
      sse(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'signature_delta', signature } });
      sse(res, 'content_block_stop', { type: 'content_block_stop', index });
      index++;
    }
    if (text) {
      sse(res, 'content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '', citations: null } });
      ping();
      for (const p of pieces(text)) sse(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: p } });
      sse(res, 'content_block_stop', { type: 'content_block_stop', index });
      index++;
    }
    for (const t of reply.toolCalls ?? []) {
      sse(res, 'content_block_start', { type: 'content_block_start', index, content_block: { type: 'tool_use', id: t.id, name: t.name, input: {}, caller: { type: 'direct' } } });
      ping();
      // The API's first input_json_delta is often empty; then the JSON arrives in fragments.
      const half = Math.ceil(t.arguments.length / 2);
      for (const partial of ['', t.arguments.slice(0, half), t.arguments.slice(half)]) {
        sse(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: partial } });
      }
      sse(res, 'content_block_stop', { type: 'content_block_stop', index });
      index++;
    }
    sse(res, 'message_delta', {
      type: 'message_delta',
      delta: { stop_reason: stopReason, stop_sequence: null, stop_details: null, container: null },
      usage: { input_tokens: input, cache_creation_input_tokens: cacheCreation, cache_read_input_tokens: cacheRead, output_tokens: output, server_tool_use: null, output_tokens_details: null },
    });
    sse(res, 'message_stop', { type: 'message_stop' });
    res.end();
  }

  return Object.assign(server, {
    endpoint: server.origin,
    apiKey,
    models,
    enqueue: (...b: AnthropicBehavior[]) => void queue.push(...b),
    chatRequests: () => server.requests.filter((r) => r.path === '/v1/messages'),
  });
}
