/**
 * @module OpenAI chat messages → Gemini `systemInstruction` + `contents`. System and developer
 * messages become the system instruction; user/assistant become `user`/`model` turns, consecutive
 * same-role turns merged; images become `inlineData` (http(s) URLs fetched here, since the Gemini API
 * only takes bytes or its own file URIs); assistant tool calls become `functionCall` parts and `tool`
 * messages `functionResponse` parts, named by the call they answer (Gemini has no call ids).
 */
import { randomToken } from '../../random-id.js';
import type { ChatMessage, ContentPart, ToolCall } from '../provider-adapter.js';
import { ProviderError } from '../provider-error.js';
import type { Content, Part } from './gemini-api.js';

/**
 * Gemini 3 rejects a replayed `functionCall` part without its `thoughtSignature` (400 "Function call
 * is missing a thought_signature"). OpenAI clients do not keep signatures, so when none came back we
 * send the sentinel the Gemini docs define for history that did not come from the model itself.
 */
export const SKIP_THOUGHT_SIGNATURE = 'skip_thought_signature_validator';

export interface GeminiPrompt {
  systemInstruction?: Content;
  contents: Content[];
}

export interface ConvertOptions {
  provider: string;
  model: string;
  /** Bytes of an image URL (data: or http(s)). */
  loadImage(url: string, param: string): Promise<{ mediaType: string; base64: string }>;
}

/** A generated OpenAI-style tool call id, for calls Gemini returned without one. */
export function newToolCallId(): string {
  return `call_${randomToken(12, 'base64url')}`;
}

function badRequest(message: string, param: string, opts: ConvertOptions): ProviderError {
  return new ProviderError(message, { kind: 'bad_request', status: 400, provider: opts.provider, model: opts.model, param });
}

function textOf(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((p): p is ContentPart & { text: string } => p.type === 'text' && typeof (p as { text?: unknown }).text === 'string')
    .map((p) => p.text)
    .join('\n');
}

/** Where the thought signature of a replayed call lives (Gemini's own OpenAI-compatible shape). */
function signatureOf(call: ToolCall): string | undefined {
  const extra = call.extra_content as { google?: { thought_signature?: unknown } } | undefined;
  const sig = extra?.google?.thought_signature;
  return typeof sig === 'string' && sig ? sig : undefined;
}

/** A tool result as Gemini wants it: an object. JSON objects pass as they are; anything else is wrapped. */
export function toFunctionResponse(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    return { result: parsed };
  } catch {
    return { result: text };
  }
}

async function userParts(msg: ChatMessage, i: number, opts: ConvertOptions): Promise<Part[]> {
  if (typeof msg.content === 'string') return msg.content ? [{ text: msg.content }] : [];
  if (!Array.isArray(msg.content)) return [];
  return Promise.all(
    msg.content.map(async (part, j): Promise<Part> => {
      const param = `messages[${i}].content[${j}]`;
      switch (part.type) {
        case 'text':
          return { text: String((part as { text?: unknown }).text ?? '') };
        case 'image_url': {
          const url = (part as { image_url?: { url?: unknown } }).image_url?.url;
          if (typeof url !== 'string' || !url) throw badRequest(`${param}.image_url.url is required`, `${param}.image_url.url`, opts);
          const img = await opts.loadImage(url, `${param}.image_url.url`);
          return { inlineData: { mimeType: img.mediaType, data: img.base64 } };
        }
        case 'input_audio': {
          const audio = (part as { input_audio?: { data?: unknown; format?: unknown } }).input_audio;
          if (typeof audio?.data !== 'string' || typeof audio.format !== 'string') {
            throw badRequest(`${param}.input_audio needs data and format`, `${param}.input_audio`, opts);
          }
          return { inlineData: { mimeType: `audio/${audio.format}`, data: audio.data } };
        }
        case 'file': {
          const fileData = (part as { file?: { file_data?: unknown } }).file?.file_data;
          if (typeof fileData !== 'string' || !fileData.startsWith('data:')) {
            throw badRequest(`${param}.file.file_data must be a data: URL for this provider`, `${param}.file.file_data`, opts);
          }
          const file = await opts.loadImage(fileData, `${param}.file.file_data`);
          return { inlineData: { mimeType: file.mediaType, data: file.base64 } };
        }
        default:
          throw badRequest(`content part type '${part.type}' is not supported by this provider`, `${param}.type`, opts);
      }
    }),
  ).then((parts) => parts.filter((p) => p.text !== ''));
}

