/**
 * @module A `fetch` for the official SDKs (`new OpenAI({ fetch })`, `new Anthropic({ fetch })`) that
 * runs on node:http/https keep-alive agents instead of undici's WHATWG fetch. Measured here, one
 * JSON call costs ~300 µs of CPU through node:http and ~1,100 µs through global fetch: the SDKs
 * stay, only their transport changes. The response is a small duck-typed object: the SDKs read
 * `status`, `ok`, `url`, `headers.get/entries`, `json()`, `text()`, and iterate `body` (an
 * IncomingMessage is an async iterable of bytes), so no web streams are built per request.
 *
 * Bodies that are not a string or bytes (multipart FormData, streams) go to the global fetch.
 */
import { request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { createKeepAliveAgents } from './keep-alive-agents.js';
import { toAbortSignal, type AbortLike } from './lite-abort.js';

/**
 * fetch, whose `signal` may also be an AbortLike (lite-abort.ts): this transport reads only that part
 * of it, so the request path's calls build no AbortSignal.
 */
export type NodeHttpFetch = typeof fetch & ((input: string | URL, init?: Omit<RequestInit, 'signal'> & { signal?: AbortLike | null }) => Promise<Response>);

class LiteHeaders {
  constructor(private readonly raw: IncomingHttpHeaders) {}

  get(name: string): string | null {
    const v = this.raw[name.toLowerCase()];
    if (v === undefined) return null;
    return Array.isArray(v) ? v.join(', ') : String(v);
  }

  has(name: string): boolean {
    return this.raw[name.toLowerCase()] !== undefined;
  }

  *entries(): IterableIterator<[string, string]> {
    for (const [k, v] of Object.entries(this.raw)) if (v !== undefined) yield [k, Array.isArray(v) ? v.join(', ') : String(v)];
  }

  *keys(): IterableIterator<string> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): IterableIterator<string> {
    for (const [, v] of this.entries()) yield v;
  }

  forEach(cb: (value: string, key: string) => void): void {
    for (const [k, v] of this.entries()) cb(v, k);
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

class LiteResponse {
  readonly status: number;
  readonly statusText: string;
  readonly ok: boolean;
  readonly headers: LiteHeaders;
  readonly redirected = false;
  readonly type = 'basic';
  bodyUsed = false;

  constructor(
    readonly body: IncomingMessage,
    readonly url: string,
  ) {
    this.status = body.statusCode ?? 0;
    this.statusText = body.statusMessage ?? '';
    this.ok = this.status >= 200 && this.status < 300;
    this.headers = new LiteHeaders(body.headers);
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const buf = await this.bytes();
    return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  }

  async text(): Promise<string> {
    return (await this.bytes()).toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  /**
   * The whole body. Read with 'data' listeners rather than `for await`: a stream's async iterator sets
   * up an async generator, end-of-stream tracking and a promise per chunk, measurable on every JSON call.
   */
  bytes(): Promise<Buffer> {
    if (this.bodyUsed) return Promise.reject(new TypeError('Body is unusable: Body has already been read'));
    this.bodyUsed = true;
    const body = this.body;
    return new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let settled = false;
      const onData = (chunk: Buffer) => chunks.push(chunk);
      const onError = (err: Error) => done(err);
      // Closed before its end (the connection dropped, or the call was aborted without an error);
      // after 'end', 'close' follows and finds the promise settled.
      const onClose = () => {
        if (!settled) done(prematureClose()); // not an Error (and its stack) per answer
      };
      const onEnd = () => done(undefined);
      // The listeners stay on the finished body (garbage with it): taking four off deleted four
      // keys from its event map, the costliest part of reading a JSON answer (instructions.ts).
      const done = (err: Error | undefined) => {
        if (settled) return;
        settled = true;
        if (err) reject(err);
        else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      };
      if (body.destroyed) return reject(body.errored ?? prematureClose());
      body.on('data', onData).on('error', onError).on('close', onClose).on('end', onEnd);
    });
  }
}

/** A response's whole body as bytes: a LiteResponse's own buffer (no copy), else the web body's. */
export function bodyBytes(res: Response): Promise<Buffer> {
  // Not async: an async function returning a promise settles two microtask turns after it.
  return res instanceof LiteResponse ? res.bytes() : res.arrayBuffer().then((ab) => Buffer.from(ab));
}

/** A response's body as node's Readable: a LiteResponse's own IncomingMessage, else the web body's. */
export function bodyReadable(res: Response): Readable {
  if (res instanceof LiteResponse) return res.body;
  return res.body ? Readable.fromWeb(res.body as NodeReadableStream) : Readable.from([]);
}

interface ByteReader {
  read(): Promise<IteratorResult<Uint8Array>>;
  releaseLock(): void;
  cancel(): Promise<void>;
}

/**
 * `body.getReader()` for a transport made with `byteReader: true` (Ollama's and Google's SDKs read a
 * streamed body that way): that one method of a web ReadableStream over node's IncomingMessage (an
 * async iterable of bytes), instead of building a web stream per response. One function for every
 * body, called as the body's method: a response costs one property store, no closure.
 */
function getReader(this: AsyncIterable<Uint8Array>): ByteReader {
  const it = this[Symbol.asyncIterator]();
  return {
    read: () => it.next(),
    releaseLock: () => {},
    cancel: async () => {
      await it.return?.();
    },
  };
}

/** A body that ended without its end: what node's own readers say (a network error, so ours maps it as one). */
export const prematureClose = (): Error => Object.assign(new Error('aborted'), { code: 'ECONNRESET' });

function abortError(signal: AbortLike): Error {
  const reason = signal.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  return new DOMException('This operation was aborted', 'AbortError');
}

/** Calls `add(name, value)` for each header of a fetch `headers` init, in whichever of its three forms. */
function forEachHeader(h: RequestInit['headers'], add: (name: string, value: string) => void): void {
  if (!h) return;
  if (h instanceof Headers) h.forEach((v, k) => add(k, v));
  else if (Array.isArray(h)) for (const [k, v] of h as Array<[string, string]>) add(k, v);
  else for (const k of Object.keys(h)) add(k, (h as Record<string, string>)[k]!);
}

/** A bodiless request's headers as node's options object (node lower-cases and merges them itself). */
function plainHeaders(h: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  forEachHeader(h, (k, v) => (out[k] = v));
  return out;
}

/**
 * A request with a body as node's flat header array `[name, value, …]`: names lower-cased and each
 * once (the last value wins, as `setHeader` would have it), Host unless given, and Content-Length
 * always ours (the body's exact byte length, whatever a caller said).
 *
 * Why: given an object, node's ClientRequest calls `setHeader` for every header (validation,
 * lower-casing, a null-prototype store) and then walks that store with for-in, which V8 cannot cache
 * for a dictionary (~3.4 k instructions a request of `_storeHeader`'s alone, instructions.ts). Given
 * an array it writes the header block at once, and adds no Host itself. Only with a body: its
 * Content-Length is known here, so node's own framing choice for a bodiless request is not needed.
 */
function headerLines(h: RequestInit['headers'], host: string, contentLength: number): string[] {
  const out: string[] = [];
  const add = (name: string, value: string): void => {
    const k = name.toLowerCase();
    for (let i = 0; i < out.length; i += 2) {
      if (out[i] === k) {
        out[i + 1] = value;
        return;
      }
    }
    out.push(k, value);
  };
  forEachHeader(h, add);
  let hasHost = false;
  for (let i = 0; i < out.length; i += 2) if (out[i] === 'host') hasHost = true;
  if (!hasHost) out.push('host', host);
  add('content-length', String(contentLength));
  return out;
}

/** Below node's default 5 s server keepAliveTimeout, the usual shortest upstream idle timeout. */
export const FREE_SOCKET_TIMEOUT_MS = 4_000;

/**
 * A kept-alive socket the upstream closed while we were picking it up fails the first write with one
 * of these. Before any response byte the upstream cannot have answered, so the request can be sent
 * again on another socket (what node's docs advise for `request.reusedSocket`).
 */
const STALE_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);
/** Each failure destroys the stale socket; a few attempts cover several sockets gone stale at once. */
const MAX_STALE_RETRIES = 3;

