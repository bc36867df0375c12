/**
 * @module Veo video generation on the Gemini API, through the SDK: `models.generateVideos`
 * (`POST /v1beta/models/{model}:predictLongRunning`, `{instances:[{prompt, image?}], parameters}`)
 * starts a long-running operation whose name (`models/{model}/operations/{id}`) is the job's upstream
 * id; `operations.getVideosOperation` (`GET /v1beta/{name}`) polls it, and a finished one carries
 * `response.generateVideoResponse.generatedSamples[].video.uri`, a file URI on the API host that is
 * downloaded with the key. Operations report no progress, so a running job shows `in_progress`.
 */
import { GenerateVideosOperation, type GenerateVideosConfig, type GenerateVideosSource } from '@google/genai';
import { withDeadline } from '../deadline.js';
import type { CallContext, VideoContentVariant, VideoJob, VideoRequest } from '../provider-adapter.js';
import { ProviderError } from '../provider-error.js';
import { mapGeminiError } from './map-gemini-error.js';
import { badRequest, checkGeminiModel, malformed, type GeminiMediaContext } from './gemini-media.js';

/** An operation name is put into the URL path: only this shape is accepted. */
const OPERATION_RE = /^models\/[A-Za-z0-9][A-Za-z0-9._-]{0,127}\/operations\/[A-Za-z0-9_-]{1,128}$/;

/** OpenAI sizes → Veo's aspect ratio and resolution. */
const SIZES: Readonly<Record<string, { aspectRatio: string; resolution: string }>> = {
  '1280x720': { aspectRatio: '16:9', resolution: '720p' },
  '720x1280': { aspectRatio: '9:16', resolution: '720p' },
  '1920x1080': { aspectRatio: '16:9', resolution: '1080p' },
  '1080x1920': { aspectRatio: '9:16', resolution: '1080p' },
};

function toJob(op: GenerateVideosOperation, model: string, extra: Partial<VideoJob> = {}): VideoJob {
  const now = Math.floor(Date.now() / 1000);
  const job: VideoJob = { ...extra, id: op.name ?? '', object: 'video', model, status: op.done ? 'completed' : 'in_progress', created_at: now };
  if (!op.done) return job;
  if (op.error) {
    const e = op.error as { code?: unknown; message?: unknown };
    return { ...job, status: 'failed', error: { code: String(e.code ?? 'video_failed'), message: String(e.message ?? 'the operation failed') } };
  }
  const uri = op.response?.generatedVideos?.[0]?.video?.uri;
  if (!uri) {
    const reasons = op.response?.raiMediaFilteredReasons;
    return { ...job, status: 'failed', error: { code: 'content_filtered', message: reasons?.length ? reasons.join('; ') : 'the operation finished without a video' } };
  }
  return { ...job, status: 'completed', progress: 100, completed_at: now, contentUrl: uri };
}

export function startGeminiVideo(g: GeminiMediaContext, req: VideoRequest, ctx: CallContext): Promise<VideoJob> {
  return withDeadline(ctx, { provider: g.id, mapError: mapGeminiError(g.id, ctx.model) }, async (signal) => {
    const model = checkGeminiModel(g, ctx.model);
    const config: GenerateVideosConfig = { abortSignal: signal, numberOfVideos: 1 };
    if (req.seconds !== undefined) {
      const s = Number(req.seconds);
      if (!Number.isInteger(s) || s <= 0) throw badRequest(g, ctx, `seconds must be a whole number, got '${String(req.seconds)}'`, 'seconds');
      config.durationSeconds = s;
    }
    if (req.size !== undefined) {
      const s = SIZES[req.size];
      if (!s) throw badRequest(g, ctx, `Veo makes ${Object.keys(SIZES).join(', ')} videos; size '${req.size}' is not one of them`, 'size');
      Object.assign(config, s);
    }
    if (typeof req.negative_prompt === 'string' && req.negative_prompt) config.negativePrompt = req.negative_prompt;
    const source: GenerateVideosSource = { prompt: req.prompt };
    const ref = req.input_reference;
    if (ref) {
      if (!('data' in ref)) throw badRequest(g, ctx, 'Veo needs the reference image uploaded as a file (input_reference), not a URL or file id', 'input_reference');
      if (!ref.mimeType.startsWith('image/')) throw badRequest(g, ctx, `Veo takes an image as input_reference, not '${ref.mimeType}'`, 'input_reference');
      source.image = { imageBytes: Buffer.from(ref.data).toString('base64'), mimeType: ref.mimeType };
    }
    const op = await g.pool.get(ctx.apiKey).models.generateVideos({ model, source, config });
    if (!op.name) throw malformed(g, ctx, 'predictLongRunning answered no operation name');
    const job = toJob(op, ctx.model, { prompt: req.prompt, ...(req.seconds ? { seconds: String(req.seconds) } : {}), ...(req.size ? { size: req.size } : {}) });
    // Just accepted: nothing has run yet.
    return op.done ? job : { ...job, status: 'queued' };
  });
}

async function poll(g: GeminiMediaContext, id: string, ctx: CallContext, signal: AbortSignal): Promise<GenerateVideosOperation> {
  if (!OPERATION_RE.test(id)) throw new ProviderError(`'${id}' is not a Veo operation name`, { kind: 'not_found', status: 404, provider: g.id, model: ctx.model });
  const op = new GenerateVideosOperation();
  op.name = id;
  return g.pool.get(ctx.apiKey).operations.getVideosOperation({ operation: op, config: { abortSignal: signal } });
}

export function getGeminiVideo(g: GeminiMediaContext, id: string, ctx: CallContext): Promise<VideoJob> {
  return withDeadline(ctx, { provider: g.id, mapError: mapGeminiError(g.id, ctx.model) }, async (signal) => toJob(await poll(g, id, ctx, signal), ctx.model));
}

/**
 * Downloads the finished video. The file URI must be on the configured API host: the key is sent
 * with the download, and never to a host the operation happened to name.
 */
export function getGeminiVideoContent(g: GeminiMediaContext, id: string, ctx: CallContext, opts: { variant?: VideoContentVariant } = {}): Promise<Response> {
  return withDeadline(ctx, { provider: g.id, mapError: mapGeminiError(g.id, ctx.model) }, async (signal) => {
    if (opts.variant && opts.variant !== 'video') throw badRequest(g, ctx, `Veo videos have no '${opts.variant}' variant`, 'variant');
    const job = toJob(await poll(g, id, ctx, signal), ctx.model);
    if (job.status !== 'completed' || !job.contentUrl) throw badRequest(g, ctx, `the Veo operation is ${job.status}, not finished with a video`, 'video_id');
    let url: URL;
    try {
      url = new URL(job.contentUrl);
    } catch {
      throw malformed(g, ctx, 'the video URI is not a URL');
    }
    if (url.origin !== new URL(g.baseUrl).origin) throw malformed(g, ctx, `the video URI is not on the API host (${url.origin})`);
    const headers: Record<string, string> = {};
    if (ctx.apiKey) headers['x-goog-api-key'] = ctx.apiKey;
    const res = await fetch(url, { headers, signal });
    if (!res.ok) {
      const text = await res.text().catch(() => '');
      throw new ProviderError(`video download failed with ${res.status}: ${text.slice(0, 300)}`, { kind: res.status === 404 ? 'not_found' : res.status === 401 || res.status === 403 ? 'auth' : res.status === 429 ? 'rate_limit' : 'server', status: res.status, provider: g.id, model: ctx.model });
    }
    return res;
  });
}
