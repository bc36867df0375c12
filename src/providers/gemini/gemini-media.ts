/**
 * @module What the Gemini capability modules (image, speech, video) share: the adapter's client pool
 * and base URL they are handed, the model-name check, the WAV wrapper for Gemini's raw PCM, and a raw
 * REST call for the one endpoint the SDK only offers on Vertex (Imagen's `:predict` on the Gemini API).
 */
import { ApiError } from '@google/genai';
import type { CallContext } from '../provider-adapter.js';
import { ProviderError } from '../provider-error.js';
import type { GeminiClientPool } from './gemini-adapter.js';
import { mapGeminiError } from './map-gemini-error.js';

export interface GeminiMediaContext {
  /** The providers.json id. */
  id: string;
  pool: GeminiClientPool;
  /** The API host (without `/v1beta`), as the SDK clients are built with. */
  baseUrl: string;
}

/** What may stand in the `{model}` path segment; anything else is refused before a URL is built. */
const MODEL_NAME_RE = /^(?:models\/)?[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function checkGeminiModel(g: GeminiMediaContext, model: string): string {
  if (!MODEL_NAME_RE.test(model) || model.includes('..')) {
    throw new ProviderError(`'${model}' is not a valid Gemini model name`, { kind: 'not_found', status: 404, provider: g.id, model });
  }
  return model.replace(/^models\//, '');
}

export function badRequest(g: GeminiMediaContext, ctx: CallContext, message: string, param: string): ProviderError {
  return new ProviderError(message, { kind: 'bad_request', status: 400, provider: g.id, model: ctx.model, param });
}

export function malformed(g: GeminiMediaContext, ctx: CallContext, message: string): ProviderError {
  return new ProviderError(message, { kind: 'malformed', provider: g.id, model: ctx.model });
}

/** `${baseUrl}/v1beta/${path}` as the SDK builds it. */
export function geminiUrl(g: GeminiMediaContext, path: string): string {
  return `${g.baseUrl.replace(/\/+$/, '')}/v1beta/${path}`;
}

/**
 * POSTs JSON to a Gemini REST path with the key in `x-goog-api-key` (as the SDK sends it) and reads
 * the JSON answer. Error bodies become the SDK's ApiError (its message is the body's JSON), so
 * mapGeminiError classifies them exactly as it does the SDK's own calls.
 */
export async function postGeminiJson(g: GeminiMediaContext, ctx: CallContext, path: string, body: unknown, signal: AbortSignal): Promise<unknown> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (ctx.apiKey) headers['x-goog-api-key'] = ctx.apiKey;
  const res = await fetch(geminiUrl(g, path), { method: 'POST', headers, body: JSON.stringify(body), signal });
  if (!res.ok) {
    const text = await res.text().catch(() => '');
    const message = (res.headers.get('content-type') ?? '').includes('json') ? text : JSON.stringify({ error: { message: text, code: res.status, status: res.statusText } });
    throw mapGeminiError(g.id, ctx.model)(new ApiError({ message, status: res.status }))!;
  }
  try {
    return await res.json();
  } catch (err) {
    throw new ProviderError('the answer is not JSON', { kind: 'malformed', provider: g.id, model: ctx.model, cause: err });
  }
}

/** Wraps little-endian 16-bit PCM into a WAV (RIFF) file. */
export function pcmToWav(pcm: Uint8Array, sampleRate: number, channels = 1, bitsPerSample = 16): Uint8Array {
  const header = Buffer.alloc(44);
  const blockAlign = (channels * bitsPerSample) / 8;
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + pcm.byteLength, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * blockAlign, 28);
  header.writeUInt16LE(blockAlign, 32);
  header.writeUInt16LE(bitsPerSample, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(pcm.byteLength, 40);
  return Buffer.concat([header, pcm]);
}

/** OpenAI `size` (`WxH`) → the nearest aspect ratio Gemini/Imagen/Veo accept. */
export function aspectRatioOf(size: string | undefined, allowed: readonly string[]): string | undefined {
  const m = size ? /^(\d+)x(\d+)$/.exec(size) : null;
  if (!m) return undefined;
  const want = Number(m[1]) / Number(m[2]);
  let best: string | undefined;
  let bestDiff = Infinity;
  for (const r of allowed) {
    const [w, h] = r.split(':').map(Number) as [number, number];
    const diff = Math.abs(Math.log(w / h / want));
    if (diff < bestDiff) {
      bestDiff = diff;
      best = r;
    }
  }
  return best;
}
