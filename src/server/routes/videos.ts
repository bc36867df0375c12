/**
 * @module Video jobs on every base: `POST …/videos` (multipart with an optional `input_reference`
 * file, or JSON) starts a job on a candidate that declares `video` and answers our own job object;
 * `GET …/videos/{id}` reads its state (refreshed upstream when stale); `GET …/videos/{id}/content`
 * streams the finished bytes from the upstream without holding them in memory.
 */
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import type { AppDeps, AppEnv } from '../app-env.js';
import type { VideoContentVariant, VideoRequest } from '../../providers/provider-adapter.js';
import type { Scope } from '../../routing/resolve-target.js';
import { ProviderError } from '../../providers/provider-error.js';
import { NEEDS } from '../../routing/capability-filter.js';
import { videoView } from '../../routing/video-jobs.js';
import { checkScope, onEveryBase, runCapabilityRoute } from '../capability-request.js';
import { headerValue, servedHeaders } from '../../inbound/served-headers.js';
import { fileType, requireFields } from '../capability-schemas.js';
import { clientKeys } from '../client-keys.js';
import { HttpError } from '../errors.js';
import { isMultipart, readUploadForm } from '../multipart.js';
import { parseJsonBody, zodToHttpError } from '../../inbound/json-body.js';
import { readBodyText } from '../read-body.js';

const VARIANTS: readonly VideoContentVariant[] = ['video', 'thumbnail', 'spritesheet'];
const REFERENCE_TYPES: ReadonlySet<string> = new Set(['image/png', 'image/jpeg', 'image/webp', 'video/mp4']);

const videoSchema = z.looseObject({
  model: z.string().min(1).optional(),
  prompt: z.string().min(1),
  seconds: z.union([z.string().regex(/^\d+$/), z.number().int().positive()], { error: "expected a whole number of seconds, such as '4'" }).optional(),
  size: z.string().regex(/^\d+x\d+$/, { error: "expected WIDTHxHEIGHT, such as '1280x720'" }).optional(),
  input_reference: z.looseObject({ image_url: z.string().optional(), file_id: z.string().optional() }).optional(),
});

const FORM_FIELDS: ReadonlySet<string> = new Set(['model', 'prompt', 'seconds', 'size', 'input_reference']);

/** The body as a plain object: JSON, or a form whose `input_reference` is a file or `input_reference[...]` fields. */
async function readVideoRequest(c: Context<AppEnv>, deps: AppDeps): Promise<VideoRequest> {
  const server = deps.runtime().config.aisbf.server;
  if (isMultipart(c.req.raw)) {
    const form = await readUploadForm(c.req.raw, server.upload_limit_mb * 1024 * 1024);
    const body: Record<string, unknown> = { ...form.extras(FORM_FIELDS) };
    for (const k of ['model', 'prompt', 'seconds', 'size'] as const) {
      const v = form.text(k);
      if (v !== undefined) body[k] = v;
    }
    // The SDK encodes a reference object as `input_reference[image_url]` form fields.
    for (const key of Object.keys(body)) {
      const m = /^input_reference\[(image_url|file_id)\]$/.exec(key);
      if (m) {
        body.input_reference = { ...(body.input_reference as object), [m[1]!]: body[key] };
        delete body[key];
      }
    }
    requireFields(body, ['prompt']);
    const parsed = videoSchema.safeParse(body);
    if (!parsed.success) throw zodToHttpError(parsed.error);
    const req = parsed.data as VideoRequest;
    const file = await form.file('input_reference');
    if (file) {
      const type = fileType(file);
      if (!REFERENCE_TYPES.has(type)) {
        throw new HttpError(400, `Invalid file 'input_reference': unsupported type '${type || 'unknown'}' (${file.filename}). Use PNG, JPEG, WEBP or MP4.`, {
          param: 'input_reference',
          code: 'invalid_file_format',
        });
      }
      req.input_reference = { ...file, mimeType: type };
    }
    return req;
  }
  const body = parseJsonBody(await readBodyText(c, server.body_limit_mb * 1024 * 1024));
  requireFields(body, ['prompt']);
  const parsed = videoSchema.safeParse(body);
  if (!parsed.success) throw zodToHttpError(parsed.error);
  const req = parsed.data as VideoRequest;
  if (typeof body.seconds === 'number') req.seconds = String(body.seconds);
  return req;
}

