/**
 * @module An Anthropic Messages request → the internal (OpenAI-shaped) ChatRequest, for every target
 * that is not an Anthropic pass-through. `system` as a string or blocks and `role:"system"` entries
 * become system messages; text / image / document blocks become content parts; `tool_use` becomes
 * tool_calls and each `tool_result` a tool message (checked against the previous turn's tool_use ids);
 * `thinking` becomes reasoning_effort. What a non-Anthropic target cannot take (cache_control, server
 * tools, defer_loading tools, context_management …) is dropped and named in `notes` for the log; a
 * block type nobody knows is a 400 naming it.
 */
import type { ChatMessage, ChatRequest, ContentPart, ToolCall, ToolDefinition } from '../../providers/openai-types.js';
import { HttpError } from '../../errors/http-error.js';
import { checkJsonTextDepth } from '../json-body.js';
import {
  customTool,
  documentBlock,
  imageBlock,
  messagesRequestSchema,
  parseOr400,
  textBlock,
  thinkingBlock,
  toolResultBlock,
  toolUseBlock,
  type MessagesRequest,
  type WireBlock,
} from './messages-api.js';

export interface ParsedMessagesRequest {
  /** The validated wire body (pass-through targets get the original bytes). */
  body: MessagesRequest;
  chat: ChatRequest;
  /** What was dropped for a non-Anthropic target, for one log line. */
  notes: string[];
}

/** Block types Anthropic defines that only Anthropic runs: dropped (with a note) elsewhere. */
const DROPPABLE_BLOCKS = new Set([
  'redacted_thinking',
  'server_tool_use',
  'web_search_tool_result',
  'web_fetch_tool_result',
  'code_execution_tool_result',
  'bash_code_execution_tool_result',
  'text_editor_code_execution_tool_result',
  'tool_search_tool_result',
  'mcp_tool_use',
  'mcp_tool_result',
  'container_upload',
  'search_result',
]);

/** Top-level fields only Anthropic understands. */
const ANTHROPIC_ONLY_FIELDS = ['context_management', 'output_config', 'container', 'mcp_servers', 'service_tier', 'top_k', 'inference_geo'] as const;

class Notes {
  readonly list: string[] = [];
  private readonly seen = new Set<string>();
  add(note: string): void {
    if (this.seen.has(note)) return;
    this.seen.add(note);
    this.list.push(note);
  }
}

function imageUrl(b: WireBlock, at: string): ContentPart {
  const img = parseOr400(imageBlock, b, at);
  const url = img.source.type === 'base64' ? `data:${img.source.media_type};base64,${img.source.data}` : img.source.url;
  return { type: 'image_url', image_url: { url } };
}

function documentPart(b: WireBlock, at: string, notes: Notes): ContentPart[] {
  const doc = parseOr400(documentBlock, b, at);
  const title = doc.title ? `${doc.title}\n\n` : '';
  const s = doc.source;
  switch (s.type) {
    case 'base64':
      if (s.media_type === 'text/plain') return [{ type: 'text', text: title + Buffer.from(s.data, 'base64').toString('utf8') }];
      // CONTRACTS §7.9: chat `file` parts; each provider adapter translates (or renders) them.
      return [{ type: 'file', file: { file_data: `data:${s.media_type};base64,${s.data}`, filename: doc.title ?? 'document.pdf' } }];
    case 'text':
      return [{ type: 'text', text: title + s.data }];
    case 'url':
      notes.add('document url sources are passed as a link text');
      return [{ type: 'text', text: `${title}Document: ${s.url}` }];
    case 'content': {
      const inner = typeof s.content === 'string' ? [{ type: 'text', text: s.content } as WireBlock] : s.content;
      return inner.flatMap((x, i) => userBlock(x, `${at}.source.content.${i}`, notes));
    }
  }
}

/** A content block of a user (or tool_result) turn → content parts. */
function userBlock(b: WireBlock, at: string, notes: Notes): ContentPart[] {
  if (b.cache_control !== undefined) notes.add('cache_control');
  switch (b.type) {
    case 'text':
      return [{ type: 'text', text: parseOr400(textBlock, b, at).text }];
    case 'image':
      return [imageUrl(b, at)];
    case 'document':
      return documentPart(b, at, notes);
    default:
      if (DROPPABLE_BLOCKS.has(b.type) || b.type === 'thinking') {
        notes.add(`${b.type} blocks`);
        return [];
      }
      throw new HttpError(400, `${at}: unknown content block type '${b.type}'`, { param: `${at}.type` });
  }
}

