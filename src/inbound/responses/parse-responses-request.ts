/**
 * @module A Responses API request → the internal (OpenAI chat) request. `instructions` and
 * system/developer items become system messages, messages their content parts (input_text,
 * input_image, input_file), `function_call` items the assistant's tool_calls and
 * `function_call_output` items tool messages; function tools keep `strict`; `text.format` becomes
 * response_format, `reasoning.effort` reasoning_effort, `max_output_tokens` max_completion_tokens.
 * Items of a previous response (previous_response_id) come first. Tool kinds only OpenAI runs
 * (web_search, namespace, custom, local_shell …) and their past calls are dropped and named in
 * `notes`; an item or part type nobody knows is a 400 naming it.
 */
import { randomUUID } from 'node:crypto';
import type { ChatMessage, ChatRequest, ContentPart, ToolCall, ToolDefinition } from '../../providers/openai-types.js';
import { HttpError } from '../../errors/http-error.js';
import { checkJsonTextDepth, checkModel, checkToolContentDepth, zodToHttpError } from '../json-body.js';
import {
  functionCallItem,
  functionCallOutputItem,
  functionTool,
  inputFile,
  inputImage,
  inputText,
  messageItem,
  responsesRequestSchema,
  type ResponsesRequest,
  type WireItem,
  type WireTyped,
} from './responses-api.js';
import type { z } from 'zod';

export interface ParsedResponsesRequest {
  body: ResponsesRequest;
  chat: ChatRequest;
  /** This request's input as items with ids (stored for input_items and previous_response_id). */
  inputItems: WireItem[];
  notes: string[];
}

/** Item types of tools only OpenAI runs: their records are dropped (with a note) for other targets. */
const DROPPABLE_ITEMS = new Set([
  'reasoning',
  'web_search_call',
  'file_search_call',
  'computer_call',
  'computer_call_output',
  'image_generation_call',
  'code_interpreter_call',
  'local_shell_call',
  'local_shell_call_output',
  'shell_call',
  'shell_call_output',
  'apply_patch_call',
  'apply_patch_call_output',
  'mcp_list_tools',
  'mcp_approval_request',
  'mcp_approval_response',
  'mcp_call',
  'custom_tool_call',
  'custom_tool_call_output',
  'tool_search_call',
  'tool_search_output',
  'compaction',
]);

/** Tool kinds only OpenAI runs. */
const DROPPABLE_TOOLS = new Set([
  'namespace',
  'web_search',
  'web_search_preview',
  'web_search_2025_08_26',
  'web_search_preview_2025_03_11',
  'file_search',
  'computer',
  'computer_use_preview',
  'mcp',
  'code_interpreter',
  'image_generation',
  'local_shell',
  'shell',
  'custom',
  'apply_patch',
  'tool_search',
]);

class Notes {
  readonly list: string[] = [];
  private readonly seen = new Set<string>();
  add(note: string): void {
    if (!this.seen.has(note)) {
      this.seen.add(note);
      this.list.push(note);
    }
  }
}

function parseAt<T>(schema: z.ZodType<T>, value: unknown, at: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const err = zodToHttpError(r.error, value);
  const param = err.options.param ? `${at}.${err.options.param}` : at;
  throw new HttpError(400, err.message.replace(`'${err.options.param}'`, `'${param}'`), { param, code: err.options.code });
}

function contentParts(content: string | WireTyped[], at: string, notes: Notes): ContentPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  const out: ContentPart[] = [];
  content.forEach((p, i) => {
    const pat = `${at}[${i}]`;
    switch (p.type) {
      case 'input_text':
      case 'output_text':
      case 'text':
      case 'summary_text':
        out.push({ type: 'text', text: parseAt(inputText, p, pat).text });
        break;
      case 'refusal':
        out.push({ type: 'text', text: String(p.refusal ?? '') });
        break;
      case 'input_image': {
        const img = parseAt(inputImage, p, pat);
        if (!img.image_url) throw new HttpError(400, `Invalid '${pat}': only image_url images are supported (file_id needs OpenAI's Files API).`, { param: `${pat}.image_url` });
        const part: ContentPart = { type: 'image_url', image_url: { url: img.image_url } };
        if (img.detail) (part as { image_url: { detail?: string } }).image_url.detail = img.detail;
        out.push(part);
        break;
      }
      case 'input_file': {
        const f = parseAt(inputFile, p, pat);
        if (f.file_data) out.push({ type: 'file', file: { file_data: f.file_data, filename: f.filename ?? 'file' } });
        // An upload to /v1/files: the provider layer reads it (providers/render-file-parts.ts).
        else if (f.file_id) out.push({ type: 'file', file: { file_id: f.file_id, ...(f.filename ? { filename: f.filename } : {}) } });
        else if (f.file_url) {
          notes.add('input_file urls are passed as a link text');
          out.push({ type: 'text', text: `File: ${f.file_url}` });
        } else throw new HttpError(400, `Invalid '${pat}': input_file needs file_data, file_id or file_url.`, { param: `${pat}.file_data` });
        break;
      }
      default:
        throw new HttpError(400, `Invalid '${pat}.type': unknown content part type '${p.type}'.`, { param: `${pat}.type`, code: 'invalid_value' });
    }
  });
  return out;
}

