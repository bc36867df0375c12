/**
 * @module The platform backend compat routes (CONTRACTS.md §4, §6.17; docs/platform-compat.md):
 * `/api/image`, `/api/edit-image`, `/api/llm`, `/api/tts`, `/api/stt`, `/api/embedding`,
 * `/api/video/text-to-video` and `/api/video/image-to-video`, with that app's request fields, ranges,
 * defaults, responses (bytes for images, audio and video) and error shapes (`{"detail": msg}`, video
 * routes `{"detail":{"error","message","details"}}`, FastAPI's 422 for invalid bodies). Each route's
 * target is the body's `model` (provider/model, a rotation id, or a bare model id of the default
 * target's provider) or aisbf.json `platform.<route>`; calls go through the one attempt loop, so a
 * rotation fails over, and 4xx answers are never retried (the error-policy table).
 */
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import type { AppDeps, AppEnv } from '../server/app-env.js';
import type { CallContext, ChatMessage, ImageResult, VideoJob } from '../providers/provider-adapter.js';
import { ClientGoneError } from '../providers/deadline.js';
import { ProviderError } from '../providers/provider-error.js';
import type { Runtime } from '../runtime.js';
import type { Candidate } from '../routing/candidate.js';
import { adapterCan, type CapabilityMethod } from '../routing/capability-filter.js';
import { runWithFallback, type AttemptSuccess } from '../routing/run-with-fallback.js';
import { candidatesForName } from '../routing/target-candidates.js';
import { chatCall } from '../context/chat-call.js';
import { describeProviderError, HttpError } from '../server/errors.js';
import { clientKeys } from '../server/client-keys.js';
import { readBodyBytes } from '../server/multipart.js';
import { redactText } from '../log.js';

const MiB = 1024 * 1024;
const STT_LIMIT = 50 * MiB;
const I2V_IMAGE_LIMIT = 10 * MiB;

type Route = 'image' | 'edit_image' | 'llm' | 'tts' | 'stt' | 'embedding' | 'video' | 'image_to_video';

// ------------------------------------------------------------------------------------------------
// Errors: the app's shapes.
// ------------------------------------------------------------------------------------------------

/** A FastAPI request-validation entry. */
interface ValidationItem {
  type: string;
  loc: Array<string | number>;
  msg: string;
  input?: unknown;
  ctx?: Record<string, unknown>;
}

class ValidationError extends Error {
  constructor(readonly items: ValidationItem[]) {
    super(items.map((i) => `${i.loc.join('.')}: ${i.msg}`).join('; '));
  }
}

/** The platform app's error codes (§4) with their statuses. */
interface PlatformError {
  status: number;
  code: string;
  message: string;
  details: Record<string, unknown>;
  headers: Record<string, string>;
}

function classify(err: unknown, video: boolean): PlatformError {
  const upstreamStatus = video ? 502 : 500;
  if (err instanceof ProviderError) {
    const message = redactText(describeProviderError(err));
    const base = { message, details: { provider: err.provider, model: err.model }, headers: {} as Record<string, string> };
    switch (err.kind) {
      case 'rate_limit': {
        const retry = err.retryAfterMs !== undefined ? Math.max(1, Math.ceil(err.retryAfterMs / 1000)) : undefined;
        return { ...base, status: 429, code: 'rate_limit_error', details: { ...base.details, retry_after: retry ?? null }, headers: retry ? { 'retry-after': String(retry) } : {} };
      }
      case 'timeout':
        return { ...base, status: 504, code: 'timeout_error' };
      case 'not_found':
        return { ...base, status: 404, code: 'model_not_found' };
      case 'too_large':
        return { ...base, status: 413, code: 'file_size_error' };
      case 'bad_request':
      case 'context_length':
        return { ...base, status: err.clientStatus, code: 'invalid_format_error' };
      default:
        return { ...base, status: upstreamStatus, code: 'huggingface_api_error' };
    }
  }
  if (err instanceof HttpError) {
    const s = err.status;
    const code =
      s === 404 ? 'model_not_found' : s === 413 ? 'file_size_error' : s === 429 ? 'rate_limit_error' : s === 504 ? 'timeout_error' : s >= 500 ? 'huggingface_api_error' : 'invalid_format_error';
    const headers = err.options.headers ?? {};
    const details: Record<string, unknown> = {};
    if (s === 429) details.retry_after = headers['retry-after'] !== undefined ? Number(headers['retry-after']) : null;
    // A rotation's report (every candidate and why it failed) is kept for the client.
    if (err.options.body && 'rotation_id' in err.options.body) details.rotation = err.options.body;
    return { status: s === 503 || s === 502 ? upstreamStatus : s, code, message: redactText(err.message), details, headers };
  }
  return { status: 500, code: 'internal_error', message: 'Internal server error', details: {}, headers: {} };
}

