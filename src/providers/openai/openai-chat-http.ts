/**
 * @module The OpenAI adapter's two hot calls, chat completion as JSON and as SSE, made directly on the
 * client pool's transport. Everything else (models, embeddings, images, audio, video) goes through
 * the official SDK; on the chat path its request machinery (header merging, request logging,
 * response wrapping) measured ~150 µs of CPU per call here, more than the rest of the proxy hop.
 * Errors map through the same function as the SDK path's (map-openai-error.ts).
 */
import { RawChunkPart, type ChatCompletion, type ChatCompletionChunk, type ChatStreamPart } from '../provider-adapter.js';
import { ProviderError } from '../provider-error.js';
import { upstreamError } from './map-openai-error.js';
import { errorPayload } from '../error-payload.js';
import { keepRawJson } from '../raw-json.js';
import type { AbortLike } from '../lite-abort.js';
import type { StreamGuard } from '../deadline.js';
import { bodyBytes, type NodeHttpFetch } from '../node-http-fetch.js';
import { SseDataReader } from './sse-data-reader.js';

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

/** An upstream body we cannot parse: `malformed` (a provider failure), never our own SyntaxError. */
function unreadable(err: unknown, what: string, provider: string, model: string): ProviderError {
  return new ProviderError(`${what} is not JSON: ${(err as Error).message}`, { kind: 'malformed', provider, model, cause: err });
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
    throw unreadable(err, 'the chat completion', provider, model);
  }
  // The chat route answers with these bytes, usage spliced in (inbound/openai-chat/splice-usage.ts).
  if (completion !== null && typeof completion === 'object') keepRawJson(completion, text, bytes);
  return completion;
}

/**
 * Opens a chat stream and yields it as parts. An ordinary content chunk (no finish_reason, no usage
 * object, no error) goes on as its raw JSON text, unparsed; the rest is parsed, and a chunk's usage is
 * lifted into a `usage` part so the SSE writer alone decides where usage goes.
 */
export async function postChatStream(t: ChatTransport, apiKey: string | undefined, body: unknown, signal: AbortLike, guard: StreamGuard, provider: string, model: string): Promise<AsyncIterable<ChatStreamPart>> {
  const res = await post(t, apiKey, body, signal, 'text/event-stream');
  if (!res.ok) throw await failed(t, res, provider, model);
  return chatStreamParts(res, guard, res.headers.get('retry-after'), provider, model);
}

/**
 * The stream's parts. A module-level generator, not a closure made per call: each new async
 * generator function gets its own hidden class for its generator objects (and a prototype made fast
 * for it), three maps per stream allocated in old space (`node --log-maps`; Node 20, 22 and 24 alike).
 * The events of one read are handled in this loop: no generator between the bytes and the parts. It
 * keeps its own deadline (deadline.ts guardOwnStream): a read that brings events restarts the clock,
 * and whatever it throws leaves through the guard's classification.
 */
async function* chatStreamParts(res: Response, guard: StreamGuard, retryAfter: string | null, provider: string, model: string): AsyncGenerator<ChatStreamPart> {
  const reader = new SseDataReader();
  let done = false;
  try {
    // Read on to the end of the body after [DONE] (it follows at once): leaving a for-await over the
    // response early destroys it, and with it the keep-alive connection.
    for await (const bytes of res.body as unknown as AsyncIterable<Uint8Array>) {
      if (done) continue;
      const events = reader.push(asBuffer(bytes));
      // An event that never ends (no line break, or data lines without the blank line) is the upstream's
      // fault: it fails as malformed instead of holding memory until the deadline.
      if (reader.pendingBytes > MAX_EVENT_BYTES) throw new ProviderError(`a stream event is longer than ${MAX_EVENT_BYTES} bytes`, { kind: 'malformed', provider, model });
      if (events.length > 0) guard.arm();
      for (const ev of events) {
        if (ev.latin1 === '[DONE]') {
          done = true;
          break;
        }
        // The check reads the Latin-1 view (its patterns are ASCII); an ordinary chunk framed exactly
        // `data: …\n\n` goes on as its own bytes, decoded only if something asks for its text.
        if (isPlainContentChunk(ev.latin1)) yield new RawChunkPart(ev);
        else yield* parsedParts(ev.text(), retryAfter, provider, model);
      }
    }
    if (!done) {
      for (const ev of reader.end()) {
        if (ev.latin1 === '[DONE]') break;
        yield* parsedParts(ev.text(), retryAfter, provider, model);
      }
    }
  } catch (err) {
    throw guard.fail(err);
  }
  guard.ended();
}

/** The most a stream event (or a line) may hold before it ends: as the pass-through usage tap's bound. */
export const MAX_EVENT_BYTES = 16 * 1024 * 1024;

/** Node's reads are Buffers; anything else is viewed as one (no copy). */
function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** The parts of a chunk that is not a plain content chunk (the first, the finish, usage, errors): a few a stream. */
function* parsedParts(data: string, retryAfter: string | null, provider: string, model: string): Generator<ChatStreamPart> {
  let chunk: ChatCompletionChunk & { error?: unknown };
  try {
    chunk = JSON.parse(data) as typeof chunk;
  } catch (err) {
    throw unreadable(err, 'a stream event', provider, model);
  }
  if (chunk.error !== undefined && chunk.choices === undefined) throw upstreamError(provider, model, undefined, chunk, retryAfter);
  const usage = chunk.usage;
  if (usage) {
    if (chunk.choices.length > 0) {
      const { usage: _omit, ...rest } = chunk;
      yield { type: 'chunk', chunk: rest as ChatCompletionChunk, final: rest.choices.some((c) => c.finish_reason) };
    }
    yield { type: 'usage', usage };
  } else if (chunk.choices.length > 0) {
    yield { type: 'chunk', chunk, final: chunk.choices.some((c) => c.finish_reason) };
  }
}

/**
 * What rules a chunk out of the fast path, in one pass: a finish reason with a value, an error, a
 * usage key not followed by `:null`. The keys' opening quotes are left out on purpose: a pattern
 * that starts with `"` stops at every quote of the chunk (~40), one that starts with `_`, `e` or `u`
 * lets the regex engine skip ahead (~50 against ~140 ns on a 250-byte chunk). It matches whatever the
 * quoted pattern matched and a little more (a content string ending in "error", a key ending in
 * `_reason`): such a chunk is parsed, which is slower, never wrong.
 */
const NOT_PLAIN = /_reason":"|error"|usage"(?!:null)/;

/**
 * Whether an SSE payload is an ordinary chunk that can be forwarded as it came: its last finish
 * reason is `null` (compact, as OpenAI writes it), and it has no finish reason with a value, no usage
 * object and no error. Inside JSON strings quotes are escaped, so these can only match the chunk's
 * own keys. Anything else (spaced serializers included) is parsed: slower, never wrong. The finish
 * reason is looked for from the end, where OpenAI writes it (`includes` scanned from the start).
 * The whole check: ~290 → ~85 ns on a 250-byte chunk (Node 20).
 */
export function isPlainContentChunk(data: string): boolean {
  const f = data.lastIndexOf('"finish_reason":');
  return f !== -1 && data.startsWith('null', f + 16) && !NOT_PLAIN.test(data);
}