function simplify(parts: ContentPart[]): string | ContentPart[] {
  if (parts.every((p) => p.type === 'text')) return parts.map((p) => (p as { text: string }).text).join('\n');
  return parts;
}

const ID_PREFIX: Record<string, string> = { message: 'msg', function_call: 'fc', function_call_output: 'fco' };

function newItemId(type: string): string {
  // randomUUID draws from node's cached entropy pool; randomBytes(16) asked the OS once per item (~9 µs).
  return `${ID_PREFIX[type] ?? 'item'}_${randomUUID().replaceAll('-', '')}`;
}

/** Items as OpenAI lists them: every item typed and with an id. */
function normalizeItems(input: ResponsesRequest['input']): WireItem[] {
  if (input === undefined) return [];
  if (typeof input === 'string') return [{ id: newItemId('message'), type: 'message', role: 'user', content: [{ type: 'input_text', text: input }] }];
  return input.map((item) => {
    const type = item.type ?? 'message';
    if (typeof item.id === 'string' && item.type !== undefined) return item;
    return { id: typeof item.id === 'string' ? item.id : newItemId(type), ...item, type };
  });
}

/** Items → chat messages, appended to `messages`. `where` names the item in errors. */
function itemsToMessages(items: readonly WireItem[], messages: ChatMessage[], notes: Notes, callIds: Set<string>, where: (i: number) => string): void {
  // The assistant message that function_call items attach to (text + calls are one chat turn).
  let assistant: ChatMessage | undefined;
  items.forEach((item, i) => {
    const at = where(i);
    const type = item.type ?? 'message';
    switch (type) {
      case 'message': {
        const m = parseAt(messageItem, item, at);
        const parts = contentParts(m.content, `${at}.content`, notes);
        if (m.role === 'assistant') {
          assistant = { role: 'assistant', content: simplify(parts) };
          messages.push(assistant);
          return;
        }
        assistant = undefined;
        messages.push({ role: m.role === 'developer' ? 'system' : m.role, content: simplify(parts) });
        return;
      }
      case 'function_call': {
        const f = parseAt(functionCallItem, item, at);
        checkJsonTextDepth(f.arguments, `${at}.arguments`);
        const call: ToolCall = { id: f.call_id, type: 'function', function: { name: f.name, arguments: f.arguments } };
        callIds.add(f.call_id);
        if (!assistant) {
          assistant = { role: 'assistant', content: null };
          messages.push(assistant);
        }
        (assistant.tool_calls ??= []).push(call);
        return;
      }
      case 'function_call_output': {
        const o = parseAt(functionCallOutputItem, item, at);
        if (!callIds.has(o.call_id)) {
          throw new HttpError(400, `No tool call found for function call output with call_id ${o.call_id} (${at}).`, { param: at, code: 'invalid_value' });
        }
        assistant = undefined;
        const out = typeof o.output === 'string' ? o.output : simplify(contentParts(o.output, `${at}.output`, notes));
        checkToolContentDepth(out, `${at}.output`);
        if (typeof out === 'string') messages.push({ role: 'tool', tool_call_id: o.call_id, content: out });
        else {
          // Tool messages take text on most providers: images a tool returned follow as user content.
          const text = out.filter((p) => p.type === 'text').map((p) => (p as { text: string }).text).join('\n');
          messages.push({ role: 'tool', tool_call_id: o.call_id, content: text });
          messages.push({ role: 'user', content: out.filter((p) => p.type !== 'text') });
        }
        return;
      }
      case 'item_reference':
        throw new HttpError(400, `Invalid '${at}': item_reference items are not supported; send the item itself or use previous_response_id.`, { param: at, code: 'invalid_value' });
      default:
        if (DROPPABLE_ITEMS.has(type)) {
          notes.add(`${type} items`);
          return;
        }
        throw new HttpError(400, `Invalid '${at}.type': unknown input item type '${type}'.`, { param: `${at}.type`, code: 'invalid_value' });
    }
  });
}

