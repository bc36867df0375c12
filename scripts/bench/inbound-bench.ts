/**
 * @module In-process (issue 17): what the Responses and Messages APIs cost over the chat path, per
 * request (parse + translate + render, against the chat route's parse + serialize of the same
 * conversation, agent-sized: a 50 KB system prompt and a dozen tools) and per streamed chunk (an
 * OpenAI upstream's raw chunk through each writer, against the chat path forwarding it verbatim),
 * and what reading a pass-through stream's usage costs per chunk. CPU time over many iterations, so
 * timer noise does not drown microseconds. Standalone: `node --import tsx scripts/bench/inbound-bench.ts`.
 */
import { parseChatRequest } from '../../src/inbound/openai-chat/parse-openai-chat-request.js';
import { messagesRequestSchema, parseOr400 } from '../../src/inbound/anthropic-messages/messages-api.js';
import { translateMessagesRequest } from '../../src/inbound/anthropic-messages/parse-messages-request.js';
import { renderMessagesResponse } from '../../src/inbound/anthropic-messages/render-messages-response.js';
import { MessagesStreamWriter } from '../../src/inbound/anthropic-messages/messages-stream-writer.js';
import { messagesStreamUsage } from '../../src/inbound/anthropic-messages/messages-usage.js';
import { parseResponsesRequest } from '../../src/inbound/responses/parse-responses-request.js';
import { finishedResponse } from '../../src/inbound/responses/render-responses-response.js';
import { responseShell, responseSnapshot, snapshotSerializer } from '../../src/inbound/responses/response-object.js';
import { ResponsesStreamWriter } from '../../src/inbound/responses/responses-stream-writer.js';
import { RawChunkPart, type ChatCompletion } from '../../src/providers/openai-types.js';

type Add = (scenario: string, metric: string, before: number | undefined, after: number, target?: string, pass?: boolean) => void;

/** CPU µs per call of `fn`, best of three runs of `n` after a warm-up. */
function cpuUs(n: number, fn: (i: number) => unknown): number {
  for (let i = 0; i < n / 10; i++) fn(i);
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) fn(i);
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / n);
  }
  return best;
}

const SYSTEM_JSON = JSON.stringify('You are an agent. Follow the repository conventions. '.repeat(950)); // ~50 KB, as Claude Code / Codex send
/** A fresh copy per request, as each request's body parse makes one (same cost on every path). */
const system = (): string => JSON.parse(SYSTEM_JSON) as string;
const TOOLS = Array.from({ length: 12 }, (_, i) => ({
  name: `tool_${i}`,
  description: `Tool number ${i}: reads, edits or runs something in the workspace.`,
  schema: { type: 'object', properties: { path: { type: 'string' }, content: { type: 'string' }, line: { type: 'integer' } }, required: ['path'] },
}));
const TURNS = ['Fix the failing test in src/a.ts.', 'It still fails; look at the import.', 'Now run the suite.'];

const chatBody = () => ({
  model: 'mock/gpt-4o-mini',
  messages: [{ role: 'system', content: system() }, ...TURNS.flatMap((t, i) => [{ role: 'user', content: t }, { role: 'assistant', content: `Done step ${i}.` }])],
  tools: TOOLS.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.schema } })),
});
const messagesBody = () => ({
  model: 'mock/gpt-4o-mini',
  max_tokens: 4096,
  system: [{ type: 'text', text: system(), cache_control: { type: 'ephemeral' } }],
  messages: TURNS.flatMap((t, i) => [{ role: 'user', content: [{ type: 'text', text: t }] }, { role: 'assistant', content: [{ type: 'text', text: `Done step ${i}.` }] }]),
  tools: TOOLS.map((t) => ({ name: t.name, description: t.description, input_schema: t.schema })),
});
const responsesBody = () => ({
  model: 'mock/gpt-4o-mini',
  instructions: system(),
  store: false,
  input: TURNS.flatMap((t, i) => [{ role: 'user', content: [{ type: 'input_text', text: t }] }, { role: 'assistant', content: [{ type: 'output_text', text: `Done step ${i}.` }] }]),
  tools: TOOLS.map((t) => ({ type: 'function', name: t.name, description: t.description, parameters: t.schema, strict: false })),
});

