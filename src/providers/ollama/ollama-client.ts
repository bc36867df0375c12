/**
 * @module The official `ollama` SDK client, made safe for a gateway: per-call cancellation, no
 * filesystem probing of image strings, no leaked stream bookkeeping; and a pool with one client per
 * key, built once.
 *
 * Why not `client.abort()`: it aborts EVERY streamed request of that client, i.e. every user of the
 * same Ollama. And the SDK passes no signal at all to non-streamed requests. So each client gets a
 * custom `fetch` that attaches the signal of the call currently running (carried by an
 * AsyncLocalStorage, which follows the SDK's awaits into its fetch call). The SDK's own stream
 * AbortController only fires on `abort()`, which we never call, so replacing its signal loses nothing.
 * The fetch also remembers the Response, so error mapping can read headers (Retry-After) that the
 * SDK's ResponseError drops, and turns non-JSON error pages into Ollama's `{"error"}` shape.
 */
import { copyWith } from '../../copy-with.js';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Ollama, type AbortableAsyncIterator, type ChatRequest, type ChatResponse } from 'ollama';
import type { OllamaChatRequest } from './ollama-api.js';
import { ClientPool } from '../client-pool.js';
import { createNodeHttpFetch } from '../node-http-fetch.js';

export const OLLAMA_DEFAULT_ENDPOINT = 'http://127.0.0.1:11434';

/** What one upstream call carries into the SDK's fetch. */
export interface OllamaCall {
  /** The deadline's signal, set when the call starts (the error mapper holds the object before). */
  signal?: AbortSignal;
  /** The last HTTP response of this call (set by the fetch). */
  response?: Response;
}

const currentCall = new AsyncLocalStorage<OllamaCall>();

/**
 * The SDK's HTTP goes over node:http (node-http-fetch.ts), not the global fetch: undici costs ~1,100 µs
 * of CPU a call against ~300, and on Node 20 builds two async generator functions per request (new
 * hidden classes each time). The SDK reads a stream with `body.getReader()`, which the transport's
 * `byteReader` option gives node's body.
 */
const transport = createNodeHttpFetch({ byteReader: true });

const fetchForCurrentCall: typeof fetch = async (input, init) => {
  const call = currentCall.getStore();
  const options = call?.signal ? copyWith(init ?? {}, { signal: call.signal }) : init;
  // The transport hands what it does not carry (a Request, a stream body) to the global fetch itself.
  let res = await transport(input, options);
  if (call) call.response = res;
  if (!res.ok && !res.headers.get('content-type')?.includes('application/json')) {
    // Ollama's own errors are JSON; a proxy's page is not, and the SDK would console.log while reading
    // it. Hand it over as Ollama's `{"error"}` shape with the readable part of the text.
    const text = (await res.text().catch(() => '')).replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300);
    const headers = new Headers([...res.headers.entries()]);
    headers.set('content-type', 'application/json');
    headers.delete('content-length');
    headers.delete('content-encoding');
    res = new Response(JSON.stringify({ error: text || `HTTP ${res.status}` }), { status: res.status, statusText: res.statusText, headers });
  }
  return res;
};

export class OllamaClient extends Ollama {
  constructor(host: string, apiKey: string | undefined) {
    super({ host, fetch: fetchForCurrentCall, headers: apiKey ? { Authorization: `Bearer ${apiKey}` } : undefined });
  }

  /**
   * The Node build of the SDK treats any image string naming an existing file as a path and sends
   * that file's bytes: a client-chosen "base64" like `//etc/passwd` would exfiltrate it. Our images
   * are always base64 already.
   */
  override async encodeImage(image: Uint8Array | Buffer | string): Promise<string> {
    return typeof image === 'string' ? image : Buffer.from(image).toString('base64');
  }

  /** Runs `fn` (one SDK call) with `call`'s signal attached to every request it makes. */
  run<T>(call: OllamaCall, fn: () => Promise<T>): Promise<T> {
    return currentCall.run(call, fn);
  }

  /** `/api/chat`, non-streamed. */
  chatOnce(call: OllamaCall, body: OllamaChatRequest): Promise<ChatResponse> {
    return this.run(call, () => this.chat(copyWith(body as unknown as ChatRequest, { stream: false as const })));
  }

  /** `/api/chat`, streamed: the NDJSON lines as parsed objects. */
  async chatStream(call: OllamaCall, body: OllamaChatRequest): Promise<AsyncIterable<unknown>> {
    const it = await this.run(call, () => this.chat(copyWith(body as unknown as ChatRequest, { stream: true as const })));
    return this.tracked(it);
  }

  /**
   * The SDK keeps each stream in `ongoingStreamedRequests` until it sees `done`; a stream that ends
   * any other way (client gone, error) would stay there for the life of the daemon.
   */
  private async *tracked(it: AbortableAsyncIterator<ChatResponse>): AsyncGenerator<unknown> {
    try {
      yield* it;
    } finally {
      const i = this.ongoingStreamedRequests.indexOf(it as AbortableAsyncIterator<object>);
      if (i >= 0) this.ongoingStreamedRequests.splice(i, 1);
    }
  }
}

/** One client per key (Ollama is usually keyless; a key is sent as a Bearer token, e.g. to ollama.com). */
export class OllamaClientPool extends ClientPool<OllamaClient> {
  constructor(host: string) {
    super(host, (apiKey) => new OllamaClient(host, apiKey));
  }
}