function errorResponse(err: unknown, video: boolean, log: AppDeps['log']): Response {
  if (err instanceof ValidationError) return json({ detail: err.items }, 422);
  if (!(err instanceof ProviderError || err instanceof HttpError || err instanceof ClientGoneError)) {
    log.error({ err: redactText(String((err as Error)?.message)) }, 'platform compat route failed');
  }
  const e = classify(err, video);
  const body = video ? { detail: { error: e.code, message: e.message, details: e.details } } : { detail: e.message };
  return json(body, e.status, e.headers);
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

// ------------------------------------------------------------------------------------------------
// Request bodies: FastAPI/pydantic semantics (defaults, ranges, 422 items).
// ------------------------------------------------------------------------------------------------

const str = (min: number, max?: number) => (max === undefined ? z.string().min(min) : z.string().min(min).max(max));
const int = (def: number, min: number, max: number) => z.number().int().min(min).max(max).default(def);
const num = (def: number, min: number, max: number) => z.number().min(min).max(max).default(def);

const imageSchema = z.object({
  prompt: str(1, 1000),
  model: z.string().nullish(),
  negative_prompt: str(0, 1000).nullish(),
  height: int(512, 256, 1024),
  width: int(512, 256, 1024),
  num_inference_steps: int(50, 1, 100),
  guidance_scale: num(7.5, 1, 20),
});

const editSchema = z.object({
  image: str(100),
  prompt: str(1, 1000),
  mask: z.string().nullish(),
  model: z.string().nullish(),
  negative_prompt: str(0, 1000).nullish(),
  strength: num(0.75, 0, 1),
  num_inference_steps: int(50, 1, 100),
});

const llmSchema = z.object({
  messages: z.array(z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() })).min(1),
  model: z.string().nullish(),
  max_tokens: int(256, 1, 2048),
  temperature: num(0.7, 0, 2),
  top_p: num(0.9, 0, 1),
  top_k: int(50, 1, 100),
});

const ttsSchema = z.object({
  text: str(1, 5000),
  model: z.string().nullish(),
  speaker_id: int(0, 0, 100),
  speed: num(1.0, 0.5, 2),
});

const embeddingSchema = z.object({ text: str(1, 5000), model: z.string().nullish() });

const t2vSchema = z.object({
  prompt: str(1, 1000),
  model: z.string().nullish(),
  negative_prompt: str(0, 500).nullish(),
  duration: int(6, 1, 30),
  fps: int(8, 1, 60),
  num_inference_steps: int(50, 1, 100),
});

const i2vSchema = z.object({
  prompt: z.string().max(1000).nullish(),
  model: z.string().nullish(),
  duration: int(6, 1, 30),
  fps: int(8, 1, 60),
  num_inference_steps: int(50, 1, 100),
});

