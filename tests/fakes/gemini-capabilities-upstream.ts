/**
 * @module A fake of the Gemini API's media endpoints (v1beta), in the wire format `@google/genai` 2.32
 * sends and reads (paths from the SDK source; bodies per Google's REST docs):
 * - `POST /v1beta/models/{imagen}:predict` `{instances:[{prompt}], parameters:{sampleCount, aspectRatio}}`
 *   → `{predictions:[{mimeType, bytesBase64Encoded}]}` (`{}` when the safety filter drops everything);
 * - `POST /v1beta/models/{model}:generateContent` with `generationConfig.responseModalities`:
 *   `["AUDIO"]` on a TTS model → one inlineData part of raw PCM (`audio/L16;codec=pcm;rate=24000`),
 *   the voice checked against Gemini's prebuilt voices; `IMAGE` on an image model → inlineData PNG parts
 *   (a TTS model asked for TEXT is a 400, as the real API answers);
 * - `POST /v1beta/models/{veo}:predictLongRunning` → `{name: "models/{veo}/operations/{id}"}`;
 *   `GET /v1beta/models/{veo}/operations/{id}` → `{name}` until done, then `{name, done:true,
 *   response:{"@type", generateVideoResponse:{generatedSamples:[{video:{uri}}]}}}` (or `error`);
 * - `GET /v1beta/files/{id}:download?alt=media` → 302 to the bytes (as the real API redirects), then `video/mp4`.
 * Keys arrive in `x-goog-api-key`; a wrong one is 400 API_KEY_INVALID. Errors can be scripted per
 * endpoint kind with `enqueue`.
 */
import { randomBytes } from 'node:crypto';
import { startFakeServer, sendJson, type FakeServer, type RecordedRequest } from './fake-server.js';
import { API_KEY_INVALID_DETAILS, geminiError } from './gemini-upstream.js';
import { TINY_PNG_B64 } from './openai-capabilities.js';

export const GEMINI_TTS_VOICES = new Set(['Zephyr', 'Puck', 'Charon', 'Kore', 'Fenrir', 'Leda', 'Orus', 'Aoede', 'Callirrhoe', 'Autonoe', 'Enceladus', 'Iapetus', 'Umbriel', 'Algieba', 'Despina', 'Erinome', 'Algenib', 'Rasalgethi', 'Laomedeia', 'Achernar', 'Alnilam', 'Schedar', 'Gacrux', 'Pulcherrima', 'Achird', 'Zubenelgenubi', 'Vindemiatrix', 'Sadachbia', 'Sadaltager', 'Sulafat']);

export type MediaKind = 'predict' | 'tts' | 'image' | 'video-start' | 'video-poll' | 'download';

export interface ScriptedError {
  kind: MediaKind;
  status: number;
  statusName: string;
  message: string;
  details?: unknown[];
}

export interface FakeGeminiMedia extends FakeServer {
  endpoint: string;
  apiKey: string;
  enqueue(...e: ScriptedError[]): void;
  /** How many polls an operation answers "not done" before it finishes (default 1). */
  pollsUntilDone: number;
  /** When set, the next operation finishes with this error instead of a video. */
  failNextVideo?: { code: number; message: string };
  /** The PCM a TTS call answers (0.05 s of a 440 Hz tone, 24 kHz 16-bit mono). */
  pcm: Buffer;
  videoBytes(id: string): Buffer;
  byPath(re: RegExp): RecordedRequest[];
}

function tone(samples: number): Buffer {
  const b = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) b.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 24000)), i * 2);
  return b;
}

function sendError(res: import('node:http').ServerResponse, code: number, status: string, message: string, details?: unknown[]): void {
  sendJson(res, code, geminiError(code, status, message, details));
}

