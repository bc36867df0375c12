/**
 * @module A fake of Hugging Face's task endpoints behind the inference router, as huggingface.js's
 * hf-inference helpers call them (`POST /hf-inference/models/{org}/{name}`, Bearer token):
 * - feature-extraction at `…/pipeline/feature-extraction`: JSON `{inputs}` → one pooled vector per
 *   input (`number[][]`), or token vectors (`number[][][]`) for a model listed as unpooled;
 * - text-to-image: JSON `{inputs, parameters}` → `image/jpeg` or `image/png` bytes;
 * - image-to-image: JSON `{inputs: base64, parameters: {prompt…}}` → image bytes;
 * - text-to-speech: JSON `{inputs}` → `audio/flac` (or `audio/wav`) bytes;
 * - automatic-speech-recognition: the raw audio as the body, with its content type → `{text, chunks?}`;
 * - text-to-video / image-to-video: JSON → `video/mp4` bytes.
 * Errors in HF's shapes: `{"error": "…"}` (401 bad token, 404 unknown model, 400 bad input), a loading
 * model's 503 `{"error", "estimated_time"}`, 429 with `{"error"}`; scriptable with `enqueue`.
 */
import { randomBytes } from 'node:crypto';
import { startFakeServer, sendJson, type FakeServer, type RecordedRequest } from './fake-server.js';
import { TINY_PNG_B64 } from './openai-capabilities.js';

export type HfTask = 'feature-extraction' | 'feature-extraction-unpooled' | 'text-to-image' | 'text-to-image-jpeg' | 'image-to-image' | 'text-to-speech' | 'text-to-speech-wav' | 'asr' | 'text-to-video' | 'image-to-video';

export type HfScripted = { status: number; body: unknown; headers?: Record<string, string> } | { loading: number };

export interface FakeHfTasks extends FakeServer {
  /** providers.json `endpoint` for the HF adapter (the router's `/v1`). */
  baseURL: string;
  token: string;
  enqueue(...b: HfScripted[]): void;
  taskRequests(): RecordedRequest[];
}

export const TINY_JPEG = Buffer.from('/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgGBgUGCQgKCgkICQkKDA8MCgsOCwkJDRENDg8QEBEQCgwSExIQEw8QEBD/yQALCAABAAEBAREA/8wABgAQEAX/2gAIAQEAAD8A0s8g/9k=', 'base64');
export const FAKE_FLAC = Buffer.concat([Buffer.from('fLaC'), Buffer.alloc(34, 1)]);
export const FAKE_WAV = Buffer.concat([Buffer.from('RIFF'), Buffer.from([36, 0, 0, 0]), Buffer.from('WAVEfmt '), Buffer.alloc(24, 0)]);
export const FAKE_MP4 = Buffer.concat([Buffer.from([0, 0, 0, 0x20]), Buffer.from('ftypisom'), Buffer.alloc(20, 7)]);

/** A deterministic vector per text. */
export function fakeVector(text: string, dim = 6): number[] {
  return Array.from({ length: dim }, (_, i) => Math.round(Math.sin(text.length + i) * 1000) / 1000);
}

export async function startFakeHfTasks(opts: { tasks: Record<string, HfTask>; token?: string }): Promise<FakeHfTasks> {
  const token = opts.token ?? `hf_${randomBytes(12).toString('hex')}`;
  const queue: HfScripted[] = [];
  const bytes = (res: import('node:http').ServerResponse, type: string, b: Buffer) => {
    res.writeHead(200, { 'content-type': type, 'content-length': b.length });
    res.end(b);
  };

  const server = await startFakeServer((req, res) => {
    const m = /^\/hf-inference\/models\/(.+?)(\/pipeline\/feature-extraction)?$/.exec(req.path);
    if (req.method !== 'POST' || !m) return sendJson(res, 404, { error: 'Not Found' });
    if (req.headers.authorization !== `Bearer ${token}`) return sendJson(res, 401, { error: 'Invalid credentials in Authorization header' });
    const scripted = queue.shift();
    if (scripted) {
      if ('loading' in scripted) return sendJson(res, 503, { error: `Model ${m[1]} is currently loading`, estimated_time: scripted.loading });
      return sendJson(res, scripted.status, scripted.body, scripted.headers);
    }
    const model = m[1]!;
    const task = opts.tasks[model];
    if (!task) return sendJson(res, 404, { error: `Model ${model} does not exist` });
    const isJson = (req.headers['content-type'] ?? '').includes('application/json');
    const body = req.body;

    if (m[2]) {
      if (!task.startsWith('feature-extraction')) return sendJson(res, 400, { error: `Model ${model} does not support feature-extraction` });
      const inputs = body?.inputs;
      const texts: string[] = typeof inputs === 'string' ? [inputs] : Array.isArray(inputs) ? inputs : [];
      if (!texts.length || texts.some((t) => typeof t !== 'string')) return sendJson(res, 400, { error: 'Input should be a valid string or list of strings' });
      if (task === 'feature-extraction-unpooled') return sendJson(res, 200, texts.map((t) => [fakeVector(t), fakeVector(`${t}!`)]));
      return sendJson(res, 200, typeof inputs === 'string' ? fakeVector(inputs) : texts.map((t) => fakeVector(t)));
    }

    switch (task) {
      case 'text-to-image':
      case 'text-to-image-jpeg':
        if (!isJson || typeof body?.inputs !== 'string') return sendJson(res, 400, { error: 'inputs must be a string prompt' });
        return task === 'text-to-image' ? bytes(res, 'image/png', Buffer.from(TINY_PNG_B64, 'base64')) : bytes(res, 'image/jpeg', TINY_JPEG);
      case 'image-to-image':
        if (!isJson || typeof body?.inputs !== 'string' || !Buffer.from(body.inputs, 'base64').length) return sendJson(res, 400, { error: 'inputs must be a base64 image' });
        return bytes(res, 'image/png', Buffer.from(TINY_PNG_B64, 'base64'));
      case 'text-to-speech':
      case 'text-to-speech-wav':
        if (!isJson || typeof body?.inputs !== 'string') return sendJson(res, 400, { error: 'inputs must be text' });
        return task === 'text-to-speech' ? bytes(res, 'audio/flac', FAKE_FLAC) : bytes(res, 'audio/wav', FAKE_WAV);
      case 'asr': {
        const type = req.headers['content-type'] ?? '';
        if (!type.startsWith('audio/') || !req.rawBody.length) return sendJson(res, 400, { error: 'Malformed soundfile' });
        return sendJson(res, 200, { text: ` heard ${req.rawBody.length} bytes`, chunks: [{ text: ' heard', timestamp: [0, 0.5] }, { text: ` ${req.rawBody.length} bytes`, timestamp: [0.5, 1.25] }] });
      }
      case 'text-to-video':
      case 'image-to-video':
        if (!isJson || typeof body?.inputs !== 'string') return sendJson(res, 400, { error: 'inputs must be a string' });
        return bytes(res, 'video/mp4', FAKE_MP4);
      default:
        return sendJson(res, 400, { error: `Model ${model} does not support this task` });
    }
  });

  return Object.assign(server, {
    baseURL: `${server.origin}/v1`,
    token,
    enqueue: (...b: HfScripted[]) => void queue.push(...b),
    taskRequests: () => server.requests.filter((r) => r.path.startsWith('/hf-inference/')),
  });
}
