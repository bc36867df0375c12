/**
 * @module Hugging Face's task endpoints behind the inference router (`{router}/hf-inference/models/{model}`,
 * Bearer token) as adapter capability methods: feature-extraction (embeddings, via
 * `…/pipeline/feature-extraction`), text-to-image, image-to-image (edits), text-to-speech, automatic
 * speech recognition, text-to-video and image-to-video. Wire formats as huggingface.js's hf-inference
 * helpers send them: JSON `{inputs, parameters}` in, raw bytes out for media; raw audio bytes in and
 * `{text, chunks?}` out for ASR; nested number arrays out for feature-extraction.
 *
 * Videos: HF answers a video request with the finished bytes in one call, so a "job" is born
 * `completed`. Its bytes are kept in a bounded in-memory store (module level, so a config reload does
 * not drop them) and served from there by getVideoContent; they are not re-fetched, because a second
 * generation would be a different (and billed) video. After a restart, or once evicted (an hour, or
 * the store's size bound), the job answers 404 not found.
 */
import { randomBytes } from 'node:crypto';
import { withDeadline } from '../deadline.js';
import { floatsToBase64 } from '../float32-base64.js';
import { estimateTextsTokens } from '../../tokens/count-tokens.js';
import type {
  AudioResult,
  CallContext,
  EmbedRequest,
  EmbedResult,
  ImageEditRequest,
  ImageRequest,
  ImageResult,
  SpeechRequest,
  TranscriptionRequest,
  TranscriptionResult,
  VideoContentVariant,
  VideoJob,
  VideoRequest,
} from '../provider-adapter.js';
import { embeddingTexts } from '../embedding-input.js';
import { ProviderError, kindFromStatus, parseRetryAfter } from '../provider-error.js';
import { normalizeHuggingFaceError } from './map-huggingface-error.js';

/** Hub model ids: `name` or `org/name` (letters, digits, `.`, `_`, `-`); anything else never reaches a URL. */
const MODEL_RE = /^[A-Za-z0-9][\w.-]{0,95}(?:\/[A-Za-z0-9][\w.-]{0,95})?$/;

/** Parameters the platform routes (and clients) may send along; passed to HF under these names. */
const IMAGE_PARAMS = ['negative_prompt', 'num_inference_steps', 'guidance_scale', 'seed', 'strength'] as const;
const VIDEO_PARAMS = ['negative_prompt', 'num_inference_steps', 'guidance_scale', 'seed', 'num_frames'] as const;