export async function startFakeGeminiMedia(opts: { apiKey?: string } = {}): Promise<FakeGeminiMedia> {
  const apiKey = opts.apiKey ?? `AIzaSy${randomBytes(16).toString('hex')}`;
  const queue: ScriptedError[] = [];
  const ops = new Map<string, { polls: number; model: string; error?: { code: number; message: string } }>();
  const videoBytes = (id: string) => Buffer.concat([Buffer.from([0, 0, 0, 0x20]), Buffer.from('ftypisom'), Buffer.from(`veo-video-${id}`)]);

  const scripted = (kind: MediaKind) => {
    const i = queue.findIndex((e) => e.kind === kind);
    return i >= 0 ? queue.splice(i, 1)[0] : undefined;
  };

  const server = await startFakeServer((req, res) => {
    // The download is a redirect target without a key (a signed URL on the real API).
    const redirected = /^\/media\/([\w-]+)\.mp4$/.exec(req.path);
    if (req.method === 'GET' && redirected) {
      const bytes = videoBytes(redirected[1]!);
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': bytes.length });
      res.end(bytes);
      return;
    }
    const key = (req.headers['x-goog-api-key'] as string | undefined) ?? req.query.get('key') ?? undefined;
    if (!key) return sendError(res, 403, 'PERMISSION_DENIED', "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.");
    if (key !== apiKey) return sendError(res, 400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', API_KEY_INVALID_DETAILS);

    const dl = /^\/v1beta\/files\/([\w-]+):download$/.exec(req.path);
    if (req.method === 'GET' && dl) {
      const e = scripted('download');
      if (e) return sendError(res, e.status, e.statusName, e.message, e.details);
      if (req.query.get('alt') !== 'media') return sendJson(res, 200, { file: { name: `files/${dl[1]}` } });
      res.writeHead(302, { location: `/media/${dl[1]}.mp4` });
      res.end();
      return;
    }

    const op = /^\/v1beta\/models\/([^/:]+)\/operations\/([\w-]+)$/.exec(req.path);
    if (req.method === 'GET' && op) {
      const e = scripted('video-poll');
      if (e) return sendError(res, e.status, e.statusName, e.message, e.details);
      const name = `models/${op[1]}/operations/${op[2]}`;
      const state = ops.get(name);
      if (!state) return sendError(res, 404, 'NOT_FOUND', `Operation ${name} not found.`);
      if (state.polls > 0) {
        state.polls--;
        return sendJson(res, 200, { name });
      }
      if (state.error) return sendJson(res, 200, { name, done: true, error: state.error });
      return sendJson(res, 200, {
        name,
        done: true,
        response: {
          '@type': 'type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse',
          generateVideoResponse: { generatedSamples: [{ video: { uri: `${fake.origin}/v1beta/files/${op[2]}:download?alt=media` } }] },
        },
      });
    }

    const m = /^\/v1beta\/models\/([^/:]+):(predict|predictLongRunning|generateContent)$/.exec(req.path);
    if (req.method !== 'POST' || !m) return sendError(res, 404, 'NOT_FOUND', 'Requested entity was not found.');
    const [, model, method] = m as unknown as [string, string, string];
    const body = req.body ?? {};

    if (method === 'predict') {
      const e = scripted('predict');
      if (e) return sendError(res, e.status, e.statusName, e.message, e.details);
      if (!model.startsWith('imagen-')) return sendError(res, 400, 'INVALID_ARGUMENT', `models/${model} does not support predict.`);
      const prompt = body.instances?.[0]?.prompt;
      if (typeof prompt !== 'string' || !prompt) return sendError(res, 400, 'INVALID_ARGUMENT', 'Invalid value at \'instances[0].prompt\'.');
      const n = body.parameters?.sampleCount ?? 4;
      if (!Number.isInteger(n) || n < 1 || n > 4) return sendError(res, 400, 'INVALID_ARGUMENT', 'sampleCount must be between 1 and 4.');
      if (/blocked/i.test(prompt)) return sendJson(res, 200, {});
      return sendJson(res, 200, { predictions: Array.from({ length: n }, () => ({ mimeType: 'image/png', bytesBase64Encoded: TINY_PNG_B64 })) });
    }

    if (method === 'predictLongRunning') {
      const e = scripted('video-start');
      if (e) return sendError(res, e.status, e.statusName, e.message, e.details);
      if (!model.startsWith('veo-')) return sendError(res, 400, 'INVALID_ARGUMENT', `models/${model} does not support predictLongRunning.`);
      const inst = body.instances?.[0];
      if (typeof inst?.prompt !== 'string') return sendError(res, 400, 'INVALID_ARGUMENT', "Invalid value at 'instances[0].prompt'.");
      const d = body.parameters?.durationSeconds;
      if (d !== undefined && ![4, 6, 8].includes(d)) return sendError(res, 400, 'INVALID_ARGUMENT', `The number value for durationSeconds is out of bound. Please provide a value between 4 and 8, inclusive.`);
      if (inst.image && (typeof inst.image.bytesBase64Encoded !== 'string' || !inst.image.mimeType)) return sendError(res, 400, 'INVALID_ARGUMENT', 'image needs bytesBase64Encoded and mimeType.');
      const name = `models/${model}/operations/${randomBytes(6).toString('hex')}`;
      ops.set(name, { polls: fake.pollsUntilDone, model, error: fake.failNextVideo });
      fake.failNextVideo = undefined;
      return sendJson(res, 200, { name });
    }

    // generateContent on media models.
    const gc = body.generationConfig ?? {};
    const modalities: string[] = gc.responseModalities ?? ['TEXT'];
    const text = (body.contents ?? []).flatMap((c: any) => c.parts ?? []).map((p: any) => p.text ?? '').join(' ');
    if (/-tts$/.test(model)) {
      const e = scripted('tts');
      if (e) return sendError(res, e.status, e.statusName, e.message, e.details);
      if (!modalities.includes('AUDIO')) return sendError(res, 400, 'INVALID_ARGUMENT', 'The requested combination of response modalities (TEXT) is not supported by the model. models/' + model + ' accepts the following combination of response modalities:\n* AUDIO\n');
      const voice = gc.speechConfig?.voiceConfig?.prebuiltVoiceConfig?.voiceName;
      if (voice !== undefined && !GEMINI_TTS_VOICES.has(voice)) return sendError(res, 400, 'INVALID_ARGUMENT', `Voice name ${voice} is not supported. Allowed voice names are: ${[...GEMINI_TTS_VOICES].map((v) => v.toLowerCase()).join(', ')}`);
      return sendJson(res, 200, {
        candidates: [{ content: { parts: [{ inlineData: { mimeType: 'audio/L16;codec=pcm;rate=24000', data: fake.pcm.toString('base64') } }], role: 'model' }, finishReason: 'STOP', index: 0 }],
        usageMetadata: { promptTokenCount: 8, candidatesTokenCount: 40, totalTokenCount: 48, promptTokensDetails: [{ modality: 'TEXT', tokenCount: 8 }] },
        modelVersion: model,
        responseId: randomBytes(8).toString('hex'),
      });
    }
    if (/image/.test(model)) {
      const e = scripted('image');
      if (e) return sendError(res, e.status, e.statusName, e.message, e.details);
      if (!modalities.includes('IMAGE')) {
        return sendJson(res, 200, { candidates: [{ content: { parts: [{ text: 'I can only describe it.' }], role: 'model' }, finishReason: 'STOP', index: 0 }], modelVersion: model });
      }
      if (/blocked/i.test(text)) return sendJson(res, 200, { promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, modelVersion: model });
      return sendJson(res, 200, {
        candidates: [{ content: { parts: [{ text: 'Here is your image.' }, { inlineData: { mimeType: 'image/png', data: TINY_PNG_B64 } }], role: 'model' }, finishReason: 'STOP', index: 0 }],
        usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 1290, totalTokenCount: 1300 },
        modelVersion: model,
      });
    }
    return sendError(res, 404, 'NOT_FOUND', `models/${model} is not found for API version v1beta, or is not supported for generateContent.`);
  });

  const fake: FakeGeminiMedia = Object.assign(server, {
    endpoint: server.origin,
    apiKey,
    pollsUntilDone: 1,
    pcm: tone(1200),
    enqueue: (...e: ScriptedError[]) => void queue.push(...e),
    videoBytes,
    byPath: (re: RegExp) => server.requests.filter((r) => re.test(r.path)),
  });
  return fake;
}
