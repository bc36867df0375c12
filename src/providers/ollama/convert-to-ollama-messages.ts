/**
 * @module OpenAI chat messages → Ollama `/api/chat` messages. Ollama keeps OpenAI's roles (system
 * messages may sit anywhere, no alternation rule), but wants images as bare base64 in
 * `message.images`, tool-call arguments as objects, and tool results labelled with the function's
 * name (`tool_name`), which OpenAI only gives through the call id.
 */
import type { CallContext, ChatMessage, ContentPart, ImagePart } from '../provider-adapter.js';
import { ProviderError } from '../provider-error.js';
import { fetchImage } from '../fetch-image.js';
import type { OllamaMessage, OllamaToolCall } from './ollama-api.js';

export interface ConvertContext {
  provider: string;
  ctx: Pick<CallContext, 'model' | 'signal' | 'imagePolicy'>;
}

function badRequest(message: string, c: ConvertContext, param: string): ProviderError {
  return new ProviderError(message, { kind: 'bad_request', status: 400, provider: c.provider, model: c.ctx.model, param });
}

function isImagePart(p: ContentPart): p is ImagePart {
  return p.type === 'image_url';
}

/** Text of a message's content; image parts (user messages only) are collected separately. */
function textOf(content: ChatMessage['content'], c: ConvertContext, param: string, imagesAllowed = false): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  const texts: string[] = [];
  content.forEach((p, j) => {
    if (p.type === 'text') texts.push(String(p.text ?? ''));
    else if (!(imagesAllowed && isImagePart(p))) {
      throw badRequest(`Ollama does not accept content parts of type '${p.type}' in this message`, c, `${param}[${j}].type`);
    }
  });
  return texts.join('\n');
}

function parseArguments(text: string, c: ConvertContext, param: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw badRequest('tool call arguments must be a JSON object (Ollama takes them as an object)', c, param);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest('tool call arguments must be a JSON object (Ollama takes them as an object)', c, param);
  }
  return value as Record<string, unknown>;
}

export async function convertToOllamaMessages(messages: ChatMessage[], c: ConvertContext): Promise<OllamaMessage[]> {
  const out: OllamaMessage[] = [];
  // Image fetches start only once every message has been validated (a synchronous throw must not
  // leave fetches running with nobody to catch them), then run concurrently, each filling its slot.
  const fetches: Array<() => Promise<void>> = [];
  const toolNames = new Map<string, string>();

  messages.forEach((m, i) => {
    const param = `messages[${i}]`;
    switch (m.role) {
      case 'system':
      case 'developer':
        out.push({ role: 'system', content: textOf(m.content, c, `${param}.content`) });
        break;
      case 'user': {
        const msg: OllamaMessage = { role: 'user', content: textOf(m.content, c, `${param}.content`, true) };
        if (Array.isArray(m.content)) {
          const images = m.content.filter(isImagePart);
          if (images.length) {
            const slots: string[] = new Array(images.length);
            msg.images = slots;
            images.forEach((p, k) => {
              const url = p.image_url?.url;
              if (typeof url !== 'string' || !url) throw badRequest('image_url.url is required', c, `${param}.content`);
              fetches.push(async () => {
                slots[k] = (await fetchImage(url, { signal: c.ctx.signal, ...c.ctx.imagePolicy, provider: c.provider, model: c.ctx.model })).base64;
              });
            });
          }
        }
        out.push(msg);
        break;
      }
      case 'assistant': {
        const msg: OllamaMessage = { role: 'assistant', content: textOf(m.content, c, `${param}.content`) };
        if (typeof m.reasoning_content === 'string' && m.reasoning_content) msg.thinking = m.reasoning_content;
        if (m.tool_calls?.length) {
          msg.tool_calls = m.tool_calls.map((tc, j): OllamaToolCall => {
            const name = tc.function?.name;
            if (tc.id) toolNames.set(tc.id, name);
            return {
              ...(tc.id ? { id: tc.id } : {}),
              function: { index: j, name, arguments: parseArguments(tc.function?.arguments ?? '', c, `${param}.tool_calls[${j}].function.arguments`) },
            };
          });
        }
        out.push(msg);
        break;
      }
      case 'tool': {
        const msg: OllamaMessage = { role: 'tool', content: textOf(m.content, c, `${param}.content`) };
        const name = (m.tool_call_id && toolNames.get(m.tool_call_id)) || m.name;
        if (name) msg.tool_name = name;
        if (m.tool_call_id) msg.tool_call_id = m.tool_call_id;
        out.push(msg);
        break;
      }
      case 'function':
        // The legacy function-calling result: named, no id.
        out.push({ role: 'tool', content: textOf(m.content, c, `${param}.content`), ...(m.name ? { tool_name: m.name } : {}) });
        break;
      default:
        throw badRequest(`unknown message role '${String(m.role)}'`, c, `${param}.role`);
    }
  });

  await Promise.all(fetches.map((f) => f()));
  return out;
}
