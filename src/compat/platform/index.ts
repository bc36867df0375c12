/**
 * @module The platform backend compat routes (CONTRACTS.md §4, §6.17; docs/platform-compat.md):
 * `/api/image`, `/api/edit-image`, `/api/llm`, `/api/tts`, `/api/stt`, `/api/embedding`,
 * `/api/video/text-to-video` and `/api/video/image-to-video`, with that app's request fields, ranges,
 * defaults, responses (bytes for images, audio and video) and error shapes. A Hono sub-app with its
 * own onError (platform-errors.ts); every call goes through runRequest, so a rotation fails over and
 * 4xx answers are never retried (the error-policy table).
 */
import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../../server/app-env.js';
import type { ChatMessage } from '../../providers/openai-types.js';
import { ClientGoneError } from '../../providers/deadline.js';
import { HttpError } from '../../errors/http-error.js';
import { redactText } from '../../log.js';
import { runRequest } from '../../pipeline/run-request.js';
import { requestMetaFromHttp } from '../../server/request-meta-from-http.js';
import { servedHeaders } from '../../inbound/served-headers.js';
import { ValidationError, expectedError, json, platformErrorResponse } from './platform-errors.js';
import { MiB, editSchema, embeddingSchema, formFields, i2vSchema, imageSchema, llmSchema, readForm, readJson, t2vSchema, ttsSchema, validate } from './platform-bodies.js';
import { EXT, decodeImage, fileImage, firstImage, imageResponse, type ImageBytes } from './platform-media.js';
import { extras, platformTarget, runPlatform } from './platform-target.js';
import { finishVideo } from './platform-video.js';

export { platformTarget } from './platform-target.js';

const STT_LIMIT = 50 * MiB;
const I2V_IMAGE_LIMIT = 10 * MiB;

/** Routes whose errors take the video shape (`{"detail":{"error","message","details"}}`, 502 upstream). */
const VIDEO_PATHS: ReadonlySet<string> = new Set(['/api/video/text-to-video', '/api/video/image-to-video']);

function platformApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.onError((err, c) => {
    if (err instanceof ClientGoneError) throw err;
    const reqLog = c.get('reqLog');
    if (reqLog) reqLog.error = (err as Error).message;
    if (!expectedError(err)) deps.log.error({ reqId: reqLog?.id, err: redactText(String((err as Error)?.message)) }, 'platform compat route failed');
    return platformErrorResponse(err, VIDEO_PATHS.has(c.req.path));
  });

  app.post('/image', async (c) => {
    const rt = deps.runtime();
    const b = validate(imageSchema, await readJson(c, rt));
    const r = await runPlatform(c, deps, rt, 'image', b.model, 'generateImage', (cand, ctx) =>
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
    return imageResponse(firstImage(r.value), 'generated_image', r.served);
  });

  app.post('/edit-image', async (c) => {
    const rt = deps.runtime();
    let body: Record<string, unknown>;
    let image: ImageBytes | undefined;
    let mask: ImageBytes | undefined;
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
    const r = await runPlatform(c, deps, rt, 'edit_image', b.model, 'editImage', (cand, ctx) =>
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
    return imageResponse(firstImage(r.value), 'edited_image', r.served);
  });

  app.post('/llm', async (c) => {
    const rt = deps.runtime();
    const b = validate(llmSchema, await readJson(c, rt));
    const name = platformTarget(rt, 'llm', b.model);
    // top_k is validated as the app did, but not sent: OpenAI-shaped upstreams have no such field.
    const messages: ChatMessage[] = b.messages.map((m) => ({ role: m.role, content: m.content }));
    const r = await runRequest(deps, requestMetaFromHttp(c, rt, 'platform'), {
      kind: 'chat',
      target: { name },
      req: { model: name, messages, max_tokens: b.max_tokens, temperature: b.temperature, top_p: b.top_p, stream: false },
      observer: c.get('reqLog'),
    });
    if (r.kind !== 'json') throw new HttpError(500, 'unexpected stream');
    const choice = r.completion.choices[0];
    const content = choice?.message.content;
    const text = typeof content === 'string' ? content : Array.isArray(content) ? content.map((p) => (typeof p.text === 'string' ? p.text : '')).join('') : '';
    return json(
      { response: text.trim(), model: r.served?.model ?? name, tokens_used: r.completion.usage?.total_tokens ?? null, stop_reason: choice?.finish_reason ?? null },
      200,
      servedHeaders(r.served),
    );
  });

  app.post('/tts', async (c) => {
    const rt = deps.runtime();
    const b = validate(ttsSchema, await readJson(c, rt));
    // speaker_id and speed are accepted as the app accepted them; like the app, they change nothing.
    const r = await runPlatform(c, deps, rt, 'tts', b.model, 'speak', (cand, ctx) => cand.adapter.speak!({ model: cand.model, input: b.text, voice: 'alloy', response_format: 'wav' }, ctx));
    const type = r.value.contentType.split(';')[0]!.trim();
    return new Response(r.value.data as Uint8Array<ArrayBuffer>, {
      status: 200,
      headers: {
        // A model that answers another audio format (HF models often send FLAC) is labelled truthfully.
        'content-type': type.startsWith('audio/') ? type : 'audio/wav',
        'content-disposition': 'attachment; filename=speech.wav',
        'content-length': String(r.value.data.byteLength),
        ...servedHeaders(r.served),
      },
    });
  });

  app.post('/stt', async (c) => {
    const rt = deps.runtime();
    const form = await readForm(c, STT_LIMIT, 'audio');
    const audio = form.get('audio');
    if (!(audio instanceof File)) throw new ValidationError([{ type: 'missing', loc: ['body', 'audio'], msg: 'Field required', input: null }]);
    const model = form.get('model');
    const language = form.get('language');
    const lang = typeof language === 'string' && language ? language : undefined;
    const data = new Uint8Array(await audio.arrayBuffer());
    const r = await runPlatform(c, deps, rt, 'stt', typeof model === 'string' ? model : undefined, 'transcribe', (cand, ctx) =>
      cand.adapter.transcribe!(
        { model: cand.model, file: { data, filename: audio.name || 'audio.wav', mimeType: audio.type || 'audio/wav' }, response_format: 'verbose_json', ...(lang ? { language: lang } : {}) },
        ctx,
      ),
    );
    const segs = (r.value.segments ?? []) as Array<{ avg_logprob?: unknown }>;
    const logprobs = segs.map((s) => s.avg_logprob).filter((v): v is number => typeof v === 'number');
    // Whisper-style segments carry avg_logprob; its mean probability is the nearest thing to a confidence.
    const confidence = logprobs.length ? Math.round((logprobs.reduce((n, v) => n + Math.exp(v), 0) / logprobs.length) * 1000) / 1000 : null;
    return json({ text: r.value.text, language: r.value.language ?? lang ?? null, confidence, model: r.candidate.model }, 200, servedHeaders(r.served));
  });

  app.post('/embedding', async (c) => {
    const rt = deps.runtime();
    const b = validate(embeddingSchema, await readJson(c, rt));
    const r = await runPlatform(
      c,
      deps,
      rt,
      'embedding',
      b.model,
      'embed',
      (cand, ctx) => cand.adapter.embed!({ model: cand.model, input: b.text }, ctx),
      (v) => (v.usage ? { prompt_tokens: v.usage.prompt_tokens, completion_tokens: 0, total_tokens: v.usage.total_tokens } : undefined),
    );
    const embedding = r.value.data[0]?.embedding;
    if (!Array.isArray(embedding)) throw new HttpError(502, 'The embedding model answered no vector');
    return json({ embedding, dimension: embedding.length, model: r.candidate.model, tokens_used: null }, 200, servedHeaders(r.served));
  });

  app.post('/video/text-to-video', async (c) => {
    const rt = deps.runtime();
    const b = validate(t2vSchema, await readJson(c, rt));
    const started = Date.now();
    const r = await runPlatform(c, deps, rt, 'video', b.model, 'startVideo', async (cand, ctx) => {
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
    return finishVideo(rt, c.req.raw.signal, r, started);
  });

  app.post('/video/image-to-video', async (c) => {
    const rt = deps.runtime();
    // The image may be 10 MiB; the form's other fields get a little room on top.
    const form = await readForm(c, I2V_IMAGE_LIMIT + MiB, 'image');
    const file = form.get('image');
    if (!(file instanceof File)) throw new ValidationError([{ type: 'missing', loc: ['body', 'image'], msg: 'Field required', input: null }]);
    if (file.size > I2V_IMAGE_LIMIT) throw new HttpError(413, `File too large. Maximum size is ${I2V_IMAGE_LIMIT / MiB}MB`);
    const b = validate(i2vSchema, formFields(form, ['duration', 'fps', 'num_inference_steps']));
    const image = await fileImage(file, 'image');
    const started = Date.now();
    const r = await runPlatform(c, deps, rt, 'image_to_video', b.model, 'startVideo', async (cand, ctx) => {
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
    return finishVideo(rt, c.req.raw.signal, r, started);
  });

  return app;
}

/** Mounts the platform sub-app under /api (before the chat routes' `POST /api/:id` helper). */
export function registerPlatformRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  app.route('/api', platformApp(deps));
}