/** zod issues → FastAPI's 422 items (`loc: ["body", field]`, pydantic's type names and wording). */
function toValidationItems(error: z.ZodError, body: Record<string, unknown>): ValidationItem[] {
  return error.issues.map((i) => {
    const loc: Array<string | number> = ['body', ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
    const field = i.path[0];
    const input = typeof field === 'string' ? body[field] : body;
    if (input === undefined && i.code === 'invalid_type') return { type: 'missing', loc, msg: 'Field required', input: null };
    if (i.code === 'too_small' || i.code === 'too_big') {
      const small = i.code === 'too_small';
      const limit = Number(small ? (i as { minimum: unknown }).minimum : (i as { maximum: unknown }).maximum);
      if (i.origin === 'string') {
        return small
          ? { type: 'string_too_short', loc, msg: `String should have at least ${limit} character${limit === 1 ? '' : 's'}`, input, ctx: { min_length: limit } }
          : { type: 'string_too_long', loc, msg: `String should have at most ${limit} characters`, input, ctx: { max_length: limit } };
      }
      if (i.origin === 'array') return { type: 'too_short', loc, msg: `List should have at least ${limit} item${limit === 1 ? '' : 's'} after validation, not 0`, input, ctx: { min_length: limit } };
      return small
        ? { type: 'greater_than_equal', loc, msg: `Input should be greater than or equal to ${limit}`, input, ctx: { ge: limit } }
        : { type: 'less_than_equal', loc, msg: `Input should be less than or equal to ${limit}`, input, ctx: { le: limit } };
    }
    if (i.code === 'invalid_type') {
      const expected = String((i as { expected: unknown }).expected);
      const type = expected === 'string' ? 'string_type' : expected === 'int' ? 'int_parsing' : expected === 'number' ? 'float_parsing' : expected === 'array' ? 'list_type' : 'model_type';
      const msg = expected === 'string' ? 'Input should be a valid string' : expected === 'int' ? 'Input should be a valid integer' : expected === 'number' ? 'Input should be a valid number' : expected === 'array' ? 'Input should be a valid list' : `Input should be a valid ${expected}`;
      return { type, loc, msg, input };
    }
    if (i.code === 'invalid_value') {
      const values = ((i as { values?: unknown[] }).values ?? []).map((v) => `'${String(v)}'`);
      return { type: 'literal_error', loc, msg: `Input should be ${values.join(' or ')}`, input };
    }
    return { type: 'value_error', loc, msg: i.message, input };
  });
}

function validate<S extends z.ZodType>(schema: S, body: Record<string, unknown>): z.infer<S> {
  const r = schema.safeParse(body);
  if (!r.success) throw new ValidationError(toValidationItems(r.error, body));
  return r.data;
}

async function readJson(c: Context<AppEnv>, rt: Runtime): Promise<Record<string, unknown>> {
  const bytes = await readBodyBytes(c.req.raw, rt.config.aisbf.server.body_limit_mb * MiB, (limit) => new HttpError(413, `Request body is larger than ${Math.round(limit / MiB)} MB`));
  const text = Buffer.from(bytes).toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new ValidationError([{ type: 'json_invalid', loc: ['body', 0], msg: 'JSON decode error', input: {}, ctx: { error: (err as Error).message } }]);
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new ValidationError([{ type: 'model_attributes_type', loc: ['body'], msg: 'Input should be a valid dictionary or object to extract fields from', input: body }]);
  }
  return body as Record<string, unknown>;
}

/** Reads a multipart body under `limit` (413 in the app's words beyond it). */
async function readForm(c: Context<AppEnv>, limit: number, what: string): Promise<FormData> {
  const type = c.req.header('content-type') ?? '';
  if (!type.toLowerCase().startsWith('multipart/form-data')) {
    throw new ValidationError([{ type: 'missing', loc: ['body', what], msg: 'Field required', input: null }]);
  }
  const bytes = await readBodyBytes(c.req.raw, limit, () => new HttpError(413, `File too large. Maximum size is ${Math.round(limit / MiB)}MB`));
  try {
    return await new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-type': type } }).formData();
  } catch (err) {
    throw new HttpError(400, `Could not parse the multipart body: ${(err as Error).message}`);
  }
}

/** Form text fields as a body object; numeric strings become numbers (pydantic's lax mode). */
function formFields(form: FormData, numeric: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of form.entries()) {
    if (typeof v !== 'string') continue;
    out[k] = numeric.includes(k) && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// Bytes in and out.
// ------------------------------------------------------------------------------------------------

function sniffImage(b: Uint8Array): string | undefined {
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'image/png';
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46) return 'image/gif';
  if (Buffer.from(b.subarray(0, 4)).toString('latin1') === 'RIFF' && Buffer.from(b.subarray(8, 12)).toString('latin1') === 'WEBP') return 'image/webp';
  return undefined;
}

const EXT: Readonly<Record<string, string>> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/gif': 'gif', 'image/webp': 'webp' };

