/**
 * @module Token counting with tiktoken, the way OpenAI bills a chat request: per-message overhead
 * (3 per message, +1 for a name, 3 to prime the reply), images by the tile rule, tool definitions by
 * OpenAI's cookbook formula. The same walk runs with a byte measure to give a cheap, provable upper
 * bound, so requests far below a threshold are never tokenized.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Tiktoken, TiktokenEncoding } from 'tiktoken';

// tiktoken's WASM costs ~20 MB of memory the moment it loads: load it on the first count, not at
// start-up (a config without condensation may never count a token). On node, `import` and `require`
// resolve to the same CommonJS build.
const require = createRequire(import.meta.url);
let tiktoken: typeof import('tiktoken') | undefined;
const get_encoding = (name: TiktokenEncoding): Tiktoken => (tiktoken ??= require('tiktoken') as typeof import('tiktoken')).get_encoding(name);
import type { ChatMessage, ChatRequest, ContentPart, ToolDefinition } from '../providers/provider-adapter.js';
import { dataUriImageSize } from './image-size.js';
import { estimateTextTokens, SCRIPT_COSTS } from './estimate-tokens.js';

export type EncodingName = Extract<TiktokenEncoding, 'cl100k_base' | 'o200k_base'>;

// Built once per process and never freed: building an encoder costs milliseconds and memory.
const encoders = new Map<EncodingName, Tiktoken>();

export function encoderFor(name: EncodingName): Tiktoken {
  let enc = encoders.get(name);
  if (!enc) {
    enc = get_encoding(name);
    encoders.set(name, enc);
  }
  return enc;
}

const O200K_MODEL_RE = /(?:^|[/:])(?:gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|gpt-oss|o1|o3|o4)(?:$|[-.:_])/i;

/** o200k_base for the gpt-4o / gpt-4.1 / o-series / gpt-5 families, cl100k_base for everything else. */
export function encodingForModel(model: string): EncodingName {
  return O200K_MODEL_RE.test(model) ? 'o200k_base' : 'cl100k_base';
}

/**
 * Counts of long strings, keyed by encoding + a hash of the text (the text itself is not kept).
 * Chat clients resend the whole history every turn, so with this cache a request costs roughly the
 * tokens of its new messages. Bounded; the oldest entries go first.
 */
const CACHE_MIN_CHARS = 512;
const CACHE_MAX_ENTRIES = 20_000;
const countCache = new Map<string, number>();

/**
 * Hostile text must not stall the process. tiktoken's BPE is quadratic in the length of one
 * pre-token (a run without whitespace: 16 K characters take ~0.25 s) and its WASM build aborts
 * ("unreachable") near 1 M. So a run longer than LONG_RUN is estimated (3 UTF-8 bytes a token: close
 * for base64 and minified code, above the count of repeated letters), and other long texts are
 * encoded in pieces cut at whitespace, where BPE pre-tokenization cuts anyway.
 */
const PIECE_CHARS = 100_000;
const LONG_RUN = 1_000;
const LONG_RUN_RE = new RegExp(`\\S{${LONG_RUN + 1},}`, 'g');

function encodePieces(enc: Tiktoken, text: string): number {
  let n = 0;
  for (let start = 0; start < text.length; ) {
    let end = Math.min(start + PIECE_CHARS, text.length);
    if (end < text.length) {
      const space = text.lastIndexOf(' ', end);
      if (space > start) end = space;
    }
    n += enc.encode_ordinary(text.slice(start, end)).length;
    start = end;
  }
  return n;
}

function encodeLength(enc: Tiktoken, text: string): number {
  if (text.length <= LONG_RUN) return enc.encode_ordinary(text).length;
  let n = 0;
  let last = 0;
  for (const m of text.matchAll(LONG_RUN_RE)) {
    if (m.index > last) n += encodePieces(enc, text.slice(last, m.index));
    n += Math.ceil(Buffer.byteLength(m[0], 'utf8') / 3);
    last = m.index + m[0].length;
  }
  if (last < text.length) n += encodePieces(enc, text.slice(last));
  return n;
}

