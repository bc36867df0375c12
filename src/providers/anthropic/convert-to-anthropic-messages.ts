/**
 * @module OpenAI chat messages → Anthropic Messages `system` + `messages`: system/developer messages
 * go to the top-level system prompt, turns alternate user/assistant (consecutive same-role turns are
 * merged, tool results travel as `tool_result` blocks in a user turn), images become image blocks and
 * tool calls become `tool_use` blocks.
 */
import type { ChatMessage, ContentPart } from '../provider-adapter.js';
import { parseDataUrl } from '../fetch-image.js';
import { ProviderError } from '../provider-error.js';
import {
  ANTHROPIC_IMAGE_TYPES,
  type AnthropicContentParam,
  type AnthropicImageParam,
  type AnthropicImageType,
  type AnthropicMessageParam,
  type AnthropicTextParam,
  type AnthropicToolResultParam,
} from './anthropic-api.js';

export interface AnthropicPrompt {
  /** The system and developer messages' text, in order, separated by blank lines. */
  system: string | undefined;
  messages: AnthropicMessageParam[];
}

interface Where {
  provider: string;
  model: string;
}

/** A request the Messages API cannot express: the client gets a 400 naming the field. */
function badRequest(where: Where, message: string, param: string): ProviderError {
  return new ProviderError(message, { kind: 'bad_request', status: 400, provider: where.provider, model: where.model, param });
}

function imageBlock(url: string, where: Where, param: string): AnthropicImageParam {
  if (url.startsWith('data:')) {
    const img = parseDataUrl(url);
    if (!img) throw badRequest(where, `${param} is not a valid data: URL`, param);
    const mediaType = img.mediaType === 'image/jpg' ? 'image/jpeg' : img.mediaType;
    if (!(ANTHROPIC_IMAGE_TYPES as readonly string[]).includes(mediaType)) {
      throw badRequest(where, `${param}: image type ${mediaType} is not supported by Anthropic (use ${ANTHROPIC_IMAGE_TYPES.join(', ')})`, param);
    }
    return { type: 'image', source: { type: 'base64', media_type: mediaType as AnthropicImageType, data: img.base64 } };
  }
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  throw badRequest(where, `${param} must be an http(s) or data: URL`, param);
}

/** OpenAI's `file` part with inline data: PDFs and plain text become document blocks. */
function documentBlock(part: ContentPart, where: Where, param: string): AnthropicContentParam {
  const file = (part as { file?: { file_data?: unknown; file_id?: unknown; filename?: unknown } }).file;
  if (typeof file?.file_data !== 'string') {
    throw badRequest(where, `${param}.file_data is required for the Anthropic provider (uploaded file ids are OpenAI's own)`, `${param}.file_data`);
  }
  const data = parseDataUrl(file.file_data);
  if (!data) throw badRequest(where, `${param}.file_data is not a valid data: URL`, `${param}.file_data`);
  const title = typeof file.filename === 'string' && file.filename ? { title: file.filename } : {};
  if (data.mediaType === 'application/pdf') return { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: data.base64 }, ...title };
  if (data.mediaType === 'text/plain') {
    return { type: 'document', source: { type: 'text', media_type: 'text/plain', data: Buffer.from(data.base64, 'base64').toString('utf8') }, ...title };
  }
  throw badRequest(where, `${param}: file type ${data.mediaType} is not supported by Anthropic (use application/pdf or text/plain)`, `${param}.file_data`);
}

function textBlock(text: string, part?: ContentPart): AnthropicTextParam {
  const block: AnthropicTextParam = { type: 'text', text };
  // Clients that speak Anthropic's prompt caching through OpenAI-shaped parts put it here.
  const cache = part && (part as { cache_control?: unknown }).cache_control;
  if (cache && typeof cache === 'object') block.cache_control = cache as AnthropicTextParam['cache_control'];
  return block;
}

/** Text of a message's content, for places that take only text (system prompt, tool results). */
function plainText(content: ChatMessage['content']): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  return content
    .filter((p): p is { type: 'text'; text: string } => p.type === 'text' && typeof (p as { text?: unknown }).text === 'string')
    .map((p) => p.text)
    .join('\n');
}

