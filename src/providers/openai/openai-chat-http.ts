/**
 * @module The OpenAI adapter's two hot calls, chat completion as JSON and as SSE, made directly on the
 * client pool's transport. Everything else (models, embeddings, images, audio, video) goes through
 * the official SDK; on the chat path its request machinery (header merging, request logging,
 * response wrapping) measured ~150 µs of CPU per call here, more than the rest of the proxy hop.
 * Errors map through the same function as the SDK path's (map-openai-error.ts).
 */
import type { ChatCompletion, ChatStreamPart } from '../provider-adapter.js';
import { ProviderError } from '../provider-error.js';
import { unreadableBody, upstreamError } from './map-openai-error.js';
import { errorPayload } from '../error-payload.js';
import { keepRawJson } from '../raw-json.js';
import type { AbortLike } from '../lite-abort.js';
import type { StreamGuard } from '../deadline.js';
import { bodyBytes, bodyReadable, type NodeHttpFetch } from '../node-http-fetch.js';
import { OpenAIStreamParts } from './openai-stream-parts.js';

export interface ChatTransport {
  fetch: NodeHttpFetch;
  /** `<baseURL>/chat/completions`, made once per provider. */
  chatURL: string;
}

/**
 * The request of both calls. Not an async function of its own: the caller awaits the transport
 * directly and `failed` only for a status that is not ok, one async frame fewer per call.
 */
function post(t: ChatTransport, apiKey: string | undefined, body: unknown, signal: AbortLike, accept: string): Promise<Response> {
  return t.fetch(t.chatURL, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept, authorization: `Bearer ${apiKey ?? 'no-key'}` },
    body: JSON.stringify(body),
    signal,
  });
}

/** The upstream's error for a response that is not ok (thrown by the caller). */
async function failed(t: ChatTransport, res: Response, provider: string, model: string): Promise<ProviderError> {
  const payload = await errorPayload(res);
  return upstreamError(provider, model, res.status, payload, res.headers.get('retry-after'), undefined, new URL(t.chatURL).pathname);
}

export async function postChatJson(t: ChatTransport, apiKey: string | undefined, body: unknown, signal: AbortLike, provider: string, model: string): Promise<ChatCompletion> {
  const res = await post(t, apiKey, body, signal, 'application/json');
  if (!res.ok) throw await failed(t, res, provider, model);
  const bytes = await bodyBytes(res);
  const text = bytes.toString('utf8');
  let completion: ChatCompletion;
  try {
    completion = JSON.parse(text) as ChatCompletion;
  } catch (err) {
    throw unreadableBody(err, 'the chat completion', provider, model);
  }
  // The chat route answers with these bytes, usage spliced in (inbound/openai-chat/splice-usage.ts).
  if (completion !== null && typeof completion === 'object') keepRawJson(completion, text, bytes);
  return completion;
}

/**
 * Opens a chat stream; its parts come from the body's events (openai-stream-parts.ts), which keep the
 * call's deadline themselves.
 */
export async function postChatStream(t: ChatTransport, apiKey: string | undefined, body: unknown, signal: AbortLike, guard: StreamGuard, provider: string, model: string): Promise<AsyncIterable<ChatStreamPart>> {
  const res = await post(t, apiKey, body, signal, 'text/event-stream');
  if (!res.ok) throw await failed(t, res, provider, model);
  return new OpenAIStreamParts(bodyReadable(res), guard, res.headers.get('retry-after'), provider, model);
}