/** The router's task base for an OpenAI-compatible router endpoint (`…/v1` → `…/hf-inference`). */
export function huggingFaceTasksBase(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '').replace(/\/v1$/, '')}/hf-inference`;
}

type Body = { json: unknown } | { bytes: Uint8Array; contentType: string };

interface StoredVideo {
  data: Uint8Array;
  contentType: string;
  job: VideoJob;
  expiresAt: number;
}

/** Finished HF videos by our upstream id, bounded in count, bytes and age. */
class VideoStore {
  private readonly items = new Map<string, StoredVideo>();
  private bytes = 0;
  constructor(
    private readonly maxItems = 32,
    private readonly maxBytes = 512 * 1024 * 1024,
    readonly ttlMs = 3600_000,
  ) {}

  put(id: string, v: StoredVideo): void {
    this.sweep(Date.now());
    this.items.set(id, v);
    this.bytes += v.data.byteLength;
    // Oldest first (Map keeps insertion order); the newest always stays.
    for (const [k, old] of this.items) {
      if (this.items.size <= this.maxItems && this.bytes <= this.maxBytes) break;
      if (k === id) continue;
      this.items.delete(k);
      this.bytes -= old.data.byteLength;
    }
  }

  get(id: string): StoredVideo | undefined {
    this.sweep(Date.now());
    return this.items.get(id);
  }

  private sweep(now: number): void {
    for (const [k, v] of this.items) {
      if (v.expiresAt > now) continue;
      this.items.delete(k);
      this.bytes -= v.data.byteLength;
    }
  }
}

const videoStore = new VideoStore();

function base64(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
}

function pickParams(req: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const n of names) if (req[n] !== undefined && req[n] !== null) out[n] = req[n];
  return out;
}

/** `"1024x768"` → width/height parameters (HF's names). */
function sizeParams(size: unknown): Record<string, number> {
  const m = typeof size === 'string' ? /^(\d{2,5})x(\d{2,5})$/.exec(size) : null;
  return m ? { width: Number(m[1]), height: Number(m[2]) } : {};
}

/** Mean of token vectors (models without a pooling head answer one vector per token). */
function meanPool(rows: number[][]): number[] {
  const dim = rows[0]?.length ?? 0;
  const out = new Array<number>(dim).fill(0);
  for (const r of rows) for (let i = 0; i < dim; i++) out[i]! += r[i]! / rows.length;
  return out;
}

function isNumbers(x: unknown): x is number[] {
  return Array.isArray(x) && x.length > 0 && x.every((v) => typeof v === 'number');
}

/** One input's feature-extraction output (a vector, or token vectors) → one vector. */
function toVector(x: unknown): number[] | undefined {
  if (isNumbers(x)) return x;
  if (Array.isArray(x) && x.length > 0 && x.every(isNumbers)) return meanPool(x as number[][]);
  // [1, tokens, dim]: a batch of one, unpooled.
  if (Array.isArray(x) && x.length === 1) return toVector(x[0]);
  return undefined;
}

export class HuggingFaceTasks {
  readonly base: string;

  constructor(
    readonly id: string,
    routerEndpoint: string,
  ) {
    this.base = huggingFaceTasksBase(routerEndpoint);
  }

  private url(model: string, pipeline?: string): string {
    if (!MODEL_RE.test(model) || model.includes('..')) {
      throw new ProviderError(`'${model}' is not a valid Hugging Face model id (expected org/name)`, { kind: 'not_found', status: 404, provider: this.id, model });
    }
    return `${this.base}/models/${model}${pipeline ? `/pipeline/${pipeline}` : ''}`;
  }

  private bad(ctx: CallContext, message: string, param: string): ProviderError {
    return new ProviderError(message, { kind: 'bad_request', status: 400, provider: this.id, model: ctx.model, param });
  }

  /** One task call under the call's deadline; non-2xx bodies become ProviderErrors. */
  private request(ctx: CallContext, url: string, body: Body, accept: string): Promise<Response> {
    return withDeadline(ctx, { provider: this.id }, async (signal) => {
      const headers: Record<string, string> = { accept };
      if (ctx.apiKey) headers.authorization = `Bearer ${ctx.apiKey}`;
      let payload: RequestInit['body'];
      if ('json' in body) {
        headers['content-type'] = 'application/json';
        payload = JSON.stringify(body.json);
      } else {
        headers['content-type'] = body.contentType;
        payload = body.bytes as Uint8Array<ArrayBuffer>;
      }
      const res = await fetch(url, { method: 'POST', headers, body: payload, signal });
      if (!res.ok) throw await this.errorFrom(res, ctx.model);
      return res;
    });
  }

  private async errorFrom(res: Response, model: string): Promise<ProviderError> {
    const text = await res.text().catch(() => '');
    const { envelope, retryAfterSeconds } = normalizeHuggingFaceError(res.status, text);
    const message = envelope.error.message;
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after')) ?? (retryAfterSeconds !== undefined ? retryAfterSeconds * 1000 : undefined);
    // A model that is still loading (503 + estimated_time) is a passing server fault: fail over.
    const kind = /does not exist|model .*not found/i.test(message) && res.status < 500 ? 'not_found' : kindFromStatus(res.status, message);
    return new ProviderError(message, { kind, status: res.status, provider: this.id, model, retryAfterMs, code: envelope.error.code });
  }

  /** A media body, checked to be what was asked for (HF answers errors as JSON, sometimes with 200). */
  private async media(res: Response, ctx: CallContext, what: 'image' | 'audio' | 'video'): Promise<{ data: Uint8Array; contentType: string }> {
    const contentType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    const data = new Uint8Array(await res.arrayBuffer());
    if (contentType.startsWith(`${what}/`) || (contentType === 'application/octet-stream' && data.byteLength > 0)) {
      return { data, contentType: contentType.startsWith(`${what}/`) ? contentType : `${what}/${what === 'image' ? 'png' : what === 'audio' ? 'wav' : 'mp4'}` };
    }
    if (contentType.includes('json')) {
      let json: unknown;
      try {
        json = JSON.parse(Buffer.from(data).toString('utf8'));
      } catch {
        json = undefined;
      }
      // Some providers behind the router answer images as {data:[{b64_json}]}.
      const b64 = (json as { data?: Array<{ b64_json?: unknown }> } | undefined)?.data?.[0]?.b64_json;
      if (what === 'image' && typeof b64 === 'string') return { data: Buffer.from(b64, 'base64'), contentType: 'image/png' };
      const msg = (json as { error?: unknown } | undefined)?.error;
      if (typeof msg === 'string') throw new ProviderError(msg, { kind: 'server', status: res.status, provider: this.id, model: ctx.model });
    }
    throw new ProviderError(`expected ${what} bytes, got '${contentType || 'no content-type'}' (${data.byteLength} bytes)`, { kind: 'malformed', provider: this.id, model: ctx.model });
  }

  async embed(req: EmbedRequest, ctx: CallContext): Promise<EmbedResult> {
    const input = req.input;
    const texts = embeddingTexts(input, this.id, ctx.model, 'Hugging Face feature-extraction');
    if (req.dimensions !== undefined) throw this.bad(ctx, "Hugging Face feature-extraction has no 'dimensions' setting; leave it out", 'dimensions');
    const res = await this.request(ctx, this.url(ctx.model, 'feature-extraction'), { json: { inputs: texts } }, 'application/json');
    let json: unknown;
    try {
      json = await res.json();
    } catch (err) {
      throw new ProviderError('feature-extraction answered something that is not JSON', { kind: 'malformed', provider: this.id, model: ctx.model, cause: err });
    }
    const vectors = Array.isArray(json) && json.length === texts.length ? json.map(toVector) : texts.length === 1 ? [toVector(json)] : [];
    if (vectors.length !== texts.length || vectors.some((v) => !v)) {
      throw new ProviderError(`feature-extraction did not answer one vector per input (${texts.length} inputs)`, { kind: 'malformed', provider: this.id, model: ctx.model });
    }
    const base64Out = req.encoding_format === 'base64';
    const tokens = estimateTextsTokens(texts);
    return {
      object: 'list',
      data: (vectors as number[][]).map((v, index) => ({ object: 'embedding', index, embedding: base64Out ? floatsToBase64(v) : v })),
      model: req.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  }

  private imageResult(images: Array<{ data: Uint8Array; contentType: string }>, format: ImageRequest['response_format']): ImageResult {
    return {
      created: Math.floor(Date.now() / 1000),
      // No URL exists for bytes HF handed back: `url` answers a data: URI.
      data: images.map((i) => (format === 'url' ? { url: `data:${i.contentType};base64,${base64(i.data)}` } : { b64_json: base64(i.data) })),
    };
  }

  async generateImage(req: ImageRequest, ctx: CallContext): Promise<ImageResult> {
    const parameters = { ...sizeParams(req.size), ...pickParams(req, ['width', 'height', ...IMAGE_PARAMS]) };
    const url = this.url(ctx.model);
    const images = [];
    // text-to-image makes one image per call.
    for (let i = 0; i < (req.n ?? 1); i++) {
      const res = await this.request(ctx, url, { json: { inputs: req.prompt, parameters } }, 'image/png, image/*');
      images.push(await this.media(res, ctx, 'image'));
    }
    return this.imageResult(images, req.response_format);
  }

  async editImage(req: ImageEditRequest, ctx: CallContext): Promise<ImageResult> {
    const image = req.image[0];
    if (!image) throw this.bad(ctx, "Missing required parameter: 'image'.", 'image');
    if (req.mask) throw this.bad(ctx, 'Hugging Face image-to-image takes no mask; send the image and a prompt only', 'mask');
    const parameters = { prompt: req.prompt, ...pickParams(req, IMAGE_PARAMS), ...(sizeParams(req.size).width ? { target_size: sizeParams(req.size) } : {}) };
    const url = this.url(ctx.model);
    const images = [];
    for (let i = 0; i < (req.n ?? 1); i++) {
      const res = await this.request(ctx, url, { json: { inputs: base64(image.data), parameters } }, 'image/png, image/*');
      images.push(await this.media(res, ctx, 'image'));
    }
    return this.imageResult(images, req.response_format);
  }

  /** text-to-speech: the model picks its own audio format (usually FLAC or WAV); it is labelled, not converted. */
  async speak(req: SpeechRequest, ctx: CallContext): Promise<AudioResult> {
    const res = await this.request(ctx, this.url(ctx.model), { json: { inputs: req.input } }, 'audio/*');
    return this.media(res, ctx, 'audio');
  }

  async transcribe(req: TranscriptionRequest, ctx: CallContext): Promise<TranscriptionResult> {
    const res = await this.request(ctx, this.url(ctx.model), { bytes: req.file.data, contentType: req.file.mimeType || 'application/octet-stream' }, 'application/json');
    let json: { text?: unknown; chunks?: Array<{ text?: unknown; timestamp?: unknown }> };
    try {
      json = (await res.json()) as typeof json;
    } catch (err) {
      throw new ProviderError('automatic-speech-recognition answered something that is not JSON', { kind: 'malformed', provider: this.id, model: ctx.model, cause: err });
    }
    if (typeof json?.text !== 'string') throw new ProviderError('automatic-speech-recognition answered no text', { kind: 'malformed', provider: this.id, model: ctx.model });
    const out: TranscriptionResult = { text: json.text.trim() };
    if (req.language) out.language = req.language;
    const segments = (Array.isArray(json.chunks) ? json.chunks : []).flatMap((c, id) => {
      const ts = Array.isArray(c.timestamp) ? c.timestamp : [];
      return typeof c.text === 'string' && typeof ts[0] === 'number' ? [{ id, start: ts[0], end: typeof ts[1] === 'number' ? ts[1] : ts[0], text: c.text }] : [];
    });
    if (segments.length) {
      out.segments = segments;
      out.duration = segments[segments.length - 1]!.end;
    }
    return out;
  }

  /** text-to-video / image-to-video: one call answers the finished video, kept for getVideoContent. */
  async startVideo(req: VideoRequest, ctx: CallContext): Promise<VideoJob> {
    const ref = req.input_reference;
    if (ref && !('data' in ref)) throw this.bad(ctx, 'Hugging Face image-to-video needs the image uploaded as a file (input_reference), not a URL or file id', 'input_reference');
    const parameters = { ...pickParams(req, VIDEO_PARAMS) };
    const seconds = Number(req.seconds);
    const fps = Number(req.fps);
    if (parameters.num_frames === undefined && seconds > 0 && fps > 0) parameters.num_frames = Math.round(seconds * fps);
    const payload = ref && 'data' in ref ? { inputs: base64(ref.data), parameters: { prompt: req.prompt, ...parameters } } : { inputs: req.prompt, parameters };
    const res = await this.request(ctx, this.url(ctx.model), { json: payload }, 'video/mp4, video/*');
    const video = await this.media(res, ctx, 'video');
    const now = Date.now();
    const id = `hfvid_${randomBytes(12).toString('hex')}`;
    const job: VideoJob = {
      id,
      object: 'video',
      model: ctx.model,
      status: 'completed',
      progress: 100,
      created_at: Math.floor(now / 1000),
      completed_at: Math.floor(now / 1000),
      expires_at: Math.floor((now + videoStore.ttlMs) / 1000),
      prompt: req.prompt,
      ...(req.seconds ? { seconds: String(req.seconds) } : {}),
      ...(req.size ? { size: req.size } : {}),
    };
    videoStore.put(id, { ...video, job, expiresAt: now + videoStore.ttlMs });
    return job;
  }

  private stored(id: string, ctx: CallContext): StoredVideo {
    const v = videoStore.get(id);
    if (!v) throw new ProviderError(`video '${id}' is no longer held (kept for an hour in memory, not across restarts)`, { kind: 'not_found', status: 404, provider: this.id, model: ctx.model });
    return v;
  }

  async getVideo(id: string, ctx: CallContext): Promise<VideoJob> {
    return this.stored(id, ctx).job;
  }

  async getVideoContent(id: string, ctx: CallContext, opts: { variant?: VideoContentVariant } = {}): Promise<Response> {
    if (opts.variant && opts.variant !== 'video') throw this.bad(ctx, `Hugging Face videos have no '${opts.variant}' variant`, 'variant');
    const v = this.stored(id, ctx);
    return new Response(v.data as Uint8Array<ArrayBuffer>, { status: 200, headers: { 'content-type': v.contentType, 'content-length': String(v.data.byteLength) } });
  }
}