/** User/assistant content → blocks; empty text is dropped (the API rejects empty text blocks). */
function contentBlocks(msg: ChatMessage, i: number, where: Where): AnthropicContentParam[] {
  const { content } = msg;
  if (content == null) return [];
  if (typeof content === 'string') return content ? [textBlock(content)] : [];
  const out: AnthropicContentParam[] = [];
  content.forEach((part, j) => {
    const param = `messages[${i}].content[${j}]`;
    if (part.type === 'text') {
      const text = (part as { text?: unknown }).text;
      if (typeof text === 'string' && text) out.push(textBlock(text, part));
    } else if (part.type === 'image_url') {
      const url = (part as { image_url?: { url?: unknown } }).image_url?.url;
      if (typeof url !== 'string') throw badRequest(where, `${param}.image_url.url is required`, `${param}.image_url.url`);
      out.push(imageBlock(url, where, `${param}.image_url.url`));
    } else if (part.type === 'file') {
      out.push(documentBlock(part, where, `${param}.file`));
    } else if (part.type === 'refusal') {
      const refusal = (part as { refusal?: unknown }).refusal;
      if (typeof refusal === 'string' && refusal) out.push(textBlock(refusal));
    } else {
      throw badRequest(where, `${param}: content part type ${JSON.stringify(part.type)} is not supported by the Anthropic provider`, `${param}.type`);
    }
  });
  return out;
}

function toolUseBlocks(msg: ChatMessage, i: number, where: Where): AnthropicContentParam[] {
  return (msg.tool_calls ?? []).map((call, j) => {
    const param = `messages[${i}].tool_calls[${j}].function.arguments`;
    const args = call.function?.arguments ?? '';
    let input: unknown = {};
    if (args.trim()) {
      try {
        input = JSON.parse(args);
      } catch {
        throw badRequest(where, `${param} is not valid JSON`, param);
      }
    }
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      throw badRequest(where, `${param} must be a JSON object`, param);
    }
    return { type: 'tool_use' as const, id: call.id, name: call.function.name, input };
  });
}

export function convertToAnthropicMessages(messages: ChatMessage[], where: Where): AnthropicPrompt {
  const system: string[] = [];
  const turns: Array<{ role: 'user' | 'assistant'; content: AnthropicContentParam[] }> = [];

  const push = (role: 'user' | 'assistant', blocks: AnthropicContentParam[]) => {
    if (blocks.length === 0) return;
    const last = turns.at(-1);
    if (last && last.role === role) last.content.push(...blocks);
    else turns.push({ role, content: [...blocks] });
  };

  messages.forEach((msg, i) => {
    switch (msg.role) {
      case 'system':
      case 'developer': {
        const text = plainText(msg.content);
        if (text) system.push(text);
        break;
      }
      case 'user':
        push('user', contentBlocks(msg, i, where));
        break;
      case 'assistant':
        // reasoning_content is not sent back: Anthropic only accepts thinking blocks it signed.
        push('assistant', [...contentBlocks(msg, i, where), ...toolUseBlocks(msg, i, where)]);
        break;
      case 'tool': {
        if (!msg.tool_call_id) throw badRequest(where, `messages[${i}].tool_call_id is required for role "tool"`, `messages[${i}].tool_call_id`);
        // Text-only results travel as a string; results with images keep their blocks.
        const hasImage = Array.isArray(msg.content) && msg.content.some((p) => p.type === 'image_url');
        const content = hasImage ? (contentBlocks(msg, i, where) as AnthropicToolResultParam['content']) : plainText(msg.content);
        const block: AnthropicContentParam = { type: 'tool_result', tool_use_id: msg.tool_call_id, content };
        push('user', [block]);
        break;
      }
      case 'function': {
        // OpenAI's deprecated function-result role carries no call id to pair with a tool_use block.
        const text = plainText(msg.content);
        push('user', [textBlock(`Result of function ${msg.name ?? ''}: ${text}`.trim())]);
        break;
      }
      default:
        throw badRequest(where, `messages[${i}].role ${JSON.stringify(msg.role)} is not supported`, `messages[${i}].role`);
    }
  });

  // The API wants a user turn's tool_result blocks before its other content.
  for (const turn of turns) {
    if (turn.role !== 'user' || !turn.content.some((b) => b.type === 'tool_result')) continue;
    turn.content = [...turn.content.filter((b) => b.type === 'tool_result'), ...turn.content.filter((b) => b.type !== 'tool_result')];
  }

  return { system: system.length ? system.join('\n\n') : undefined, messages: turns };
}