/** base64 (a data: URI allowed) → image bytes and type; 400 invalid_format_error otherwise. */
function decodeImage(value: string, field: string): { data: Uint8Array; mimeType: string } {
  const b64 = value.startsWith('data:') ? value.slice(value.indexOf(',') + 1) : value;
  const data = Buffer.from(b64.trim(), 'base64');
  const mimeType = data.byteLength ? sniffImage(data) : undefined;
  if (!mimeType) throw new HttpError(400, `Invalid ${field}: expected a base64-encoded PNG, JPEG, GIF or WEBP image`);
  return { data, mimeType };
}

async function fileImage(f: File, field: string): Promise<{ data: Uint8Array; mimeType: string }> {
  const data = new Uint8Array(await f.arrayBuffer());
  const mimeType = sniffImage(data);
  if (!mimeType) throw new HttpError(400, `Invalid ${field}: expected a PNG, JPEG, GIF or WEBP image file`);
  return { data, mimeType };
}

/** The first image of a result as bytes (b64_json, or a data: URI in `url`). */
function firstImage(r: ImageResult): { data: Uint8Array; mimeType: string } {
  const d = r.data[0];
  const b64 = d?.b64_json ?? (d?.url?.startsWith('data:') ? d.url.slice(d.url.indexOf(',') + 1) : undefined);
  if (!b64) throw new HttpError(502, 'The image model answered no image bytes');
  const data = Buffer.from(b64, 'base64');
  return { data, mimeType: sniffImage(data) ?? 'image/png' };
}

function imageResponse(img: { data: Uint8Array; mimeType: string }, stem: string, served: Candidate): Response {
  return new Response(img.data as Uint8Array<ArrayBuffer>, {
    status: 200,
    headers: {
      'content-type': img.mimeType,
      'content-disposition': `attachment; filename=${stem}.${EXT[img.mimeType] ?? 'png'}`,
      'content-length': String(img.data.byteLength),
      ...servedHeaders(served),
    },
  });
}

function servedHeaders(c: Candidate): Record<string, string> {
  return { 'x-aisbf-provider': c.providerId, 'x-aisbf-model': c.model };
}

// ------------------------------------------------------------------------------------------------
// Targets and the attempt loop.
// ------------------------------------------------------------------------------------------------

function defaultTarget(rt: Runtime, route: Route): string | undefined {
  const p = rt.config.aisbf.platform;
  if (route === 'edit_image') return p.edit_image ?? p.image;
  if (route === 'image_to_video') return p.image_to_video ?? p.video;
  return p[route];
}

/**
 * `model` → a target name: a rotation id, `provider/model`, or a bare model id (the platform app
 * took Hugging Face ids such as `stabilityai/stable-diffusion-xl-base-1.0`) served by the provider of
 * the route's default target.
 */
export function platformTarget(rt: Runtime, route: Route, model: string | null | undefined): string {
  const def = defaultTarget(rt, route);
  if (!model) {
    if (!def) throw new HttpError(400, `No model given and no default configured for this route: send "model" or set platform.${route} in aisbf.json`);
    return def;
  }
  if (rt.rotations.has(model)) return model;
  const slash = model.indexOf('/');
  if (slash > 0 && rt.config.providers.providers[model.slice(0, slash)]) return model;
  if (def && !rt.rotations.has(def) && def.indexOf('/') > 0) return `${def.slice(0, def.indexOf('/'))}/${model}`;
  throw new HttpError(404, `Model '${model}' not found: use "provider/model" or a rotation id`);
}

async function run<T>(
  c: Context<AppEnv>,
  deps: AppDeps,
  rt: Runtime,
  route: Route,
  model: string | null | undefined,
  method: CapabilityMethod,
  call: (cand: Candidate, ctx: CallContext) => Promise<T>,
): Promise<AttemptSuccess<T>> {
  const name = platformTarget(rt, route, model);
  const all = candidatesForName(rt, name);
  const able = all.filter((cand) => adapterCan(cand.adapter, method));
  if (!able.length) {
    throw new HttpError(400, `'${name}' cannot serve this route: ${all.map((x) => `${x.key} (${x.provider.type})`).join(', ')} ${all.length === 1 ? 'has' : 'have'} no ${method}`);
  }
  const rotation = rt.rotations.has(name) ? rt.config.rotations.rotations[name] : undefined;
  const r = await runWithFallback(able, call, {
    runtime: rt,
    keys: clientKeys(c, rt),
    signal: c.req.raw.signal,
    log: deps.log,
    routing: deps.routing,
    rotation: rotation ? { id: name, config: rotation } : undefined,
  });
  const reqLog = c.get('reqLog');
  reqLog.provider = r.candidate.providerId;
  reqLog.model = r.candidate.model;
  reqLog.attempts = r.attempts;
  return r;
}