/** Parts → the simplest content: a string when it is all text. */
function simplify(parts: ContentPart[]): string | ContentPart[] {
  if (parts.every((p) => p.type === 'text')) return parts.map((p) => (p as { text: string }).text).join('\n');
  return parts;
}

function blocksOf(content: string | WireBlock[]): WireBlock[] {
  return typeof content === 'string' ? [{ type: 'text', text: content }] : content;
}

function systemText(system: MessagesRequest['system'], at: string, notes: Notes): string {
  if (system === undefined) return '';
  if (typeof system === 'string') return system;
  const out: string[] = [];
  system.forEach((b, i) => {
    if (b.cache_control !== undefined) notes.add('cache_control');
    out.push(parseOr400(textBlock, b, `${at}.${i}`).text);
  });
  return out.join('\n\n');
}

function toolResultContent(content: string | WireBlock[] | undefined, at: string, notes: Notes): { text: string; images: ContentPart[] } {
  if (content === undefined) return { text: '', images: [] };
  if (typeof content === 'string') return { text: content, images: [] };
  const texts: string[] = [];
  const images: ContentPart[] = [];
  content.forEach((b, i) => {
    for (const p of userBlock(b, `${at}.${i}`, notes)) {
      if (p.type === 'text') texts.push((p as { text: string }).text);
      else images.push(p);
    }
  });
  return { text: texts.join('\n'), images };
}

function convertTools(tools: NonNullable<MessagesRequest['tools']>, notes: Notes): ToolDefinition[] {
  const out: ToolDefinition[] = [];
  tools.forEach((t, i) => {
    if (t.type !== undefined && t.type !== 'custom') {
      // Server tools (web_search_…, code_execution_…, bash_…, text_editor_…): Anthropic runs them.
      notes.add(`server tool '${t.type}'`);
      return;
    }
    const tool = parseOr400(customTool, t, `tools.${i}`);
    if (tool.defer_loading) {
      notes.add('defer_loading tools');
      return;
    }
    if (t.cache_control !== undefined) notes.add('cache_control');
    const fn: ToolDefinition['function'] = { name: tool.name, parameters: tool.input_schema };
    if (tool.description !== undefined) fn.description = tool.description;
    out.push({ type: 'function', function: fn });
  });
  return out;
}

/** Anthropic's thinking budget → OpenAI's reasoning effort. */
function effortOf(thinking: MessagesRequest['thinking']): string | undefined {
  if (!thinking || thinking.type === 'disabled') return undefined;
  if (thinking.type === 'adaptive') return 'medium';
  const budget = thinking.budget_tokens ?? 0;
  if (budget < 4096) return 'low';
  if (budget < 16384) return 'medium';
  return 'high';
}

export function parseMessagesRequest(raw: unknown): ParsedMessagesRequest {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new HttpError(400, 'The request body must be a JSON object.');
  const body = parseOr400(messagesRequestSchema, raw, '');
  return { body, ...translateMessagesRequest(body) };
}

