/**
 * @module The bench's upstream: a dependency-free node:http server that answers in OpenAI's format
 * (chat JSON and SSE, embeddings, models) and Anthropic's Messages format (JSON and `event:` SSE),
 * as fast as it can, so what the bench measures is the proxy. Loopback only.
 *
 * Run: node --import tsx scripts/bench/mock-upstream.ts <port> [chunks] [long factor]
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

const port = Number(process.argv[2] ?? 18181);
const CHUNKS = Math.max(2, Number(process.argv[3] ?? 20));
const ANSWER =
  'Sure. Here is a short, deterministic answer from the mock upstream. It exists so that a proxy under test has a realistic body to parse, transform and forward, with enough tokens to look like a typical short chat reply.';
const WORDS = ANSWER.split(' ');
const PIECES = Array.from({ length: CHUNKS - 2 }, (_, i) => {
  const from = Math.floor((i * WORDS.length) / (CHUNKS - 2));
  const to = Math.floor(((i + 1) * WORDS.length) / (CHUNKS - 2));
  return (i === 0 ? '' : ' ') + WORDS.slice(from, to).join(' ');
});
/** `/long/...`: streams LONG times as many content chunks, so a bench can take the marginal cost of a chunk. */
const LONG = Math.max(1, Number(process.argv[4] ?? 5));
const LONG_PIECES = Array.from({ length: LONG }, () => PIECES).flat();
const EMBEDDING = Array.from({ length: 1536 }, (_, i) => Math.round(Math.sin(i) * 1e6) / 1e6);
let seq = 0;

function json(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function promptTokens(body: { messages?: Array<{ content?: unknown }> }): number {
  let chars = 0;
  for (const m of body.messages ?? []) chars += (typeof m.content === 'string' ? m.content.length : 16) + 4;
  return Math.max(1, Math.ceil(chars / 4));
}

function openaiChat(res: ServerResponse, body: any, pieces: readonly string[]): void {
  const id = `chatcmpl-mock${++seq}`;
  const created = Math.floor(Date.now() / 1000);
  const prompt = promptTokens(body);
  const usage = { prompt_tokens: prompt, completion_tokens: WORDS.length, total_tokens: prompt + WORDS.length };
  if (!body.stream) {
    return json(res, {
      id,
      object: 'chat.completion',
      created,
      model: body.model,
      system_fingerprint: 'fp_mock0001',
      choices: [{ index: 0, message: { role: 'assistant', content: ANSWER, refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
      usage,
      service_tier: 'default',
    });
  }
  const includeUsage = body.stream_options?.include_usage === true;
  const head = `{"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(body.model)},"system_fingerprint":"fp_mock0001",`;
  const u = includeUsage ? ',"usage":null' : '';
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  res.write(`data: ${head}"choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]${u}}\n\n`);
  for (const p of pieces) res.write(`data: ${head}"choices":[{"index":0,"delta":{"content":${JSON.stringify(p)}},"logprobs":null,"finish_reason":null}]${u}}\n\n`);
  res.write(`data: ${head}"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]${u}}\n\n`);
  if (includeUsage) res.write(`data: ${head}"choices":[],"usage":${JSON.stringify(usage)}}\n\n`);
  res.end('data: [DONE]\n\n');
}

function anthropicMessages(res: ServerResponse, body: any): void {
  const id = `msg_mock${++seq}`;
  const input = promptTokens(body);
  if (!body.stream) {
    return json(res, {
      id,
      type: 'message',
      role: 'assistant',
      model: body.model,
      content: [{ type: 'text', text: ANSWER }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: input, output_tokens: WORDS.length, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    });
  }
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  const ev = (name: string, data: unknown) => res.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  ev('message_start', { type: 'message_start', message: { id, type: 'message', role: 'assistant', model: body.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: input, output_tokens: 1 } } });
  ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
  ev('ping', { type: 'ping' });
  for (const p of PIECES) ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: p } });
  ev('content_block_stop', { type: 'content_block_stop', index: 0 });
  ev('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: WORDS.length } });
  ev('message_stop', { type: 'message_stop' });
  res.end();
}

/**
 * `/slow/...` (the soak's aborted streams): the same answers, each write 10 ms after the last, so a
 * client can leave in the middle of a stream.
 */
function paced(res: ServerResponse): ServerResponse {
  const steps: Array<() => void> = [];
  const tick = setInterval(() => {
    if (res.destroyed) return clearInterval(tick);
    steps.shift()?.();
    if (!steps.length) clearInterval(tick);
  }, 10);
  return new Proxy(res, {
    get(target, key) {
      if (key === 'write') return (chunk: string) => (steps.push(() => target.write(chunk)), true);
      if (key === 'end') return (chunk?: string) => steps.push(() => target.end(chunk));
      const v = Reflect.get(target, key) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

function route(req: IncomingMessage, resIn: ServerResponse, raw: Buffer): void {
  const slow = req.url?.startsWith('/slow/') === true;
  const long = req.url?.startsWith('/long/') === true;
  const url = slow || long ? req.url!.slice(5) : (req.url ?? '/');
  const res = slow ? paced(resIn) : resIn;
  if (req.method === 'GET') {
    if (url.startsWith('/v1/models')) return json(res, { object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model', created: 0, owned_by: 'mock' }] });
    if (url.startsWith('/health')) return json(res, { ok: true });
  }
  let body: any = {};
  try {
    body = raw.length ? JSON.parse(raw.toString('utf8')) : {};
  } catch {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end('{"error":{"message":"bad json","type":"invalid_request_error"}}');
    return;
  }
  if (url.startsWith('/v1/chat/completions')) return openaiChat(res, body, long ? LONG_PIECES : PIECES);
  if (url.startsWith('/v1/messages')) return anthropicMessages(res, body);
  if (url.startsWith('/v1/embeddings')) {
    const inputs = Array.isArray(body.input) ? body.input : [body.input];
    return json(res, { object: 'list', data: inputs.map((_: unknown, index: number) => ({ object: 'embedding', index, embedding: EMBEDDING })), model: body.model, usage: { prompt_tokens: 8, total_tokens: 8 } });
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end('{"error":{"message":"not found","type":"invalid_request_error"}}');
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => route(req, res, Buffer.concat(chunks)));
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => process.stdout.write(`mock listening ${port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