/**
 * The Stable-Diffusion-style fields travel to adapters that read them (Hugging Face, Google); an
 * OpenAI-type upstream refuses fields it does not know, so they are left out there.
 */
function extras<T extends Record<string, unknown>>(cand: Candidate, fields: T): Partial<T> {
  if (cand.provider.type === 'openai') return {};
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== null) (out as Record<string, unknown>)[k] = v;
  return out;
}

// ------------------------------------------------------------------------------------------------
// Video: start, wait for a queued job, stream the bytes.
// ------------------------------------------------------------------------------------------------

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), reject(new ClientGoneError())), { once: true });
  });

async function finishVideo(c: Context<AppEnv>, deps: AppDeps, rt: Runtime, r: AttemptSuccess<{ job: VideoJob; ctx: CallContext }>, started: number): Promise<Response> {
  const { candidate: cand } = r;
  const { ctx } = r.value;
  let job = r.value.job;
  const deadline = started + rt.config.aisbf.platform.video_timeout_seconds * 1000;
  const interval = Math.max(10, rt.config.aisbf.capabilities.video_poll_seconds * 1000);
  for (let first = true; job.status === 'queued' || job.status === 'in_progress'; first = false) {
    if (!first) {
      if (Date.now() + interval > deadline) throw new ProviderError(`the video was not finished within ${rt.config.aisbf.platform.video_timeout_seconds} s`, { kind: 'timeout', provider: cand.providerId, model: cand.model });
      await sleep(interval, c.req.raw.signal);
    }
    job = await cand.adapter.getVideo!(job.id, ctx);
  }
  if (job.status === 'failed') {
    throw new HttpError(502, `Video generation failed on ${cand.key}: ${job.error?.message ?? 'unknown error'}${job.error?.code ? ` (${job.error.code})` : ''}`);
  }
  const content = await cand.adapter.getVideoContent!(job.id, ctx);
  const headers: Record<string, string> = {
    'content-type': content.headers.get('content-type')?.startsWith('video/') ? content.headers.get('content-type')! : 'video/mp4',
    'content-disposition': 'attachment; filename="video.mp4"',
    'x-video-model': cand.model,
    // Seconds as a bare number (what a Python app's str(float) sends; float() reads it back).
    'x-generation-time': ((Date.now() - started) / 1000).toFixed(2),
    ...servedHeaders(cand),
  };
  const length = content.headers.get('content-length');
  if (length) headers['content-length'] = length;
  return new Response(content.body, { status: 200, headers });
}

// ------------------------------------------------------------------------------------------------
// The routes.
// ------------------------------------------------------------------------------------------------

type Handler = (c: Context<AppEnv>, rt: Runtime) => Promise<Response>;