export function translateMessagesRequest(body: MessagesRequest): { chat: ChatRequest; notes: string[] } {
  const notes = new Notes();
  const messages: ChatMessage[] = [];
  const system = systemText(body.system, 'system', notes);
  if (system) messages.push({ role: 'system', content: system });

  // tool_use ids of the latest assistant turn: tool_result blocks must answer one of them.
  let openToolIds = new Set<string>();
  body.messages.forEach((m, mi) => {
    const at = `messages.${mi}`;
    const blocks = blocksOf(m.content);
    if (m.role === 'system') {
      // Claude Code sends these inside `messages`: they stay system messages, in place.
      const parts = blocks.flatMap((b, bi) => userBlock(b, `${at}.content.${bi}`, notes));
      messages.push({ role: 'system', content: simplify(parts) });
      return;
    }
    if (m.role === 'assistant') {
      const texts: string[] = [];
      const reasoning: string[] = [];
      const calls: ToolCall[] = [];
      blocks.forEach((b, bi) => {
        const bat = `${at}.content.${bi}`;
        if (b.cache_control !== undefined) notes.add('cache_control');
        switch (b.type) {
          case 'text':
            texts.push(parseOr400(textBlock, b, bat).text);
            break;
          case 'thinking':
            reasoning.push(parseOr400(thinkingBlock, b, bat).thinking);
            break;
          case 'tool_use': {
            const u = parseOr400(toolUseBlock, b, bat);
            calls.push({ id: u.id, type: 'function', function: { name: u.name, arguments: JSON.stringify(u.input ?? {}) } });
            break;
          }
          default:
            if (DROPPABLE_BLOCKS.has(b.type)) notes.add(`${b.type} blocks`);
            else throw new HttpError(400, `${bat}: unknown content block type '${b.type}'`, { param: `${bat}.type` });
        }
      });
      const msg: ChatMessage = { role: 'assistant', content: texts.length ? texts.join('') : calls.length ? null : '' };
      if (calls.length) msg.tool_calls = calls;
      if (reasoning.length) msg.reasoning_content = reasoning.join('');
      messages.push(msg);
      openToolIds = new Set(calls.map((c) => c.id));
      return;
    }
    // user: tool results first (they must follow the assistant's tool_calls), then the rest.
    const rest: ContentPart[] = [];
    const toolImages: ContentPart[] = [];
    blocks.forEach((b, bi) => {
      const bat = `${at}.content.${bi}`;
      if (b.type !== 'tool_result') {
        rest.push(...userBlock(b, bat, notes));
        return;
      }
      const r = parseOr400(toolResultBlock, b, bat);
      if (!openToolIds.has(r.tool_use_id)) {
        throw new HttpError(400, `${bat}: tool_result block with tool_use_id '${r.tool_use_id}' has no matching tool_use block in the previous assistant message (messages.${mi - 1}).`, {
          param: `${bat}.tool_use_id`,
        });
      }
      openToolIds.delete(r.tool_use_id);
      if (b.cache_control !== undefined) notes.add('cache_control');
      const { text, images } = toolResultContent(r.content, `${bat}.content`, notes);
      checkJsonTextDepth(text, `${bat}.content`);
      messages.push({ role: 'tool', tool_call_id: r.tool_use_id, content: r.is_error ? `Error: ${text}` : text });
      toolImages.push(...images);
    });
    openToolIds = new Set();
    // Tool messages take text only on most providers: images a tool returned follow as user content.
    const userParts = toolImages.length ? [{ type: 'text', text: 'Images returned by the tools above:' } as ContentPart, ...toolImages, ...rest] : rest;
    if (userParts.length) messages.push({ role: 'user', content: simplify(userParts) });
  });

  const chat: ChatRequest = { model: body.model, messages, max_tokens: body.max_tokens };
  if (body.stream) chat.stream = true;
  if (body.temperature !== undefined) chat.temperature = body.temperature;
  if (body.top_p !== undefined) chat.top_p = body.top_p;
  if (body.stop_sequences?.length) chat.stop = body.stop_sequences;
  if (body.tools?.length) {
    const tools = convertTools(body.tools, notes);
    if (tools.length) chat.tools = tools;
  }
  const tc = body.tool_choice;
  if (tc) {
    if (tc.type === 'tool') {
      if (!tc.name) throw new HttpError(400, 'tool_choice.name: Field required', { param: 'tool_choice.name' });
      if (!chat.tools?.some((t) => t.function.name === tc.name)) {
        throw new HttpError(400, `tool_choice names the tool '${tc.name}', which is not among the tools this target can run.`, { param: 'tool_choice.name' });
      }
      chat.tool_choice = { type: 'function', function: { name: tc.name } };
    } else if (chat.tools?.length || tc.type === 'none') {
      chat.tool_choice = tc.type === 'any' ? 'required' : tc.type;
    }
    if (tc.disable_parallel_tool_use && chat.tools?.length) chat.parallel_tool_calls = false;
  }
  const effort = effortOf(body.thinking);
  if (effort) chat.reasoning_effort = effort;
  for (const f of ANTHROPIC_ONLY_FIELDS) if ((body as Record<string, unknown>)[f] !== undefined) notes.add(f);
  return { chat, notes: notes.list };
}