/** What a request needs of its URL, parsed once per distinct URL string (see `targetOf`). */
interface Target {
  https: boolean;
  /** The Host header node would send: `[v6]` bracketed, the port only when not the scheme's default. */
  host: string;
  hostname: string;
  port: string | undefined;
  path: string;
  href: string;
}

function parseTarget(url: URL): Target {
  // url.host is already bracketed and omits the scheme's default port (the WHATWG URL parser drops it).
  return { https: url.protocol === 'https:', host: url.host, hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || undefined, path: url.pathname + url.search, href: url.href };
}

/** Distinct URL strings remembered per transport; past it the memo starts over (URLs may carry a client's key). */
const TARGET_MEMO_MAX = 256;

export interface NodeHttpFetchOptions {
  /** Sockets kept per origin. */
  maxSockets?: number;
  /** Response bodies also answer `getReader()`, for SDKs that read streams with it (Ollama's, Google's). */
  byteReader?: boolean;
}

/** Builds a fetch with its own keep-alive agents (one per provider pool keeps their sockets apart). */
export function createNodeHttpFetch(opts: NodeHttpFetchOptions = {}): NodeHttpFetch {
  // `timeout` caps how long a free socket idles before we close it. Without it node's agent keeps
  // idle sockets forever and ignores the upstream's `Keep-Alive: timeout=N` hint (it only lowers a
  // non-zero timeout), so a socket the upstream idle-closed gets reused and the call fails with
  // ECONNRESET / "socket hang up". 4 s stays under node's default 5 s server keepAliveTimeout; a
  // shorter hint still wins (the agent uses hint - 1 s). On an active request the socket timeout
  // only emits 'timeout', which nothing here acts on: long or paced answers are not cut.
  const { http: httpAgent, https: httpsAgent } = createKeepAliveAgents({ maxSockets: opts.maxSockets ?? 256, maxFreeSockets: 64, freeSocketTimeoutMs: FREE_SOCKET_TIMEOUT_MS });
  const byteReader = opts.byteReader === true;
  // A provider calls the same few URLs over and over: parse each once (`new URL` was ~1% of a request's CPU).
  const targets = new Map<string, Target>();
  const targetOf = (input: string | URL): Target => {
    if (typeof input !== 'string') return parseTarget(input);
    let t = targets.get(input);
    if (!t) {
      if (targets.size >= TARGET_MEMO_MAX) targets.clear();
      targets.set(input, (t = parseTarget(new URL(input))));
    }
    return t;
  };

  return function nodeHttpFetch(input: string | URL | Request, init?: Omit<RequestInit, 'signal'> & { signal?: AbortLike | null }): Promise<Response> {
    const body = init?.body;
    if (input instanceof Request || (body != null && typeof body !== 'string' && !(body instanceof Uint8Array))) return fetch(input, init?.signal ? { ...init, signal: toAbortSignal(init.signal) } : (init as RequestInit | undefined));
    const url = targetOf(input);
    const signal = init?.signal ?? undefined;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const https = url.https;
    // A string body is encoded once, here: node then neither counts its UTF-8 length again in end()
    // nor glues it to the header block as one string to send (every adapter's request benefits).
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    const headers = bytes != null ? headerLines(init?.headers, url.host, bytes.byteLength) : plainHeaders(init?.headers);

    return new Promise<Response>((resolve, reject) => {
      let res: IncomingMessage | undefined;
      let req: ClientRequest;
      const onAbort = () => {
        const err = abortError(signal!);
        req.destroy(err);
        res?.destroy(err);
        reject(err);
      };
      const send = (retriesLeft: number) => {
        req = (https ? httpsRequest : httpRequest)(
          {
            // `host`, not `hostname`: node then writes `host` over ours instead of adding a key to its
            // copies of these options (keep-alive-agents.ts); the protocol comes from the agent.
            agent: https ? httpsAgent : httpAgent,
            host: url.hostname,
            port: url.port,
            path: url.path,
            method: init?.method ?? 'GET',
            headers,
          },
          (incoming) => {
            res = incoming;
            if (signal) incoming.on('close', () => signal.removeEventListener('abort', onAbort)); // emitted once; `on` spares once's wrapper and its removal
            if (byteReader) (incoming as IncomingMessage & { getReader?: typeof getReader }).getReader = getReader;
            resolve(new LiteResponse(incoming, url.href) as unknown as Response);
          },
        );
        const sent = req;
        sent.once('error', (err: NodeJS.ErrnoException) => {
          if (res === undefined && sent.reusedSocket && retriesLeft > 0 && !signal?.aborted && STALE_SOCKET_CODES.has(err.code ?? '')) return send(retriesLeft - 1);
          signal?.removeEventListener('abort', onAbort);
          reject(Object.assign(new TypeError(`fetch failed: ${err.message}`), { cause: err }));
        });
        sent.end(bytes ?? undefined);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      send(MAX_STALE_RETRIES);
    });
  } as NodeHttpFetch;
}