async function handleCreate(c: Context<AppEnv>, deps: AppDeps, scope: Scope): Promise<Response> {
  const rt = deps.runtime();
  checkScope(rt, scope);
  const req = await readVideoRequest(c, deps);
  const r = await runCapabilityRoute(c, deps, rt, {
    route: 'video',
    scope,
    model: req.model,
    need: NEEDS.video,
    call: async (cand, ctx) => {
      const job = await cand.adapter.startVideo!(req, ctx);
      // Without an upstream id the job could never be polled: a malformed answer, so the next candidate.
      if (typeof job?.id !== 'string' || !job.id) throw new ProviderError('the upstream answered a video job without an id', { kind: 'malformed', provider: cand.providerId, model: cand.model });
      return job;
    },
  });
  const requestedModel = req.model ?? (scope.base === 'id' ? scope.id : r.candidate.key);
  const row = deps.videoJobs.record({ candidate: r.candidate, job: r.value, requestedModel, rotationId: r.rotationId, keys: clientKeys(c, rt), prompt: req.prompt });
  return c.json(videoView(row), 200, servedHeaders(r.served));
}

async function handleGet(c: Context<AppEnv>, deps: AppDeps, scope: Scope): Promise<Response> {
  const rt = deps.runtime();
  checkScope(rt, scope);
  const row = deps.videoJobs.get(c.req.param('vid') ?? '');
  const current = await deps.videoJobs.current(row, clientKeys(c, rt));
  // A stored job's model may be a client-named one: encoded like every served-by header.
  return c.json(videoView(current), 200, { 'x-aisbf-provider': current.provider_id, 'x-aisbf-model': headerValue(current.model) });
}

async function handleContent(c: Context<AppEnv>, deps: AppDeps, scope: Scope): Promise<Response> {
  const rt = deps.runtime();
  checkScope(rt, scope);
  const variant = c.req.query('variant');
  if (variant !== undefined && !VARIANTS.includes(variant as VideoContentVariant)) {
    throw new HttpError(400, `Invalid value for 'variant': '${variant}'; use one of ${VARIANTS.join(', ')}.`, { param: 'variant', code: 'invalid_value' });
  }
  const keys = clientKeys(c, rt);
  const row = await deps.videoJobs.current(deps.videoJobs.get(c.req.param('vid') ?? ''), keys);
  const upstream = await deps.videoJobs.content(row, keys, c.req.raw.signal, variant as VideoContentVariant | undefined);
  const headers: Record<string, string> = {
    'content-type': upstream.headers.get('content-type') ?? (variant && variant !== 'video' ? 'application/octet-stream' : 'video/mp4'),
    'x-aisbf-provider': row.provider_id,
    'x-aisbf-model': headerValue(row.model),
  };
  const length = upstream.headers.get('content-length');
  if (length) headers['content-length'] = length;
  const disposition = upstream.headers.get('content-disposition');
  if (disposition) headers['content-disposition'] = disposition;
  // The upstream body is handed on as a stream: bytes flow through, and a client that goes away
  // cancels the upstream read.
  return new Response(upstream.body, { status: 200, headers });
}

export function registerVideoRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  onEveryBase(app, 'post', '/videos', (c, scope) => handleCreate(c, deps, scope));
  onEveryBase(app, 'get', '/videos/:vid', (c, scope) => handleGet(c, deps, scope));
  onEveryBase(app, 'get', '/videos/:vid/content', (c, scope) => handleContent(c, deps, scope));
}
