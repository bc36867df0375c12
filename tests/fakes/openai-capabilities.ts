/**
 * @module The OpenAI fake's non-chat endpoints, faithful to OpenAI's API reference: images
 * (generations JSON, edits multipart with `image` or `image[]`), audio speech (binary, content type by
 * `response_format`), transcriptions (multipart; whisper-1 answers every format, the gpt-4o transcribe
 * models only json/text, as upstream), and video jobs (`POST /v1/videos` multipart or JSON,
 * `GET /v1/videos/{id}` moving queued → in_progress → completed one step per poll, `/content` bytes).
 * Behaviour can be scripted per endpoint (error, hang, garbage) like chat's.
 */
import type { ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { sendJson, sleep, type RecordedRequest } from './fake-server.js';

export type CapabilityEndpoint = 'embeddings' | 'images/generations' | 'images/edits' | 'audio/speech' | 'audio/transcriptions' | 'videos';

export type CapabilityBehavior =
  | { type: 'error'; status: number; message?: string; errType?: string; code?: string | null; param?: string | null; headers?: Record<string, string> }
  | { type: 'hang' }
  | { type: 'garbage' };

export interface FakeVideo {
  id: string;
  object: 'video';
  model: string;
  status: 'queued' | 'in_progress' | 'completed' | 'failed';
  progress: number;
  created_at: number;
  completed_at: number | null;
  expires_at: number | null;
  error: { code: string; message: string } | null;
  prompt: string | null;
  remixed_from_video_id: string | null;
  seconds: string;
  size: string;
}

export interface CapabilityState {
  queues: Map<CapabilityEndpoint, CapabilityBehavior[]>;
  fixed: Map<CapabilityEndpoint, CapabilityBehavior>;
  videos: Map<string, FakeVideo>;
  /** Bytes of every finished video (deterministic: `videoBytes(id)`). */
  videoSize: number;
  /** Pause between 64 KiB pieces of video content (to watch a download being cancelled). */
  videoChunkDelayMs: number;
  transcript: string;
}

export function newCapabilityState(): CapabilityState {
  return { queues: new Map(), fixed: new Map(), videos: new Map(), videoSize: 256 * 1024, videoChunkDelayMs: 0, transcript: 'Hello from the fake. This is the second sentence.' };
}

/** A 1×1 transparent PNG, what gpt-image models return as b64_json. */
export const TINY_PNG_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

const SPEECH_TYPES: Record<string, string> = { mp3: 'audio/mpeg', opus: 'audio/opus', aac: 'audio/aac', flac: 'audio/flac', wav: 'audio/wav', pcm: 'audio/pcm' };
const SPEECH_MAGIC: Record<string, Buffer> = {
  mp3: Buffer.from('ID3'),
  opus: Buffer.from('OggS'),
  aac: Buffer.from([0xff, 0xf1]),
  flac: Buffer.from('fLaC'),
  wav: Buffer.from('RIFF'),
  pcm: Buffer.alloc(0),
};

function invalid(res: ServerResponse, message: string, param: string | null, code: string | null = null, status = 400): void {
  sendJson(res, status, { error: { message, type: 'invalid_request_error', param, code } });
}

/** The deterministic bytes of a finished video: byte i is (i + seed) mod 251. */
export function videoBytes(id: string, size: number): Buffer {
  const seed = id.charCodeAt(id.length - 1);
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i + seed) % 251;
  return b;
}

export interface ParsedForm {
  fields: Record<string, string[]>;
  files: Record<string, Array<{ filename: string; type: string; size: number; bytes: Buffer }>>;
}

