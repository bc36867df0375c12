/**
 * @module `POST …/audio/speech` (JSON in, audio bytes out with the format's content type) and
 * `POST …/audio/transcriptions` (multipart under the upload limit; adapters answer verbose results and
 * this route renders the asked `response_format`: json, text, verbose_json, srt or vtt).
 */
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import type { AppDeps, AppEnv } from '../app-env.js';
import { SPEECH_CONTENT_TYPES, type SpeechRequest, type TranscriptionRequest, type TranscriptionResult } from '../../providers/provider-adapter.js';
import type { Scope } from '../../routing/resolve-target.js';
import { NEEDS } from '../../routing/capability-filter.js';
import { checkScope, onEveryBase, runCapabilityRoute } from '../capability-request.js';
import { servedHeaders } from '../../inbound/served-headers.js';
import { extensionOf, fileType, requireFields } from '../capability-schemas.js';
import { HttpError } from '../errors.js';
import { readUploadForm } from '../multipart.js';
import { parseJsonBody, zodToHttpError } from '../../inbound/json-body.js';
import { readBodyText } from '../read-body.js';
import { toSrt, toVtt } from '../subtitles.js';

const SPEECH_FORMATS = ['mp3', 'opus', 'aac', 'flac', 'wav', 'pcm'] as const;
const TRANSCRIPT_FORMATS = ['json', 'text', 'srt', 'verbose_json', 'vtt'] as const;
type TranscriptFormat = (typeof TRANSCRIPT_FORMATS)[number];

/** The audio types OpenAI's transcription endpoint takes, by extension (its own error names them). */
const AUDIO_EXTENSIONS = ['flac', 'mp3', 'mp4', 'mpeg', 'mpga', 'm4a', 'ogg', 'oga', 'opus', 'wav', 'webm'] as const;
const AUDIO_TYPES: ReadonlySet<string> = new Set([
  'audio/flac', 'audio/x-flac', 'audio/mpeg', 'audio/mp3', 'audio/mp4', 'audio/x-m4a', 'audio/m4a', 'audio/ogg', 'audio/opus',
  'audio/wav', 'audio/x-wav', 'audio/wave', 'audio/webm', 'video/mp4', 'video/webm', 'video/mpeg',
]);

const speechSchema = z.looseObject({
  model: z.string().min(1).optional(),
  input: z.string().min(1).max(4096),
  voice: z.union([z.string().min(1), z.looseObject({ id: z.string().min(1) })], { error: "expected a voice name or an object with an 'id'" }),
  response_format: z
    .enum(SPEECH_FORMATS, { error: (i) => `unsupported response_format ${JSON.stringify(i.input)}; use one of ${SPEECH_FORMATS.join(', ')}` })
    .optional(),
  speed: z.number().min(0.25).max(4).optional(),
  instructions: z.string().optional(),
  stream_format: z.enum(['audio'], { error: "only 'audio' is supported (aisbf does not relay speech as SSE)" }).optional(),
});

async function handleSpeech(c: Context<AppEnv>, deps: AppDeps, scope: Scope): Promise<Response> {
  const rt = deps.runtime();
  checkScope(rt, scope);
  const body = parseJsonBody(await readBodyText(c, rt.config.aisbf.server.body_limit_mb * 1024 * 1024));
  requireFields(body, ['input', 'voice']);
  const parsed = speechSchema.safeParse(body);
  if (!parsed.success) throw zodToHttpError(parsed.error);
  const req = parsed.data as SpeechRequest;
  const format = req.response_format ?? 'mp3';
  const r = await runCapabilityRoute(c, deps, rt, { route: 'speech', scope, model: req.model, need: NEEDS.speech, call: (cand, ctx) => cand.adapter.speak!(req, ctx) });
  const sent = r.value.contentType.split(';')[0]!.trim();
  // A compatible upstream that labels audio as octet-stream still gets the format's real type.
  const contentType = !sent || sent === 'application/octet-stream' ? SPEECH_CONTENT_TYPES[format] : r.value.contentType;
  return new Response(r.value.data, {
    status: 200,
    headers: { 'content-type': contentType, 'content-length': String(r.value.data.byteLength), ...servedHeaders(r.served) },
  });
}

