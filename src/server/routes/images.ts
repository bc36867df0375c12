/**
 * @module `POST …/images/generations` (JSON) and `POST …/images/edits` (multipart, under the upload
 * limit) on every base, served by candidates that declare `image`, with failover between them.
 */
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import type { AppDeps, AppEnv } from '../app-env.js';
import type { ImageEditRequest, ImageRequest } from '../../providers/provider-adapter.js';
import type { Scope } from '../../routing/resolve-target.js';
import { NEEDS } from '../../routing/capability-filter.js';
import { checkScope, onEveryBase, runCapabilityRoute } from '../capability-request.js';
import { servedHeaders } from '../../inbound/served-headers.js';
import { fileType, requireFields } from '../capability-schemas.js';
import { HttpError } from '../errors.js';
import { readUploadForm, type UploadedFile } from '../multipart.js';
import { parseJsonBody, zodToHttpError } from '../../inbound/json-body.js';
import { readBodyText } from '../read-body.js';

const RESPONSE_FORMATS = ['url', 'b64_json'] as const;
const IMAGE_TYPES: ReadonlySet<string> = new Set(['image/png', 'image/jpeg', 'image/webp', 'image/gif']);

const generationSchema = z.looseObject({
  model: z.string().min(1).optional(),
  prompt: z.string().min(1),
  n: z.number().int().min(1).max(10).nullish(),
  size: z.string().nullish(),
  quality: z.string().nullish(),
  style: z.string().nullish(),
  response_format: z.enum(RESPONSE_FORMATS, { error: (i) => `unsupported response_format ${JSON.stringify(i.input)}; use 'url' or 'b64_json'` }).nullish(),
  user: z.string().optional(),
});

function refuseStreaming(stream: unknown): void {
  if (stream === true || stream === 'true') {
    throw new HttpError(400, "Streaming image responses are not supported by aisbf; send 'stream': false or leave it out.", { param: 'stream', code: 'unsupported_parameter' });
  }
}

/** Drops nulls the SDK may send (OpenAI treats null as absent). */
function withoutNulls<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === null) delete o[k];
  return o;
}

async function handleGeneration(c: Context<AppEnv>, deps: AppDeps, scope: Scope): Promise<Response> {
  const rt = deps.runtime();
  checkScope(rt, scope);
  const body = parseJsonBody(await readBodyText(c, rt.config.aisbf.server.body_limit_mb * 1024 * 1024));
  requireFields(body, ['prompt']);
  refuseStreaming(body.stream);
  delete body.stream;
  const parsed = generationSchema.safeParse(body);
  if (!parsed.success) throw zodToHttpError(parsed.error);
  const req = withoutNulls(parsed.data) as ImageRequest;
  const r = await runCapabilityRoute(c, deps, rt, { route: 'images', scope, model: req.model, need: NEEDS.imageGeneration, call: (cand, ctx) => cand.adapter.generateImage!(req, ctx) });
  return c.json(r.value, 200, servedHeaders(r.served));
}

function checkImage(f: UploadedFile, param: string): UploadedFile {
  const type = fileType(f);
  if (!IMAGE_TYPES.has(type)) {
    throw new HttpError(400, `Invalid file '${param}': unsupported image type '${type || 'unknown'}' (${f.filename}). Use PNG, JPEG, WEBP or GIF.`, { param, code: 'invalid_image_format' });
  }
  return { ...f, mimeType: type };
}

const EDIT_FIELDS: ReadonlySet<string> = new Set(['image', 'mask', 'prompt', 'model', 'n', 'size', 'quality', 'response_format', 'stream']);

async function handleEdit(c: Context<AppEnv>, deps: AppDeps, scope: Scope): Promise<Response> {
  const rt = deps.runtime();
  checkScope(rt, scope);
  const form = await readUploadForm(c.req.raw, rt.config.aisbf.server.upload_limit_mb * 1024 * 1024);
  refuseStreaming(form.text('stream'));
  const images = (await form.files('image')).map((f) => checkImage(f, 'image'));
  if (!images.length) throw new HttpError(400, "Missing required parameter: 'image'.", { param: 'image', code: 'missing_required_parameter' });
  const mask = await form.file('mask');
  const responseFormat = form.text('response_format');
  if (responseFormat !== undefined && !(RESPONSE_FORMATS as readonly string[]).includes(responseFormat)) {
    throw new HttpError(400, `Invalid value for 'response_format': unsupported response_format '${responseFormat}'; use 'url' or 'b64_json'.`, { param: 'response_format', code: 'invalid_value' });
  }
  const req: ImageEditRequest = {
    ...form.extras(EDIT_FIELDS),
    model: form.text('model') ?? '',
    prompt: form.requiredText('prompt'),
    image: images,
    ...(mask ? { mask: checkImage(mask, 'mask') } : {}),
  };
  const n = form.number('n', { int: true, min: 1, max: 10 });
  if (n !== undefined) req.n = n;
  for (const k of ['size', 'quality'] as const) {
    const v = form.text(k);
    if (v !== undefined) req[k] = v;
  }
  if (responseFormat !== undefined) req.response_format = responseFormat as ImageRequest['response_format'];
  const r = await runCapabilityRoute(c, deps, rt, { route: 'images', scope, model: req.model || undefined, need: NEEDS.imageEdit, call: (cand, ctx) => cand.adapter.editImage!(req, ctx) });
  return c.json(r.value, 200, servedHeaders(r.served));
}

export function registerImageRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  onEveryBase(app, 'post', '/images/generations', (c, scope) => handleGeneration(c, deps, scope));
  onEveryBase(app, 'post', '/images/edits', (c, scope) => handleEdit(c, deps, scope));
}