async function parseForm(req: RecordedRequest): Promise<ParsedForm | undefined> {
  const type = String(req.headers['content-type'] ?? '');
  if (!type.startsWith('multipart/form-data')) return undefined;
  const form = await new Response(req.rawBody, { headers: { 'content-type': type } }).formData();
  const out: ParsedForm = { fields: {}, files: {} };
  for (const [k, v] of form.entries()) {
    if (typeof v === 'string') (out.fields[k] ??= []).push(v);
    else (out.files[k] ??= []).push({ filename: v.name, type: v.type, size: v.size, bytes: Buffer.from(await v.arrayBuffer()) });
  }
  // Recorded for assertions: tests read `fake.requests.at(-1).body`.
  req.body = out;
  return out;
}

const field = (f: ParsedForm, k: string) => f.fields[k]?.[0];

function scripted(state: CapabilityState, ep: CapabilityEndpoint): CapabilityBehavior | undefined {
  return state.fixed.get(ep) ?? state.queues.get(ep)?.shift();
}

function applyBehavior(res: ServerResponse, b: CapabilityBehavior): void {
  if (b.type === 'hang') return;
  if (b.type === 'garbage') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('<html>502 Bad Gateway</html>');
    return;
  }
  const type = b.errType ?? (b.status >= 500 ? 'server_error' : b.status === 429 ? 'requests' : 'invalid_request_error');
  sendJson(res, b.status, { error: { message: b.message ?? `fake error ${b.status}`, type, param: b.param ?? null, code: b.code ?? null } }, b.headers);
}

function imageData(model: string, n: number, responseFormat: string | undefined, prompt: string, id: string) {
  const gptImage = model.startsWith('gpt-image');
  return Array.from({ length: n }, (_, i) => {
    const entry: Record<string, unknown> = {};
    if (gptImage || responseFormat === 'b64_json') entry.b64_json = TINY_PNG_B64;
    else entry.url = `https://oaidalleapiprodscus.blob.core.windows.net/private/img-${id}-${i}.png?st=2025-01-01&sig=fake`;
    if (model === 'dall-e-3') entry.revised_prompt = `A detailed rendering of: ${prompt}`;
    return entry;
  });
}

function imageResponse(model: string, n: number, responseFormat: string | undefined, prompt: string, extra: Record<string, unknown> = {}) {
  const body: Record<string, unknown> = { created: Math.floor(Date.now() / 1000), data: imageData(model, n, responseFormat, prompt, randomBytes(4).toString('hex')), ...extra };
  if (model.startsWith('gpt-image')) {
    body.usage = { input_tokens: 50, output_tokens: 272, total_tokens: 322, input_tokens_details: { text_tokens: 50, image_tokens: 0 } };
  }
  return body;
}

function segmentsFor(text: string) {
  const sentences = text.match(/[^.!?]+[.!?]*/g)?.map((s) => s.trim()).filter(Boolean) ?? [text];
  let t = 0;
  return sentences.map((s, id) => {
    const start = t;
    t += Math.round(s.length * 0.06 * 100) / 100;
    return { id, seek: 0, start, end: t, text: ` ${s}`, tokens: [50364, 2425, 50564], temperature: 0, avg_logprob: -0.21, compression_ratio: 0.9, no_speech_prob: 0.01 };
  });
}