/** A long string's figure from the cache, or computed and remembered (`kind` keeps counts and estimates apart). */
function remembered(kind: string, text: string, compute: (text: string) => number): number {
  const key = kind + createHash('sha1').update(text).digest('base64');
  const hit = countCache.get(key);
  if (hit !== undefined) return hit;
  const n = compute(text);
  if (countCache.size >= CACHE_MAX_ENTRIES) countCache.delete(countCache.keys().next().value as string);
  countCache.set(key, n);
  return n;
}

function cachedCount(enc: Tiktoken, encoding: EncodingName, text: string): number {
  if (text.length < CACHE_MIN_CHARS) return enc.encode_ordinary(text).length;
  return remembered(encoding, text, (t) => encodeLength(enc, t));
}

/** Tokens of a plain string. Special-token text (`<|endoftext|>`) is counted as ordinary text. */
export function countTextTokens(text: string, encoding: EncodingName = 'cl100k_base'): number {
  if (!text) return 0;
  return cachedCount(encoderFor(encoding), encoding, text);
}

/** How one string is measured: exact tokens, or UTF-8 bytes (every BPE token is at least one byte). */
export type Measure = (text: string) => number;

const byteMeasure: Measure = (s) => Buffer.byteLength(s, 'utf8');

export function tokenMeasure(encoding: EncodingName): Measure {
  const enc = encoderFor(encoding);
  return (s) => (s ? cachedCount(enc, encoding, s) : 0);
}

// OpenAI's per-message accounting (cookbook "How to count tokens with tiktoken").
const TOKENS_PER_MESSAGE = 3;
const TOKENS_PER_NAME = 1;
const REPLY_PRIMING = 3;

/**
 * OpenAI's image rule: `low` is 85; otherwise fit within 2048×2048, scale the shortest side down to
 * 768, and charge 170 per 512-pixel tile plus 85. The size is read from a data URI's header; for a
 * remote URL it is unknown and counted as a 1024×1024 image (765).
 */
export function imageTokens(url: string, detail: string | undefined): number {
  if (detail === 'low') return 85;
  const size = dataUriImageSize(url);
  let w = size?.width ?? 1024;
  let h = size?.height ?? 1024;
  if (w <= 0 || h <= 0) return 85;
  if (w > 2048 || h > 2048) {
    const s = 2048 / Math.max(w, h);
    w *= s;
    h *= s;
  }
  const shortest = Math.min(w, h);
  if (shortest > 768) {
    const s = 768 / shortest;
    w *= s;
    h *= s;
  }
  return 170 * Math.ceil(Math.floor(w) / 512) * Math.ceil(Math.floor(h) / 512) + 85;
}

function contentTokens(content: ChatMessage['content'], measure: Measure): number {
  if (content == null) return 0;
  if (typeof content === 'string') return measure(content);
  let n = 0;
  for (const p of content as ContentPart[]) {
    if (p.type === 'text' && typeof p.text === 'string') n += measure(p.text);
    else if (p.type === 'image_url') {
      const img = p.image_url as { url?: string; detail?: string } | undefined;
      n += imageTokens(img?.url ?? '', img?.detail);
    }
    // Audio/file parts are billed by the upstream's own rules; they are not counted here.
  }
  return n;
}

function messageTokens(m: ChatMessage, measure: Measure): number {
  let n = TOKENS_PER_MESSAGE + measure(m.role) + contentTokens(m.content, measure);
  if (m.name) n += TOKENS_PER_NAME + measure(m.name);
  if (m.tool_call_id) n += measure(m.tool_call_id);
  if (m.tool_calls) {
    for (const call of m.tool_calls) n += TOKENS_PER_MESSAGE + measure(call.function.name) + measure(call.function.arguments);
  }
  return n;
}

type JsonObject = Record<string, unknown>;

/**
 * Tool definitions by the OpenAI cookbook's formula (per function, per property, per enum item), with
 * nested schemas (objects, arrays) counted as their JSON text.
 */