const TRANSCRIPTION_FIELDS: ReadonlySet<string> = new Set(['file', 'model', 'language', 'prompt', 'response_format', 'temperature', 'stream']);

function checkAudio(f: { filename: string; mimeType: string }): string {
  const type = fileType(f);
  const ext = extensionOf(f.filename);
  if (AUDIO_TYPES.has(type) || (AUDIO_EXTENSIONS as readonly string[]).includes(ext)) return AUDIO_TYPES.has(type) ? type : `audio/${ext}`;
  throw new HttpError(400, `Invalid file format '${type || ext || 'unknown'}' (${f.filename}). Supported formats: ${AUDIO_EXTENSIONS.join(', ')}.`, {
    param: 'file',
    code: 'invalid_file_format',
  });
}

function renderTranscript(t: TranscriptionResult, format: TranscriptFormat, headers: Record<string, string>): Response {
  const text = (body: string) => new Response(body, { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers } });
  const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json', ...headers } });
  switch (format) {
    case 'text':
      return text(`${t.text}\n`);
    case 'srt':
      return text(toSrt(t));
    case 'vtt':
      return new Response(toVtt(t), { status: 200, headers: { 'content-type': 'text/vtt; charset=utf-8', ...headers } });
    case 'verbose_json':
      return json({ task: 'transcribe', ...t });
    case 'json': {
      const out: Record<string, unknown> = { text: t.text };
      if (t.logprobs !== undefined) out.logprobs = t.logprobs;
      if (t.usage !== undefined) out.usage = t.usage;
      return json(out);
    }
  }
}

async function handleTranscription(c: Context<AppEnv>, deps: AppDeps, scope: Scope): Promise<Response> {
  const rt = deps.runtime();
  checkScope(rt, scope);
  const form = await readUploadForm(c.req.raw, rt.config.aisbf.server.upload_limit_mb * 1024 * 1024);
  const stream = form.text('stream');
  if (stream === 'true') {
    throw new HttpError(400, "Streaming transcriptions are not supported by aisbf; send 'stream': false or leave it out.", { param: 'stream', code: 'unsupported_parameter' });
  }
  const file = await form.requiredFile('file');
  const format = (form.text('response_format') ?? 'json') as TranscriptFormat;
  if (!TRANSCRIPT_FORMATS.includes(format)) {
    throw new HttpError(400, `Invalid value for 'response_format': unsupported response_format '${format}'; use one of ${TRANSCRIPT_FORMATS.join(', ')}.`, {
      param: 'response_format',
      code: 'invalid_value',
    });
  }
  const req: TranscriptionRequest = {
    ...form.extras(TRANSCRIPTION_FIELDS),
    model: form.text('model') ?? '',
    file: { ...file, mimeType: checkAudio(file) },
    response_format: format,
  };
  for (const k of ['language', 'prompt'] as const) {
    const v = form.text(k);
    if (v !== undefined && v !== '') req[k] = v;
  }
  const temperature = form.number('temperature', { min: 0, max: 1 });
  if (temperature !== undefined) req.temperature = temperature;
  const r = await runCapabilityRoute(c, deps, rt, { route: 'transcription', scope, model: req.model || undefined, need: NEEDS.transcription, call: (cand, ctx) => cand.adapter.transcribe!(req, ctx) });
  return renderTranscript(r.value, format, servedHeaders(r.served));
}

export function registerAudioRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  onEveryBase(app, 'post', '/audio/speech', (c, scope) => handleSpeech(c, deps, scope));
  onEveryBase(app, 'post', '/audio/transcriptions', (c, scope) => handleTranscription(c, deps, scope));
}