const completion: ChatCompletion = {
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'The test passes now: the import pointed at the old module.' }, finish_reason: 'stop', logprobs: null }],
  usage: { prompt_tokens: 13000, completion_tokens: 14, total_tokens: 13014 },
} as ChatCompletion;

const rawChunk = (i: number) => `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"word${i % 10} "},"logprobs":null,"finish_reason":null}]}`;
const anthropicEvent = (i: number) =>
  new TextEncoder().encode(`event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"word${i % 10} "}}\n\n`);

export function benchInbound(add: Add): void {
  const N = 2_000;
  // Fresh bodies per call: parsing must not see an object it already walked.
  const chat = cpuUs(N, () => (parseChatRequest(chatBody() as never), JSON.stringify(completion)));
  const messages = cpuUs(N, () => {
    const { chat: req } = translateMessagesRequest(parseOr400(messagesRequestSchema, messagesBody(), ''));
    return JSON.stringify(renderMessagesResponse(completion, { id: 'msg_bench', model: req.model, inputTokens: 13000 }));
  });
  // As the route does: the response object for the store (serialized later, off the request path) and the client's JSON.
  const responses = cpuUs(N, () => {
    const parsed = parseResponsesRequest(responsesBody());
    const shell = responseShell(parsed.body, 'resp_bench', 1, 'mock/gpt-4o-mini');
    const finished = finishedResponse(completion);
    responseSnapshot(shell, finished);
    return snapshotSerializer(shell)(finished);
  });
  add('messages, in-process (50 KB system, 12 tools)', 'CPU µs/req over chat (parse+translate+render)', chat, messages, '≤ 100', messages - chat <= 100);
  add('responses, in-process (50 KB system, 12 tools)', 'CPU µs/req over chat (parse+translate+render)', chat, responses, '≤ 100', responses - chat <= 100);

  const C = 200_000;
  const chatChunk = cpuUs(C, (i) => `data: ${new RawChunkPart(rawChunk(i)).raw}\n\n`);
  const mw = new MessagesStreamWriter({ id: 'msg_bench', model: 'mock/gpt-4o-mini', inputTokens: 10 });
  mw.start();
  const msgChunk = cpuUs(C, (i) => mw.push(new RawChunkPart(rawChunk(i))));
  const rw = new ResponsesStreamWriter(responseShell({ model: 'mock/gpt-4o-mini' } as never, 'resp_bench', 1, 'mock/gpt-4o-mini'), (p) => `${p}_bench`);
  rw.start();
  const respChunk = cpuUs(C, (i) => rw.push(new RawChunkPart(rawChunk(i))));
  add('messages stream, in-process', 'CPU µs/chunk over chat (writer)', chatChunk, msgChunk, '≤ 5', msgChunk - chatChunk <= 5);
  add('responses stream, in-process', 'CPU µs/chunk over chat (writer)', chatChunk, respChunk, '≤ 5', respChunk - chatChunk <= 5);

  const events = Array.from({ length: 10 }, (_, i) => anthropicEvent(i));
  const reader = messagesStreamUsage();
  const tap = cpuUs(C, (i) => reader.feed(events[i % 10]!));
  add('pass-through stream usage tap, in-process', 'CPU µs/chunk', undefined, tap, '≤ 5', tap <= 5);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  benchInbound((scenario, metric, before, after, target, pass) =>
    process.stdout.write(`${scenario} | ${metric} | chat ${before === undefined ? '-' : before.toFixed(2)} | ${after.toFixed(2)} | ${target ?? ''} ${pass === undefined ? '' : pass ? 'met' : 'NOT met'}\n`),
  );
}
