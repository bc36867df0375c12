import { request as httpRequest } from 'node:http';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_FLAC, FAKE_MP4, TINY_JPEG, fakeVector, startFakeHfTasks, type FakeHfTasks } from '../fakes/huggingface-tasks-upstream.js';
import { startFakeGeminiMedia, type FakeGeminiMedia } from '../fakes/gemini-capabilities-upstream.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { TINY_PNG_B64 } from '../fakes/openai-capabilities.js';
import { startAisbf, type TestServer } from '../helpers/aisbf-server.js';

let hfA: FakeHfTasks;
let hfB: FakeHfTasks;
let gemini: FakeGeminiMedia;
let openai: FakeOpenAI;
let aisbf: TestServer;

const TASKS = {
  'stabilityai/stable-diffusion-xl-base-1.0': 'text-to-image',
  'black-forest-labs/FLUX.1-schnell': 'text-to-image-jpeg',
  'timbrooks/instruct-pix2pix': 'image-to-image',
  'facebook/mms-tts-eng': 'text-to-speech',
  'openai/whisper-large-v3': 'asr',
  'sentence-transformers/all-MiniLM-L6-v2': 'feature-extraction',
  'ali-vilab/text-to-video-ms-1.7b': 'text-to-video',
  'stabilityai/stable-video-diffusion-img2vid-xt': 'image-to-video',
} as const;

const PNG = Buffer.from(TINY_PNG_B64, 'base64');
/** A PNG whose base64 is over the app's 100-character minimum (the tiny one plus trailing bytes). */
const PNG_LONG_B64 = Buffer.concat([PNG, Buffer.alloc(40)]).toString('base64');

function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${aisbf.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

function postForm(path: string, fields: Record<string, string | Blob>) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v as string);
  return fetch(`${aisbf.url}${path}`, { method: 'POST', body: form });
}

/** Sends only the head of a request declaring `length` bytes, and reads the answer (no giant buffers). */
function declareOnly(path: string, length: number, contentType: string): Promise<{ status: number; body: any }> {
  const u = new URL(`${aisbf.url}${path}`);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': contentType, 'content-length': String(length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      });
    });
    req.on('error', reject);
    req.flushHeaders();
  });
}

beforeAll(async () => {
  hfA = await startFakeHfTasks({ tasks: { ...TASKS } });
  hfB = await startFakeHfTasks({ tasks: { ...TASKS } });
  gemini = await startFakeGeminiMedia();
  openai = await startFakeOpenAI();
  aisbf = await startAisbf({
    aisbf: {
      capabilities: { video_poll_seconds: 0.01 },
      platform: {
        image: 'huggingface/stabilityai/stable-diffusion-xl-base-1.0',
        edit_image: 'huggingface/timbrooks/instruct-pix2pix',
        llm: 'openai/gpt-4o-mini',
        tts: 'huggingface/facebook/mms-tts-eng',
        stt: 'huggingface/openai/whisper-large-v3',
        embedding: 'huggingface/sentence-transformers/all-MiniLM-L6-v2',
        video: 'huggingface/ali-vilab/text-to-video-ms-1.7b',
        image_to_video: 'huggingface/stabilityai/stable-video-diffusion-img2vid-xt',
      },
    },
    providers: {
      huggingface: { type: 'huggingface', endpoint: hfA.baseURL, api_key: hfA.token, models: [] },
      hfbackup: { type: 'huggingface', endpoint: hfB.baseURL, api_key: hfB.token, models: [] },
      gemini: { type: 'google', endpoint: gemini.endpoint, api_key: gemini.apiKey, models: [] },
      // A provider named like a compat route: its OpenAI routes must still work.
      image: { type: 'openai', endpoint: openai.baseURL, api_key: 'sk-test-image-1234', models: [{ name: 'gpt-4o-mini' }] },
      openai: { type: 'openai', endpoint: openai.baseURL, api_key: 'sk-test-openai-1234', models: [{ name: 'gpt-4o-mini' }] },
    },
    rotations: {
      sdxl: {
        strategy: 'priority',
        providers: [
          { provider_id: 'huggingface', models: [{ name: 'stabilityai/stable-diffusion-xl-base-1.0', weight: 10 }] },
          { provider_id: 'hfbackup', models: [{ name: 'stabilityai/stable-diffusion-xl-base-1.0', weight: 1 }] },
        ],
      },
    },
  });
});
afterAll(async () => {
  await aisbf.close();
  await Promise.all([hfA.close(), hfB.close(), gemini.close(), openai.close()]);
});