function convertTools(tools: NonNullable<ResponsesRequest['tools']>, notes: Notes): ToolDefinition[] {
  const out: ToolDefinition[] = [];
  tools.forEach((t, i) => {
    if (t.type !== 'function') {
      if (DROPPABLE_TOOLS.has(t.type)) {
        notes.add(`${t.type} tools`);
        return;
      }
      // A tool kind we do not know is still only a tool the model may not call: drop it, say so.
      notes.add(`unknown tool type '${t.type}'`);
      return;
    }
    const f = parseAt(functionTool, t, `tools[${i}]`);
    const fn: ToolDefinition['function'] = { name: f.name };
    if (f.description) fn.description = f.description;
    fn.parameters = f.parameters ?? { type: 'object', properties: {} };
    if (f.strict !== undefined && f.strict !== null) fn.strict = f.strict;
    out.push({ type: 'function', function: fn });
  });
  return out;
}

export function parseResponsesRequest(raw: Record<string, unknown>, history: readonly WireItem[] = []): ParsedResponsesRequest {
  const r = responsesRequestSchema.safeParse(raw);
  if (!r.success) throw zodToHttpError(r.error, raw);
  const body = r.data;
  checkModel(body.model);
  const notes = new Notes();
  const inputItems = normalizeItems(body.input);
  const messages: ChatMessage[] = [];
  if (body.instructions) messages.push({ role: 'system', content: body.instructions });
  const callIds = new Set<string>();
  if (history.length) itemsToMessages(history, messages, notes, callIds, (i) => `previous_response_id item ${i}`);
  const offset = messages.length;
  itemsToMessages(inputItems, messages, notes, callIds, (i) => (typeof body.input === 'string' ? 'input' : `input[${i}]`));
  if (messages.length === offset && !history.length) throw new HttpError(400, "Missing required parameter: 'input'.", { param: 'input', code: 'missing_required_parameter' });

  const chat: ChatRequest = { model: body.model ?? '', messages };
  if (body.stream) chat.stream = true;
  if (body.max_output_tokens) chat.max_completion_tokens = body.max_output_tokens;
  if (body.temperature !== undefined && body.temperature !== null) chat.temperature = body.temperature;
  if (body.top_p !== undefined && body.top_p !== null) chat.top_p = body.top_p;
  if (body.tools?.length) {
    const tools = convertTools(body.tools, notes);
    if (tools.length) chat.tools = tools;
  }
  const tc = body.tool_choice;
  if (tc !== undefined) {
    if (typeof tc === 'string') {
      if (chat.tools?.length || tc === 'none') chat.tool_choice = tc;
    } else if (tc.type === 'function') {
      if (!tc.name) throw new HttpError(400, "Missing required parameter: 'tool_choice.name'.", { param: 'tool_choice.name', code: 'missing_required_parameter' });
      if (!chat.tools?.some((t) => t.function.name === tc.name)) throw new HttpError(400, `Invalid 'tool_choice': no function tool named '${tc.name}'.`, { param: 'tool_choice.name', code: 'invalid_value' });
      chat.tool_choice = { type: 'function', function: { name: tc.name } };
    } else {
      // allowed_tools, hosted tool choices: the model may still choose among what it has.
      notes.add(`tool_choice '${tc.type}'`);
    }
  }
  if (typeof body.parallel_tool_calls === 'boolean' && chat.tools?.length) chat.parallel_tool_calls = body.parallel_tool_calls;
  const format = body.text?.format;
  if (format && format.type !== 'text') {
    if (format.type === 'json_schema') {
      if (!format.name) throw new HttpError(400, "Missing required parameter: 'text.format.name'.", { param: 'text.format.name', code: 'missing_required_parameter' });
      const js: Record<string, unknown> = { name: format.name };
      if (format.schema) js.schema = format.schema;
      if (typeof format.strict === 'boolean') js.strict = format.strict;
      if (format.description) js.description = format.description;
      chat.response_format = { type: 'json_schema', json_schema: js as { name: string } };
    } else if (format.type === 'json_object') chat.response_format = { type: 'json_object' };
    else throw new HttpError(400, `Invalid 'text.format.type': unknown format '${format.type}'.`, { param: 'text.format.type', code: 'invalid_value' });
  }
  if (body.reasoning?.effort) chat.reasoning_effort = body.reasoning.effort;
  return { body, chat, inputItems, notes: notes.list };
}
