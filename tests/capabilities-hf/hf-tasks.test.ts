import OpenAI, { toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import { FAKE_FLAC, FAKE_MP4, TINY_JPEG, fakeVector, startFakeHfTasks, type FakeHfTasks } from '../fakes/huggingface-tasks-upstream.js';
import { TINY_PNG_B64 } from '../fakes/openai-capabilities.js';
import { startAisbf } from '../helpers/aisbf-server.js';
import { useGateway } from '../helpers/fixture.js';

const sdk = () => gw.sdk('/api/huggingface');

async function errorOf(p: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await p;
  } catch (err) {
    if (err instanceof OpenAI.APIError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

const gw = useGateway({
  fake: () => startFakeHfTasks({
    tasks: {
      'sentence-transformers/all-MiniLM-L6-v2': 'feature-extraction',
      'bert-base/uncased': 'feature-extraction-unpooled',
      'stabilityai/stable-diffusion-xl-base-1.0': 'text-to-image',
      'black-forest-labs/FLUX.1-schnell': 'text-to-image-jpeg',
      'timbrooks/instruct-pix2pix': 'image-to-image',
      'facebook/mms-tts-eng': 'text-to-speech',
      'openai/whisper-large-v3': 'asr',
      'ali-vilab/text-to-video-ms-1.7b': 'text-to-video',
    },
  }),
  config: (fake) => ({
    providers: { huggingface: { type: 'huggingface', endpoint: fake.baseURL, api_key: fake.token, models: [] } },
  }),
});

describe('feature-extraction as embeddings', () => {
  it('posts {inputs: [...]} to …/pipeline/feature-extraction and answers one vector per input', async () => {
    const res = await sdk().embeddings.create({ model: 'sentence-transformers/all-MiniLM-L6-v2', input: ['one', 'three'], encoding_format: 'float' });
    expect(res.data.map((d) => d.embedding)).toEqual([fakeVector('one'), fakeVector('three')]);
    expect(res.usage.prompt_tokens).toBeGreaterThan(0);
    const sent = gw.fake.taskRequests().at(-1)!;
    expect(sent.path).toBe('/hf-inference/models/sentence-transformers/all-MiniLM-L6-v2/pipeline/feature-extraction');
    expect(sent.headers.authorization).toBe(`Bearer ${gw.fake.token}`);
    expect(sent.body).toEqual({ inputs: ['one', 'three'] });
  });

  it('mean-pools token vectors from a model without a pooling head', async () => {
    const res = await sdk().embeddings.create({ model: 'bert-base/uncased', input: 'hi', encoding_format: 'float' });
    const a = fakeVector('hi');
    const b = fakeVector('hi!');
    const got = res.data[0]!.embedding as number[];
    expect(got.map((v) => Math.round(v * 1e6))).toEqual(a.map((v, i) => Math.round(((v + b[i]!) / 2) * 1e6)));
  });

  it('refuses dimensions with a 400 naming it', async () => {
    const err = await errorOf(sdk().embeddings.create({ model: 'sentence-transformers/all-MiniLM-L6-v2', input: 'x', dimensions: 3 }));
    expect(err.status).toBe(400);
    expect(err.param).toBe('dimensions');
  });
});

describe('text-to-image and image-to-image', () => {
  it('sends {inputs, parameters: {width, height}} and answers the bytes as b64_json', async () => {
    const res = await sdk().images.generate({ model: 'stabilityai/stable-diffusion-xl-base-1.0', prompt: 'a fox', size: '1024x768' as '1024x1024' });
    expect(res.data![0]!.b64_json).toBe(TINY_PNG_B64);
    expect(gw.fake.taskRequests().at(-1)!.body).toEqual({ inputs: 'a fox', parameters: { width: 1024, height: 768 } });
  });

  it('keeps a JPEG as it came (type in the data: URI for url)', async () => {
    const res = await sdk().images.generate({ model: 'black-forest-labs/FLUX.1-schnell', prompt: 'a fox', response_format: 'url' });
    expect(res.data![0]!.url).toBe(`data:image/jpeg;base64,${TINY_JPEG.toString('base64')}`);
  });

  it('edits: base64 image in inputs, the prompt in parameters', async () => {
    const png = Buffer.from(TINY_PNG_B64, 'base64');
    const res = await sdk().images.edit({ model: 'timbrooks/instruct-pix2pix', prompt: 'turn it into winter', image: await toFile(png, 'a.png', { type: 'image/png' }) });
    expect(res.data![0]!.b64_json).toBe(TINY_PNG_B64);
    expect(gw.fake.taskRequests().at(-1)!.body).toEqual({ inputs: TINY_PNG_B64, parameters: { prompt: 'turn it into winter' } });
  });
});

describe('speech and transcription', () => {
  it('text-to-speech answers the model’s audio with its real content type', async () => {
    const res = await sdk().audio.speech.create({ model: 'facebook/mms-tts-eng', voice: 'alloy', input: 'Hello' });
    expect(res.headers.get('content-type')).toBe('audio/flac');
    expect(Buffer.from(await res.arrayBuffer()).equals(FAKE_FLAC)).toBe(true);
    expect(gw.fake.taskRequests().at(-1)!.body).toEqual({ inputs: 'Hello' });
  });

  it('ASR posts the raw audio with its content type; chunks become segments', async () => {
    const audio = Buffer.from('RIFF0000WAVEfmt some audio');
    const res = await sdk().audio.transcriptions.create({ model: 'openai/whisper-large-v3', file: await toFile(audio, 'a.wav', { type: 'audio/wav' }), response_format: 'verbose_json' });
    expect(res.text).toBe(`heard ${audio.length} bytes`);
    const segs = (res as unknown as { segments: Array<{ start: number; end: number; text: string }> }).segments;
    expect(segs.map((s) => [s.start, s.end])).toEqual([[0, 0.5], [0.5, 1.25]]);
    const sent = gw.fake.taskRequests().at(-1)!;
    expect(sent.headers['content-type']).toBe('audio/wav');
    expect(sent.rawBody.equals(audio)).toBe(true);
  });
});

describe('text-to-video', () => {
  it('a finished job at once; content served from the stored bytes without a second call', async () => {
    const client = sdk();
    const job = await client.videos.create({ model: 'ali-vilab/text-to-video-ms-1.7b' as 'sora-2', prompt: 'waves' });
    expect(job.status).toBe('completed');
    const calls = gw.fake.taskRequests().length;
    const content = await client.videos.downloadContent(job.id);
    expect(content.headers.get('content-type')).toBe('video/mp4');
    expect(Buffer.from(await content.arrayBuffer()).equals(FAKE_MP4)).toBe(true);
    expect(gw.fake.taskRequests().length).toBe(calls);
    expect(gw.fake.taskRequests().at(-1)!.body).toEqual({ inputs: 'waves', parameters: {} });
  });
});

describe('errors in HF shapes', () => {
  it('a loading model (503 + estimated_time) is a 503 with Retry-After', async () => {
    gw.fake.enqueue({ loading: 21.4 });
    const err = await errorOf(sdk().images.generate({ model: 'stabilityai/stable-diffusion-xl-base-1.0', prompt: 'x' }));
    expect(err.status).toBe(503);
    expect(err.headers?.get('retry-after')).toBe('22');
    expect(err.message).toMatch(/currently loading/);
  });

  it('429 {"error"} is a 429', async () => {
    gw.fake.enqueue({ status: 429, body: { error: 'Rate limit reached. You reached free usage limit (reset hourly).' } });
    const err = await errorOf(sdk().images.generate({ model: 'stabilityai/stable-diffusion-xl-base-1.0', prompt: 'x' }));
    expect(err.status).toBe(429);
    expect(err.message).toMatch(/Rate limit reached/);
  });

  it('an unknown model is a 404', async () => {
    const err = await errorOf(sdk().images.generate({ model: 'nobody/nothing', prompt: 'x' }));
    expect(err.status).toBe(404);
    expect(err.message).toMatch(/does not exist/);
  });

  it('a rejected token is a 502 naming the provider, never the token', async () => {
    const other = await startAisbf({ providers: { huggingface: { type: 'huggingface', endpoint: gw.fake.baseURL, api_key: 'hf_wrongtoken123', models: [] } } });
    try {
      const err = await errorOf(new OpenAI({ baseURL: `${other.url}/api/huggingface`, apiKey: 'x', maxRetries: 0 }).images.generate({ model: 'stabilityai/stable-diffusion-xl-base-1.0', prompt: 'x' }));
      expect(err.status).toBe(502);
      expect(err.message).toMatch(/huggingface/);
      expect(err.message).not.toContain('hf_wrongtoken123');
    } finally {
      await other.close();
    }
  });

  it('refuses a model id that could escape the URL path, without calling upstream', async () => {
    const before = gw.fake.requests.length;
    const err = await errorOf(sdk().images.generate({ model: '../../v1/chat', prompt: 'x' }));
    expect(err.status).toBe(404);
    expect(gw.fake.requests.length).toBe(before);
  });
});