describe('POST /api/image', () => {
  it('answers PNG bytes as an attachment, with the app’s defaults sent as HF parameters', async () => {
    const res = await post('/api/image', { prompt: 'a fox in snow', negative_prompt: 'blurry' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename=generated_image.png');
    expect(Buffer.from(await res.arrayBuffer()).equals(PNG)).toBe(true);
    expect(hfA.taskRequests().at(-1)!.body).toEqual({
      inputs: 'a fox in snow',
      parameters: { width: 512, height: 512, negative_prompt: 'blurry', num_inference_steps: 50, guidance_scale: 7.5 },
    });
  });

  it('takes a bare Hugging Face model id (the app’s model field) and labels a JPEG truthfully', async () => {
    const res = await post('/api/image', { prompt: 'a fox', model: 'black-forest-labs/FLUX.1-schnell', width: 768, height: 1024 });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename=generated_image.jpg');
    expect(Buffer.from(await res.arrayBuffer()).equals(TINY_JPEG)).toBe(true);
    expect(hfA.taskRequests().at(-1)!.path).toBe('/hf-inference/models/black-forest-labs/FLUX.1-schnell');
  });

  it('answers FastAPI’s 422 for a missing prompt and an out-of-range width', async () => {
    const res = await post('/api/image', { width: 2000 });
    expect(res.status).toBe(422);
    const body = (await res.json()) as any;
    expect(body.detail).toEqual(
      expect.arrayContaining([
        { type: 'missing', loc: ['body', 'prompt'], msg: 'Field required', input: null },
        { type: 'less_than_equal', loc: ['body', 'width'], msg: 'Input should be less than or equal to 1024', input: 2000, ctx: { le: 1024 } },
      ]),
    );
  });

  it('answers 422 json_invalid for a body that is not JSON', async () => {
    const res = await fetch(`${aisbf.url}/api/image`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' });
    expect(res.status).toBe(422);
    expect(((await res.json()) as any).detail[0].type).toBe('json_invalid');
  });

  it('a rotation as model fails over from a provider answering 500', async () => {
    hfA.enqueue({ status: 500, body: { error: 'CUDA out of memory' } });
    const before = hfB.taskRequests().length;
    const res = await post('/api/image', { prompt: 'a fox', model: 'sdxl' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-aisbf-provider')).toBe('hfbackup');
    expect(hfB.taskRequests().length).toBe(before + 1);
  });

  it('does not retry a 4xx: the upstream’s 400 comes back as {"detail"} and the backup is never called', async () => {
    hfA.enqueue({ status: 400, body: { error: 'height must be a multiple of 8' } });
    const before = hfB.taskRequests().length;
    const res = await post('/api/image', { prompt: 'a fox', model: 'sdxl' });
    expect(res.status).toBe(400);
    expect((await res.json()) as any).toEqual({ detail: 'height must be a multiple of 8' });
    expect(hfB.taskRequests().length).toBe(before);
  });

  it('an unknown model of the default provider is a 404 {"detail"}', async () => {
    const res = await post('/api/image', { prompt: 'x', model: 'nobody/nothing' });
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).detail).toMatch(/does not exist/);
  });

  it('a loading model is a 500 {"detail"} naming the provider’s failure', async () => {
    hfA.enqueue({ loading: 30 });
    const res = await post('/api/image', { prompt: 'x' });
    expect(res.status).toBe(500);
    expect(((await res.json()) as any).detail).toMatch(/currently loading/);
  });

  it('reaches Imagen when the model is gemini/imagen-…', async () => {
    const res = await post('/api/image', { prompt: 'x', model: 'gemini/imagen-4.0-generate-001' });
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(PNG)).toBe(true);
    expect(gemini.byPath(/:predict$/).at(-1)!.body.parameters).toEqual({ sampleCount: 1, aspectRatio: '1:1' });
  });
});

describe('POST /api/edit-image', () => {
  it('JSON: a data-URI image and strength go to image-to-image; answers edited_image.png', async () => {
    const res = await post('/api/edit-image', { image: `data:image/png;base64,${PNG_LONG_B64}`, prompt: 'make it winter', strength: 0.5 });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename=edited_image.png');
    const sent = hfA.taskRequests().at(-1)!;
    expect(sent.path).toBe('/hf-inference/models/timbrooks/instruct-pix2pix');
    expect(sent.body).toEqual({ inputs: PNG_LONG_B64, parameters: { prompt: 'make it winter', strength: 0.5, num_inference_steps: 50 } });
  });

  it('multipart: the image as a file', async () => {
    const res = await postForm('/api/edit-image', { image: new Blob([PNG], { type: 'image/png' }), prompt: 'make it winter', num_inference_steps: '20' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(hfA.taskRequests().at(-1)!.body).toEqual({ inputs: TINY_PNG_B64, parameters: { prompt: 'make it winter', strength: 0.75, num_inference_steps: 20 } });
  });

  it('an image string under 100 characters is a 422 string_too_short', async () => {
    const res = await post('/api/edit-image', { image: 'abc', prompt: 'x' });
    expect(res.status).toBe(422);
    expect(((await res.json()) as any).detail[0]).toMatchObject({ type: 'string_too_short', loc: ['body', 'image'], ctx: { min_length: 100 } });
  });

  it('base64 that is not an image is a 400 {"detail"}', async () => {
    const res = await post('/api/edit-image', { image: Buffer.alloc(120, 7).toString('base64'), prompt: 'x' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).detail).toMatch(/Invalid image/);
  });
});

describe('POST /api/llm', () => {
  it('answers {response, model, tokens_used, stop_reason} with the app’s defaults sent upstream', async () => {
    const res = await post('/api/llm', { messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hi' }] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(Object.keys(body).sort()).toEqual(['model', 'response', 'stop_reason', 'tokens_used']);
    expect(body.model).toBe('gpt-4o-mini');
    expect(body.response).toContain('Say hi');
    expect(body.stop_reason).toBe('stop');
    expect(typeof body.tokens_used).toBe('number');
    const sent = openai.chatRequests().at(-1)!.body;
    expect(sent).toMatchObject({ model: 'gpt-4o-mini', max_tokens: 256, temperature: 0.7, top_p: 0.9 });
    expect(sent.top_k).toBeUndefined();
  });

  it('an empty messages list and a bad role are 422', async () => {
    const res = await post('/api/llm', { messages: [] });
    expect(res.status).toBe(422);
    expect(((await res.json()) as any).detail[0]).toMatchObject({ type: 'too_short', loc: ['body', 'messages'] });
    const res2 = await post('/api/llm', { messages: [{ role: 'robot', content: 'x' }] });
    expect(res2.status).toBe(422);
    expect(((await res2.json()) as any).detail[0]).toMatchObject({ type: 'literal_error', loc: ['body', 'messages', 0, 'role'] });
  });
});

describe('POST /api/tts', () => {
  it('Gemini TTS: audio/wav bytes as speech.wav', async () => {
    const res = await post('/api/tts', { text: 'Hello world', model: 'gemini/gemini-2.5-flash-preview-tts' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('audio/wav');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename=speech.wav');
    const wav = Buffer.from(await res.arrayBuffer());
    expect(wav.subarray(0, 4).toString('latin1')).toBe('RIFF');
    expect(wav.subarray(44).equals(gemini.pcm)).toBe(true);
  });

  it('a Hugging Face model answering FLAC is labelled audio/flac', async () => {
    const res = await post('/api/tts', { text: 'Hello' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('audio/flac');
    expect(Buffer.from(await res.arrayBuffer()).equals(FAKE_FLAC)).toBe(true);
  });

  it('text over 5000 characters is a 422 string_too_long', async () => {
    const res = await post('/api/tts', { text: 'a'.repeat(5001) });
    expect(res.status).toBe(422);
    expect(((await res.json()) as any).detail[0]).toMatchObject({ type: 'string_too_long', loc: ['body', 'text'] });
  });
});

describe('POST /api/stt', () => {
  it('answers {text, language, confidence, model}', async () => {
    const audio = Buffer.from('RIFF0000WAVEfmt sample');
    const res = await postForm('/api/stt', { audio: new Blob([audio], { type: 'audio/wav' }), language: 'en' });
    expect(res.status).toBe(200);
    expect((await res.json()) as any).toEqual({ text: `heard ${audio.length} bytes`, language: 'en', confidence: null, model: 'openai/whisper-large-v3' });
    expect(hfA.taskRequests().at(-1)!.rawBody.equals(audio)).toBe(true);
  });

  it('a missing audio field is a 422', async () => {
    const res = await postForm('/api/stt', { language: 'en' });
    expect(res.status).toBe(422);
    expect(((await res.json()) as any).detail[0]).toMatchObject({ type: 'missing', loc: ['body', 'audio'] });
  });

  it('more than 50 MiB is a 413 {"detail"}, refused before the body is read', async () => {
    const res = await declareOnly('/api/stt', 50 * 1024 * 1024 + 1, 'multipart/form-data; boundary=x');
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ detail: 'File too large. Maximum size is 50MB' });
  });
});

describe('POST /api/embedding', () => {
  it('answers {embedding, dimension, model, tokens_used: null}', async () => {
    const res = await post('/api/embedding', { text: 'hello' });
    expect(res.status).toBe(200);
    expect((await res.json()) as any).toEqual({ embedding: fakeVector('hello'), dimension: 6, model: 'sentence-transformers/all-MiniLM-L6-v2', tokens_used: null });
  });
});

describe('video routes', () => {
  it('text-to-video: video/mp4 with X-Video-Model and X-Generation-Time', async () => {
    const res = await post('/api/video/text-to-video', { prompt: 'ocean waves', duration: 2, fps: 8 });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="video.mp4"');
    expect(res.headers.get('x-video-model')).toBe('ali-vilab/text-to-video-ms-1.7b');
    expect(res.headers.get('x-generation-time')).toMatch(/^\d+\.\d{2}$/);
    expect(Buffer.from(await res.arrayBuffer()).equals(FAKE_MP4)).toBe(true);
    expect(hfA.taskRequests().at(-1)!.body).toEqual({ inputs: 'ocean waves', parameters: { num_inference_steps: 50, num_frames: 16 } });
  });

  it('text-to-video on Veo waits for the operation and streams the file', async () => {
    gemini.pollsUntilDone = 2;
    const res = await post('/api/video/text-to-video', { prompt: 'a drone shot', model: 'gemini/veo-3.0-generate-001' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-video-model')).toBe('veo-3.0-generate-001');
    const opId = gemini.byPath(/\/operations\//).at(-1)!.path.split('/').at(-1)!;
    expect(Buffer.from(await res.arrayBuffer()).equals(gemini.videoBytes(opId))).toBe(true);
    // The app's default duration (6 s); fps and steps are not Veo parameters on the Gemini API.
    expect(gemini.byPath(/:predictLongRunning$/).at(-1)!.body.parameters).toEqual({ sampleCount: 1, durationSeconds: 6 });
  });

  it('image-to-video: multipart image as base64 inputs, the prompt in parameters', async () => {
    const res = await postForm('/api/video/image-to-video', { image: new Blob([PNG], { type: 'image/png' }), prompt: 'make it move', duration: '3', fps: '10' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    const sent = hfA.taskRequests().at(-1)!;
    expect(sent.path).toBe('/hf-inference/models/stabilityai/stable-video-diffusion-img2vid-xt');
    expect(sent.body).toEqual({ inputs: TINY_PNG_B64, parameters: { prompt: 'make it move', num_inference_steps: 50, num_frames: 30 } });
  });

  it('an image over 10 MiB is a 413 in the video error shape', async () => {
    const res = await postForm('/api/video/image-to-video', { image: new Blob([Buffer.concat([PNG, Buffer.alloc(10 * 1024 * 1024)])], { type: 'image/png' }) });
    expect(res.status).toBe(413);
    const body = (await res.json()) as any;
    expect(body.detail).toMatchObject({ error: 'file_size_error', message: 'File too large. Maximum size is 10MB' });
  });

  it('an upstream 429 is rate_limit_error with details.retry_after', async () => {
    hfA.enqueue({ status: 429, body: { error: 'Rate limit reached' }, headers: { 'retry-after': '12' } });
    const res = await post('/api/video/text-to-video', { prompt: 'x' });
    expect(res.status).toBe(429);
    expect((await res.json()) as any).toEqual({ detail: { error: 'rate_limit_error', message: expect.stringMatching(/Rate limit reached/), details: { provider: 'huggingface', model: 'ali-vilab/text-to-video-ms-1.7b', retry_after: 12 } } });
  });

  it('a key the client brought (x-aisbf-provider-key) that the upstream rejects is a 401 authentication_error naming that header', async () => {
    const res = await post('/api/video/text-to-video', { prompt: 'x' }, { 'x-aisbf-provider-key': 'hf_wrong_client_key' });
    expect(res.status).toBe(401);
    const body = (await res.json()) as any;
    expect(body.detail.error).toBe('authentication_error');
    expect(body.detail.message).toContain('x-aisbf-provider-key');
    expect(body.detail.message).not.toContain('forward_client_key');
    expect(JSON.stringify(body)).not.toContain('hf_wrong_client_key');
    const img = await post('/api/image', { prompt: 'x' }, { 'x-aisbf-provider-key': 'hf_wrong_client_key' });
    expect(img.status).toBe(401);
    expect(((await img.json()) as any).detail).toContain('rejected the API key the client sent');
  });

  it('an upstream 500 is 502 huggingface_api_error', async () => {
    hfA.enqueue({ status: 500, body: { error: 'boom' } });
    const res = await post('/api/video/text-to-video', { prompt: 'x' });
    expect(res.status).toBe(502);
    expect(((await res.json()) as any).detail.error).toBe('huggingface_api_error');
  });

  it('validation on video routes is FastAPI’s 422 too', async () => {
    const res = await post('/api/video/text-to-video', { prompt: 'x', fps: 61 });
    expect(res.status).toBe(422);
    expect(((await res.json()) as any).detail[0]).toMatchObject({ type: 'less_than_equal', loc: ['body', 'fps'] });
  });
});

describe('route order against AISBF’s /api/{id}', () => {
  it('a provider named "image" still serves /api/image/chat/completions and /api/image/models', async () => {
    const client = new OpenAI({ baseURL: `${aisbf.url}/api/image`, apiKey: 'x', maxRetries: 0 });
    const res = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'ping' }] });
    expect(res.choices[0]!.message.content).toContain('ping');
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toContain('gpt-4o-mini');
  });

  it('a bare POST to another /api/{id} still gets AISBF’s 404 helper', async () => {
    const res = await post('/api/openai', {});
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.code).toBe('unknown_url');
  });
});