function toolTokens(tools: readonly ToolDefinition[], measure: Measure, encoding: EncodingName): number {
  if (!tools.length) return 0;
  const funcInit = encoding === 'o200k_base' ? 7 : 10;
  const propInit = 3;
  const propKey = 3;
  const enumInit = -3;
  const enumItem = 3;
  const funcEnd = 12;
  let n = 0;
  for (const t of tools) {
    const f = t.function;
    n += funcInit;
    n += measure(`${f.name}:${(f.description ?? '').replace(/\.$/, '')}`);
    const props = (f.parameters?.properties ?? {}) as Record<string, JsonObject>;
    const keys = Object.keys(props);
    if (keys.length) n += propInit;
    for (const key of keys) {
      const p = props[key] ?? {};
      n += propKey;
      const { type, description, enum: values, ...rest } = p;
      if (Array.isArray(values)) {
        n += enumInit;
        for (const v of values) n += enumItem + measure(String(v));
      }
      n += measure(`${key}:${String(type ?? '')}:${String(description ?? '').replace(/\.$/, '')}`);
      if (Object.keys(rest).length) n += measure(JSON.stringify(rest));
    }
  }
  return n + funcEnd;
}

function requestTokens(messages: readonly ChatMessage[], tools: readonly ToolDefinition[] | undefined, measure: Measure, encoding: EncodingName): number {
  let n = REPLY_PRIMING;
  for (const m of messages) n += messageTokens(m, measure);
  if (tools?.length) n += toolTokens(tools, measure, encoding);
  return n;
}

/** Exact prompt tokens of messages (+ tools) as OpenAI counts them for `model`. */
export function countMessageTokens(messages: readonly ChatMessage[], model: string, tools?: readonly ToolDefinition[]): number {
  const encoding = encodingForModel(model);
  return requestTokens(messages, tools, tokenMeasure(encoding), encoding);
}

export function countRequestTokens(req: Pick<ChatRequest, 'messages' | 'tools'>, model: string): number {
  return countMessageTokens(req.messages, model, req.tools);
}

/**
 * An upper bound on `countRequestTokens` that never tokenizes: the same walk with every string
 * measured in UTF-8 bytes. It holds because a BPE token is never shorter than one byte.
 */
export function upperBoundTokens(req: Pick<ChatRequest, 'messages' | 'tools'>, model: string): number {
  return requestTokens(req.messages, req.tools, byteMeasure, encodingForModel(model));
}

/**
 * Tokens for a figure the upstream did not report (a stream the client left, an endpoint without a
 * usage chunk, message_start's input count): exact when this process already built the encoder (a
 * config with condensation or `max_request_tokens` builds it at start-up), else estimated without a
 * vocabulary (estimate-tokens.ts). Never loads tiktoken: that costs ~60–70 MB and blocks the event
 * loop for 0.3–2.5 s, on the request path, for a number that is approximate for most models anyway.
 */
export function estimateRequestTokens(req: Pick<ChatRequest, 'messages' | 'tools'>, model: string): number {
  const encoding = encodingForModel(model);
  return Math.ceil(requestTokens(req.messages, req.tools, unreportedMeasure(encoding), encoding));
}

/** Tokens of plain strings (embedding inputs) by the same rule. */
export function estimateTextsTokens(texts: readonly string[], encoding: EncodingName = 'cl100k_base'): number {
  const measure = unreportedMeasure(encoding);
  return Math.ceil(texts.reduce((n, t) => n + measure(t), 0));
}

/** Exact when the encoder is already built, else the estimate: never builds one. */
function unreportedMeasure(encoding: EncodingName): Measure {
  return encoders.has(encoding) ? tokenMeasure(encoding) : estimateMeasures[encoding];
}

/**
 * The estimate as a Measure. Long strings go through the same hash-keyed cache as exact counts:
 * agent clients resend a long system prompt, tools and history every turn, and hashing them
 * (~1.3 ns a character) is several times cheaper than estimating them again.
 */
const estimateMeasure = (encoding: EncodingName): Measure => {
  const costs = SCRIPT_COSTS[encoding];
  const kind = `~${encoding}`;
  const estimate = (t: string) => estimateTextTokens(t, costs);
  return (s) => (s.length < CACHE_MIN_CHARS ? estimate(s) : remembered(kind, s, estimate));
};
const estimateMeasures: Record<EncodingName, Measure> = { cl100k_base: estimateMeasure('cl100k_base'), o200k_base: estimateMeasure('o200k_base') };