function srtClock(s: number, sep: string): string {
  const ms = Math.round(s * 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(Math.floor(ms / 3600000))}:${p(Math.floor((ms % 3600000) / 60000))}:${p(Math.floor((ms % 60000) / 1000))}${sep}${p(ms % 1000, 3)}`;
}

/** Handles the capability endpoints; returns false for any other path. */
export async function handleCapability(req: RecordedRequest, res: ServerResponse, state: CapabilityState): Promise<boolean> {
  const path = req.path;
  if (req.method === 'POST' && path === '/v1/images/generations') {
    const b = scripted(state, 'images/generations');
    if (b) return applyBehavior(res, b), true;
    const body = req.body ?? {};
    if (!body.prompt) return invalid(res, "Missing required parameter: 'prompt'.", 'prompt', 'missing_required_parameter'), true;
    const model = body.model ?? 'dall-e-2';
    sendJson(res, 200, imageResponse(model, body.n ?? 1, body.response_format, body.prompt));
    return true;
  }
  if (req.method === 'POST' && path === '/v1/images/edits') {
    const form = await parseForm(req);
    const b = scripted(state, 'images/edits');
    if (b) return applyBehavior(res, b), true;
    if (!form) return invalid(res, 'Invalid Content-Type header, expected multipart/form-data.', null), true;
    const images = [...(form.files.image ?? []), ...(form.files['image[]'] ?? [])];
    if (!images.length) return invalid(res, "Missing required parameter: 'image'.", 'image', 'missing_required_parameter'), true;
    const prompt = field(form, 'prompt');
    if (!prompt) return invalid(res, "Missing required parameter: 'prompt'.", 'prompt', 'missing_required_parameter'), true;
    const model = field(form, 'model') ?? 'dall-e-2';
    sendJson(res, 200, imageResponse(model, Number(field(form, 'n') ?? 1), field(form, 'response_format'), prompt));
    return true;
  }
  if (req.method === 'POST' && path === '/v1/audio/speech') {
    const b = scripted(state, 'audio/speech');
    if (b) return applyBehavior(res, b), true;
    const body = req.body ?? {};
    if (!body.input) return invalid(res, "Missing required parameter: 'input'.", 'input', 'missing_required_parameter'), true;
    if (!body.voice) return invalid(res, "Missing required parameter: 'voice'.", 'voice', 'missing_required_parameter'), true;
    const format = body.response_format ?? 'mp3';
    if (!SPEECH_TYPES[format]) return invalid(res, `Invalid value: '${format}'. Supported values are: 'mp3', 'opus', 'aac', 'flac', 'wav', and 'pcm'.`, 'response_format', 'invalid_value'), true;
    const voice = typeof body.voice === 'string' ? body.voice : body.voice.id;
    const audio = Buffer.concat([SPEECH_MAGIC[format]!, Buffer.from(`|${body.model}|${voice}|${body.input}`)]);
    res.writeHead(200, { 'content-type': SPEECH_TYPES[format]!, 'transfer-encoding': 'chunked' });
    res.end(audio);
    return true;
  }
  if (req.method === 'POST' && path === '/v1/audio/transcriptions') {
    const form = await parseForm(req);
    const b = scripted(state, 'audio/transcriptions');
    if (b) return applyBehavior(res, b), true;
    if (!form) return invalid(res, 'Invalid Content-Type header, expected multipart/form-data.', null), true;
    if (!form.files.file?.length) return invalid(res, "Missing required parameter: 'file'.", 'file', 'missing_required_parameter'), true;
    const model = field(form, 'model');
    if (!model) return invalid(res, "Missing required parameter: 'model'.", 'model', 'missing_required_parameter'), true;
    const format = field(form, 'response_format') ?? 'json';
    // OpenAI's gpt-4o transcribe models (and, here, any non-whisper "*transcribe*" model) answer json/text only.
    const gpt4o = /transcribe/.test(model) && !/whisper/.test(model);
    if (gpt4o && format !== 'json' && format !== 'text') {
      return invalid(res, `response_format '${format}' is not compatible with model '${model}'. Use 'json' or 'text'.`, 'response_format', 'unsupported_value'), true;
    }
    const text = state.transcript;
    const segments = segmentsFor(text);
    const duration = segments.at(-1)!.end;
    const usage = gpt4o
      ? { type: 'tokens', input_tokens: 14, input_token_details: { text_tokens: 0, audio_tokens: 14 }, output_tokens: 12, total_tokens: 26 }
      : { type: 'duration', seconds: Math.ceil(duration) };
    switch (format) {
      case 'text':
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`${text}\n`);
        return true;
      case 'srt':
      case 'vtt': {
        const sep = format === 'srt' ? ',' : '.';
        const cues = segments.map((s, i) => `${format === 'srt' ? `${i + 1}\n` : ''}${srtClock(s.start, sep)} --> ${srtClock(s.end, sep)}\n${s.text.trim()}\n\n`).join('');
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(format === 'vtt' ? `WEBVTT\n\n${cues}` : cues);
        return true;
      }
      case 'verbose_json':
        sendJson(res, 200, { task: 'transcribe', language: 'english', duration, text, segments, usage });
        return true;
      default:
        sendJson(res, 200, { text, usage });
        return true;
    }
  }
  if (req.method === 'POST' && path === '/v1/videos') {
    const form = await parseForm(req);
    const b = scripted(state, 'videos');
    if (b) return applyBehavior(res, b), true;
    const get = (k: string): unknown => (form ? field(form, k) : req.body?.[k]);
    const prompt = get('prompt');
    if (!prompt) return invalid(res, "Missing required parameter: 'prompt'.", 'prompt', 'missing_required_parameter'), true;
    const video: FakeVideo = {
      id: `video_${randomBytes(16).toString('hex')}`,
      object: 'video',
      model: String(get('model') ?? 'sora-2'),
      status: 'queued',
      progress: 0,
      created_at: Math.floor(Date.now() / 1000),
      completed_at: null,
      expires_at: null,
      error: null,
      prompt: String(prompt),
      remixed_from_video_id: null,
      seconds: String(get('seconds') ?? '4'),
      size: String(get('size') ?? '720x1280'),
    };
    state.videos.set(video.id, video);
    sendJson(res, 200, video);
    return true;
  }
  const m = /^\/v1\/videos\/([^/]+)(\/content)?$/.exec(path);
  if (req.method === 'GET' && m) {
    const video = state.videos.get(m[1]!);
    if (!video) return invalid(res, `Video with id '${m[1]}' not found.`, null, 'video_not_found', 404), true;
    if (m[2]) {
      if (video.status !== 'completed') return invalid(res, 'Video is not ready yet, use GET /v1/videos/{video_id} to check status.', null, 'video_not_ready', 400), true;
      const variant = req.query.get('variant') ?? 'video';
      const bytes = variant === 'video' ? videoBytes(video.id, state.videoSize) : Buffer.from(`${variant} of ${video.id}`);
      res.writeHead(200, { 'content-type': variant === 'video' ? 'video/mp4' : variant === 'thumbnail' ? 'image/webp' : 'image/jpeg', 'content-length': bytes.length });
      // Sent in pieces, as a large file would be.
      for (let i = 0; i < bytes.length; i += 64 * 1024) {
        if (res.destroyed) return true;
        res.write(bytes.subarray(i, i + 64 * 1024));
        if (state.videoChunkDelayMs) await sleep(state.videoChunkDelayMs);
      }
      res.end();
      return true;
    }
    // Each poll moves a job one step on: queued → in_progress → completed (or failed for FAIL prompts).
    if (video.status === 'queued') Object.assign(video, { status: 'in_progress', progress: 50 });
    else if (video.status === 'in_progress') {
      if (video.prompt?.includes('FAIL')) Object.assign(video, { status: 'failed', progress: 50, error: { code: 'moderation_blocked', message: 'Your request was blocked by our moderation system.' } });
      else {
        const now = Math.floor(Date.now() / 1000);
        Object.assign(video, { status: 'completed', progress: 100, completed_at: now, expires_at: now + 3600 });
      }
    }
    sendJson(res, 200, video);
    return true;
  }
  return false;
}

/** Embeddings honour a scripted behaviour and `encoding_format: base64` (little-endian float32). */
export function embeddingBehavior(state: CapabilityState): CapabilityBehavior | undefined {
  return scripted(state, 'embeddings');
}
export { applyBehavior as sendCapabilityBehavior };

export function encodeEmbedding(values: number[], format: unknown): number[] | string {
  if (format !== 'base64') return values;
  return Buffer.from(new Float32Array(values).buffer).toString('base64');
}
