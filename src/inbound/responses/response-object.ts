/**
 * @module The Responses API `response` object: the request's echo fields (built once per request),
 * the output items, status and usage (with aisbf's effective_context). Shared by the JSON renderer,
 * the stream writer (created / in_progress / completed events) and the store.
 */
import { randomToken } from '../../random-id.js';
import type { Usage } from '../../providers/openai-types.js';
import type { ResponsesRequest } from './responses-api.js';

export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed';

export interface ResponsesUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
  effective_context?: number;
}

export type OutputItem = Record<string, unknown> & { type: string; id: string };

export function newResponseId(): string {
  return `resp_${randomToken(24)}`;
}

export function newOutputId(prefix: 'msg' | 'fc' | 'rs'): string {
  return `${prefix}_${randomToken(24)}`;
}

export function toResponsesUsage(u: Usage): ResponsesUsage {
  const cached = (u.prompt_tokens_details as { cached_tokens?: number } | undefined)?.cached_tokens ?? 0;
  const reasoning = (u.completion_tokens_details as { reasoning_tokens?: number } | undefined)?.reasoning_tokens ?? 0;
  const out: ResponsesUsage = {
    input_tokens: u.prompt_tokens,
    input_tokens_details: { cached_tokens: cached },
    output_tokens: u.completion_tokens,
    output_tokens_details: { reasoning_tokens: reasoning },
    total_tokens: u.total_tokens ?? u.prompt_tokens + u.completion_tokens,
  };
  if (u.effective_context !== undefined) out.effective_context = u.effective_context;
  return out;
}

/** The fields of a response that echo the request: computed once, spread into each snapshot. */
export type ResponseShell = Record<string, unknown>;

export function responseShell(body: ResponsesRequest, id: string, createdAt: number, model: string): ResponseShell {
  return {
    id,
    object: 'response',
    created_at: createdAt,
    status: 'in_progress',
    background: false,
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model,
    output: [],
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: { effort: body.reasoning?.effort ?? null, summary: body.reasoning?.summary ?? null },
    store: body.store ?? true,
    temperature: body.temperature ?? 1,
    text: { format: body.text?.format ?? { type: 'text' } },
    tool_choice: body.tool_choice ?? 'auto',
    tools: body.tools ?? [],
    top_p: body.top_p ?? 1,
    truncation: 'disabled',
    usage: null,
    user: body.user ?? null,
    metadata: body.metadata ?? {},
  };
}

export interface Finished {
  status: ResponseStatus;
  output: OutputItem[];
  /** `JSON.stringify(output)` when the caller already has it (the stream writer keeps each item's JSON). */
  outputJson?: string;
  usage?: ResponsesUsage;
  incomplete?: 'max_output_tokens' | 'content_filter';
  error?: { code: string; message: string };
}

export function responseSnapshot(shell: ResponseShell, f: Finished): Record<string, unknown> {
  return {
    ...shell,
    status: f.status,
    error: f.error ?? null,
    incomplete_details: f.incomplete ? { reason: f.incomplete } : null,
    output: f.output,
    usage: f.usage ?? null,
  };
}

/** Stands in for the fields a snapshot fills while the rest of the shell is serialized once. */
const MARK = `\u0000aisbf-snapshot-${randomToken(8)}`;
const MARK_JSON = JSON.stringify(MARK);

/** `instructions` shorter than this are cheap to encode; longer ones this long at most are remembered. */
const REMEMBER_MIN = 4096;
const REMEMBER_MAX = 512 * 1024;
const REMEMBERED = 8;
/** JSON of recent long `instructions`: an agent resends the same 50 KB system prompt every turn. */
const instructionsJson = new Map<string, string>();

function encodeInstructions(text: string): string {
  if (text.length < REMEMBER_MIN || text.length > REMEMBER_MAX) return JSON.stringify(text);
  // V8 hashes a string this long by its length: the lookup costs one comparison of equal texts.
  let json = instructionsJson.get(text);
  if (json === undefined) {
    json = JSON.stringify(text);
    if (instructionsJson.size >= REMEMBERED) instructionsJson.delete(instructionsJson.keys().next().value!);
    instructionsJson.set(text, json);
  }
  return json;
}

/**
 * `JSON.stringify(responseSnapshot(shell, f))`, with the shell serialized once per request and a
 * long `instructions` once per process: the response object echoes the request (an agent's 50 KB
 * instructions, its tools), and a stream sends it three times. Same bytes, same key order.
 */
const SNAPSHOT_KEYS: ReadonlySet<string> = new Set(['status', 'error', 'incomplete_details', 'instructions', 'output', 'usage']);

export function snapshotSerializer(shell: ResponseShell): (f: Finished) => string {
  const instructions = typeof shell.instructions === 'string' ? shell.instructions : undefined;
  const template: Record<string, unknown> = { ...shell, status: MARK, error: MARK, incomplete_details: MARK, output: MARK, usage: MARK };
  if (instructions !== undefined) template.instructions = MARK;
  const marked = Object.keys(template).filter((k) => SNAPSHOT_KEYS.has(k) && template[k] === MARK);
  const parts = JSON.stringify(template).split(MARK_JSON);
  if (parts.length !== marked.length + 1) return (f) => JSON.stringify(responseSnapshot(shell, f));
  // Fixed text between the per-snapshot fields; the instructions' JSON folded into it.
  const fixed = [parts[0]!];
  const fields: string[] = [];
  marked.forEach((k, i) => {
    if (k === 'instructions') fixed[fixed.length - 1] += encodeInstructions(instructions!) + parts[i + 1]!;
    else {
      fields.push(k);
      fixed.push(parts[i + 1]!);
    }
  });
  return (f) => {
    let out = fixed[0]!;
    for (let i = 0; i < fields.length; i++) out += fieldJson(fields[i]!, f) + fixed[i + 1]!;
    return out;
  };
}

function fieldJson(key: string, f: Finished): string {
  switch (key) {
    case 'status':
      return JSON.stringify(f.status);
    case 'error':
      return JSON.stringify(f.error ?? null);
    case 'incomplete_details':
      return f.incomplete ? `{"reason":${JSON.stringify(f.incomplete)}}` : 'null';
    case 'output':
      return f.outputJson ?? JSON.stringify(f.output);
    default:
      return JSON.stringify(f.usage ?? null);
  }
}

export function messageItem(id: string, text: string, status: 'in_progress' | 'completed' | 'incomplete'): OutputItem {
  return { id, type: 'message', status, role: 'assistant', content: status === 'in_progress' ? [] : [outputText(text)] };
}

export function outputText(text: string): Record<string, unknown> {
  return { type: 'output_text', text, annotations: [], logprobs: [] };
}

/** `JSON.stringify(outputText(text))` from the text's JSON literal (quotes included), with no encode of the text. */
export function outputTextJson(literal: string): string {
  return '{"type":"output_text","text":' + literal + ',"annotations":[],"logprobs":[]}';
}

/** `JSON.stringify(messageItem(id, text, 'completed'))` from `outputTextJson(text's literal)`. `id` is ours (no escapes). */
export function completedMessageJson(id: string, partJson: string): string {
  return '{"id":"' + id + '","type":"message","status":"completed","role":"assistant","content":[' + partJson + ']}';
}

export function functionCallItem(id: string, callId: string, name: string, args: string, status: 'in_progress' | 'completed'): OutputItem {
  return { id, type: 'function_call', status, arguments: args, call_id: callId, name };
}

export function reasoningItem(id: string, summary: string | undefined): OutputItem {
  return { id, type: 'reasoning', summary: summary === undefined ? [] : [{ type: 'summary_text', text: summary }] };
}