export function registerPlatformRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  const route = (path: string, video: boolean, handler: Handler) =>
    app.post(path, async (c) => {
      try {
        return await handler(c, deps.runtime());
      } catch (err) {
        if (err instanceof ClientGoneError) throw err;
        const reqLog = c.get('reqLog');
        if (reqLog) reqLog.error = (err as Error).message;
        return errorResponse(err, video, deps.log);
      }
    });

  route('/api/image', false, async (c, rt) => {
    const b = validate(imageSchema, await readJson(c, rt));
    const r = await run(c, deps, rt, 'image', b.model, 'generateImage', (cand, ctx) =>
      cand.adapter.generateImage!(
        {
          model: cand.model,
          prompt: b.prompt,
          n: 1,
          size: `${b.width}x${b.height}`,
          response_format: 'b64_json',
          ...extras(cand, { negative_prompt: b.negative_prompt, num_inference_steps: b.num_inference_steps, guidance_scale: b.guidance_scale, width: b.width, height: b.height }),
        },
        ctx,
      ),
    );
    r.settle({});
    return imageResponse(firstImage(r.value), 'generated_image', r.candidate);
  });

  route('/api/edit-image', false, async (c, rt) => {
    let body: Record<string, unknown>;
    let image: { data: Uint8Array; mimeType: string } | undefined;
    let mask: { data: Uint8Array; mimeType: string } | undefined;
    if ((c.req.header('content-type') ?? '').toLowerCase().startsWith('multipart/form-data')) {
      const form = await readForm(c, rt.config.aisbf.server.upload_limit_mb * MiB, 'image');
      body = formFields(form, ['strength', 'num_inference_steps']);
      const f = form.get('image');
      const m = form.get('mask');
      if (f instanceof File) {
        image = await fileImage(f, 'image');
        // The schema checks the field's presence and length; the file stands in for the base64.
        body.image = 'x'.repeat(100);
      }
      if (m instanceof File) {
        mask = await fileImage(m, 'mask');
        body.mask = 'file';
      }
    } else {
      body = await readJson(c, rt);
    }
    const b = validate(editSchema, body);
    image ??= decodeImage(b.image, 'image');
    if (!mask && b.mask) mask = decodeImage(b.mask, 'mask');
    const r = await run(c, deps, rt, 'edit_image', b.model, 'editImage', (cand, ctx) =>
      cand.adapter.editImage!(
        {
          model: cand.model,
          prompt: b.prompt,
          n: 1,
          response_format: 'b64_json',
          image: [{ ...image!, filename: `image.${EXT[image!.mimeType] ?? 'png'}` }],
          ...(mask ? { mask: { ...mask, filename: `mask.${EXT[mask.mimeType] ?? 'png'}` } } : {}),
          ...extras(cand, { negative_prompt: b.negative_prompt, strength: b.strength, num_inference_steps: b.num_inference_steps }),
        },
        ctx,
      ),
    );
    r.settle({});
    return imageResponse(firstImage(r.value), 'edited_image', r.candidate);
  });

  route('/api/llm', false, async (c, rt) => {
    const b = validate(llmSchema, await readJson(c, rt));
    // top_k is validated as the app did, but not sent: OpenAI-shaped upstreams have no such field.
    const r = await run(c, deps, rt, 'llm', b.model, 'chat', async (cand, ctx) => {
      const messages: ChatMessage[] = b.messages.map((m) => ({ role: m.role, content: m.content }));
      return (await chatCall(rt, cand, { model: cand.model, messages, max_tokens: b.max_tokens, temperature: b.temperature, top_p: b.top_p }, ctx)).value;
    });
    r.settle({ usage: r.value.usage });
    const choice = r.value.choices[0];
    const content = choice?.message.content;
    const text = typeof content === 'string' ? content : Array.isArray(content) ? content.map((p) => (typeof p.text === 'string' ? p.text : '')).join('') : '';
    return json(
      { response: text.trim(), model: r.candidate.model, tokens_used: r.value.usage?.total_tokens ?? null, stop_reason: choice?.finish_reason ?? null },
      200,
      servedHeaders(r.candidate),
    );
  });

  route('/api/tts', false, async (c, rt) => {
    const b = validate(ttsSchema, await readJson(c, rt));
    // speaker_id and speed are accepted as the app accepted them; like the app, they change nothing.
    const r = await run(c, deps, rt, 'tts', b.model, 'speak', (cand, ctx) => cand.adapter.speak!({ model: cand.model, input: b.text, voice: 'alloy', response_format: 'wav' }, ctx));
    r.settle({});
    const type = r.value.contentType.split(';')[0]!.trim();
    return new Response(r.value.data as Uint8Array<ArrayBuffer>, {
      status: 200,
      headers: {
        // A model that answers another audio format (HF models often send FLAC) is labelled truthfully.
        'content-type': type.startsWith('audio/') ? type : 'audio/wav',
        'content-disposition': 'attachment; filename=speech.wav',
        'content-length': String(r.value.data.byteLength),
        ...servedHeaders(r.candidate),
      },
    });
  });

  route('/api/stt', false, async (c, rt) => {
    const form = await readForm(c, STT_LIMIT, 'audio');
    const audio = form.get('audio');
    if (!(audio instanceof File)) throw new ValidationError([{ type: 'missing', loc: ['body', 'audio'], msg: 'Field required', input: null }]);
    const model = form.get('model');
    const language = form.get('language');
    const lang = typeof language === 'string' && language ? language : undefined;
    const data = new Uint8Array(await audio.arrayBuffer());
    const r = await run(c, deps, rt, 'stt', typeof model === 'string' ? model : undefined, 'transcribe', (cand, ctx) =>
      cand.adapter.transcribe!(
        { model: cand.model, file: { data, filename: audio.name || 'audio.wav', mimeType: audio.type || 'audio/wav' }, response_format: 'verbose_json', ...(lang ? { language: lang } : {}) },
        ctx,
      ),
    );
    r.settle({});
    const segs = (r.value.segments ?? []) as Array<{ avg_logprob?: unknown }>;
    const logprobs = segs.map((s) => s.avg_logprob).filter((v): v is number => typeof v === 'number');
    // Whisper-style segments carry avg_logprob; its mean probability is the nearest thing to a confidence.
    const confidence = logprobs.length ? Math.round((logprobs.reduce((n, v) => n + Math.exp(v), 0) / logprobs.length) * 1000) / 1000 : null;
    return json({ text: r.value.text, language: r.value.language ?? lang ?? null, confidence, model: r.candidate.model }, 200, servedHeaders(r.candidate));
  });

  route('/api/embedding', false, async (c, rt) => {
    const b = validate(embeddingSchema, await readJson(c, rt));
    const r = await run(c, deps, rt, 'embedding', b.model, 'embed', (cand, ctx) => cand.adapter.embed!({ model: cand.model, input: b.text }, ctx));
    const u = r.value.usage;
    r.settle({ usage: u ? { prompt_tokens: u.prompt_tokens, completion_tokens: 0, total_tokens: u.total_tokens } : undefined });
    const embedding = r.value.data[0]?.embedding;
    if (!Array.isArray(embedding)) throw new HttpError(502, 'The embedding model answered no vector');
    return json({ embedding, dimension: embedding.length, model: r.candidate.model, tokens_used: null }, 200, servedHeaders(r.candidate));
  });

  route('/api/video/text-to-video', true, async (c, rt) => {
    const b = validate(t2vSchema, await readJson(c, rt));
    const started = Date.now();
    const r = await run(c, deps, rt, 'video', b.model, 'startVideo', async (cand, ctx) => {
      if (!cand.adapter.getVideo || !cand.adapter.getVideoContent) throw new HttpError(400, `${cand.key} cannot deliver video content`);
      const job = await cand.adapter.startVideo!(
        {
          model: cand.model,
          prompt: b.prompt,
          seconds: String(b.duration),
          ...extras(cand, { negative_prompt: b.negative_prompt, fps: b.fps, num_inference_steps: b.num_inference_steps }),
        },
        ctx,
      );
      return { job, ctx };
    });
    r.settle({});
    return finishVideo(c, deps, rt, r, started);
  });

  route('/api/video/image-to-video', true, async (c, rt) => {
    // The image may be 10 MiB; the form's other fields get a little room on top.
    const form = await readForm(c, I2V_IMAGE_LIMIT + MiB, 'image');
    const file = form.get('image');
    if (!(file instanceof File)) throw new ValidationError([{ type: 'missing', loc: ['body', 'image'], msg: 'Field required', input: null }]);
    if (file.size > I2V_IMAGE_LIMIT) throw new HttpError(413, `File too large. Maximum size is ${I2V_IMAGE_LIMIT / MiB}MB`);
    const b = validate(i2vSchema, formFields(form, ['duration', 'fps', 'num_inference_steps']));
    const image = await fileImage(file, 'image');
    const started = Date.now();
    const r = await run(c, deps, rt, 'image_to_video', b.model, 'startVideo', async (cand, ctx) => {
      if (!cand.adapter.getVideo || !cand.adapter.getVideoContent) throw new HttpError(400, `${cand.key} cannot deliver video content`);
      const job = await cand.adapter.startVideo!(
        {
          model: cand.model,
          prompt: b.prompt ?? '',
          seconds: String(b.duration),
          input_reference: { ...image, filename: file.name || `image.${EXT[image.mimeType] ?? 'png'}` },
          ...extras(cand, { fps: b.fps, num_inference_steps: b.num_inference_steps }),
        },
        ctx,
      );
      return { job, ctx };
    });
    r.settle({});
    return finishVideo(c, deps, rt, r, started);
  });
}