function modelParts(msg: ChatMessage, i: number, opts: ConvertOptions): Part[] {
  const parts: Part[] = [];
  const text = textOf(msg.content);
  if (text) parts.push({ text });
  const calls = msg.tool_calls ?? [];
  const anySigned = calls.some((c) => signatureOf(c));
  calls.forEach((call, k) => {
    let args: unknown;
    try {
      args = call.function.arguments ? JSON.parse(call.function.arguments) : {};
    } catch {
      throw badRequest(`messages[${i}].tool_calls[${k}].function.arguments is not valid JSON`, `messages[${i}].tool_calls[${k}].function.arguments`, opts);
    }
    const part: Part = { functionCall: { name: call.function.name, args: typeof args === 'object' && args !== null && !Array.isArray(args) ? (args as Record<string, unknown>) : { value: args } } };
    // Only the first call of a parallel set carries the signature (Gemini thought-signature docs).
    const sig = signatureOf(call) ?? (!anySigned && k === 0 ? SKIP_THOUGHT_SIGNATURE : undefined);
    if (sig) part.thoughtSignature = sig;
    parts.push(part);
  });
  return parts;
}

/** Converts the whole conversation. Image URLs are fetched in parallel. */
export async function convertToGeminiMessages(messages: ChatMessage[], opts: ConvertOptions): Promise<GeminiPrompt> {
  const system: Part[] = [];
  /** tool_call_id → function name, from the assistant messages seen so far. */
  const callNames = new Map<string, string>();
  // Thunks, started only after every message passed the synchronous checks, so a bad message
  // never leaves an image fetch running with nobody awaiting it.
  const turns: Array<() => Promise<Content> | Content> = [];

  messages.forEach((msg, i) => {
    switch (msg.role) {
      case 'system':
      case 'developer': {
        const text = textOf(msg.content);
        if (text) system.push({ text });
        break;
      }
      case 'user':
        turns.push(() => userParts(msg, i, opts).then((parts): Content => ({ role: 'user', parts })));
        break;
      case 'assistant': {
        for (const c of msg.tool_calls ?? []) if (c.id) callNames.set(c.id, c.function.name);
        const parts = modelParts(msg, i, opts);
        turns.push(() => ({ role: 'model', parts }));
        break;
      }
      case 'tool': {
        const name = (msg.tool_call_id && callNames.get(msg.tool_call_id)) || msg.name;
        if (!name) {
          throw badRequest(
            `messages[${i}].tool_call_id ${JSON.stringify(msg.tool_call_id ?? null)} does not match a tool call of an earlier assistant message`,
            `messages[${i}].tool_call_id`,
            opts,
          );
        }
        const response = toFunctionResponse(textOf(msg.content));
        turns.push(() => ({ role: 'user', parts: [{ functionResponse: { name, response } }] }));
        break;
      }
      case 'function': {
        if (!msg.name) throw badRequest(`messages[${i}].name is required for role 'function'`, `messages[${i}].name`, opts);
        const fnName = msg.name;
        const response = toFunctionResponse(textOf(msg.content));
        turns.push(() => ({ role: 'user', parts: [{ functionResponse: { name: fnName, response } }] }));
        break;
      }
      default:
        throw badRequest(`messages[${i}].role '${String(msg.role)}' is not supported`, `messages[${i}].role`, opts);
    }
  });

  const contents = mergeTurns((await Promise.all(turns.map((t) => t()))).filter((c) => (c.parts?.length ?? 0) > 0));
  if (contents.length === 0) {
    // Gemini needs at least one turn ("contents is not specified"); a system-only conversation is
    // the prompt itself.
    if (system.length === 0) throw badRequest('messages must contain at least one message with content', 'messages', opts);
    return { contents: [{ role: 'user', parts: system }] };
  }
  return { systemInstruction: system.length ? { parts: system } : undefined, contents };
}

/** Gemini wants user and model turns to alternate: consecutive same-role turns become one. */
export function mergeTurns(turns: Content[]): Content[] {
  const out: Content[] = [];
  for (const t of turns) {
    const last = out.at(-1);
    if (last && last.role === t.role) last.parts = [...(last.parts ?? []), ...(t.parts ?? [])];
    else out.push({ role: t.role, parts: [...(t.parts ?? [])] });
  }
  return out;
}
