import OpenAI, { toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import { startFakeGeminiMedia, type FakeGeminiMedia } from '../fakes/gemini-capabilities-upstream.js';
import { TINY_PNG_B64 } from '../fakes/openai-capabilities.js';
import { useGateway } from '../helpers/fixture.js';

const sdk = () => gw.sdk('/api/gemini');

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
  fake: () => startFakeGeminiMedia(),
  config: (fake) => ({
    // A 1 ms poll interval: each GET refreshes the job upstream at once (no waiting in tests).
    aisbf: { capabilities: { video_poll_seconds: 0.001 } },
    providers: {
      gemini: {
        type: 'google',
        endpoint: fake.endpoint,
        api_key: fake.apiKey,
        models: [
          { name: 'imagen-4.0-generate-001', capabilities: ['image'] },
          { name: 'gemini-2.5-flash-image', capabilities: ['image'] },
          { name: 'gemini-2.5-flash-preview-tts', capabilities: ['speech'] },
          { name: 'veo-3.0-generate-001', capabilities: ['video'] },
        ],
      },
      badkey: { type: 'google', endpoint: fake.endpoint, api_key: 'AIzaSy-wrong', models: [] },
    },
  }),
});

describe('Imagen through /images/generations', () => {
  it('calls :predict with instances/parameters and answers b64_json images', async () => {
    const res = await sdk().images.generate({ model: 'imagen-4.0-generate-001', prompt: 'a red skateboard', n: 2, size: '1792x1024' });
    expect(res.data).toHaveLength(2);
    expect(res.data![0]!.b64_json).toBe(TINY_PNG_B64);
    const sent = gw.fake.byPath(/:predict$/).at(-1)!;
    expect(sent.path).toBe('/v1beta/models/imagen-4.0-generate-001:predict');
    expect(sent.headers['x-goog-api-key']).toBe(gw.fake.apiKey);
    expect(sent.body).toEqual({ instances: [{ prompt: 'a red skateboard' }], parameters: { sampleCount: 2, aspectRatio: '16:9' } });
  });

  it('answers a data: URI when response_format is url', async () => {
    const res = await sdk().images.generate({ model: 'imagen-4.0-generate-001', prompt: 'a cat', response_format: 'url' });
    expect(res.data![0]!.url).toBe(`data:image/png;base64,${TINY_PNG_B64}`);
  });

  it('turns a filtered prompt (no predictions) into a 400 naming the prompt', async () => {
    const err = await errorOf(sdk().images.generate({ model: 'imagen-4.0-generate-001', prompt: 'something blocked' }));
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/no image/);
  });

  it('maps a 429 RESOURCE_EXHAUSTED from :predict to 429 with Retry-After from RetryInfo', async () => {
    gw.fake.enqueue({ kind: 'predict', status: 429, statusName: 'RESOURCE_EXHAUSTED', message: 'Quota exceeded', details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '7s' }] });
    const err = await errorOf(sdk().images.generate({ model: 'imagen-4.0-generate-001', prompt: 'a dog' }));
    expect(err.status).toBe(429);
    expect(err.headers?.get('retry-after')).toBe('7');
  });

  it('reports a bad key as 502 without the key', async () => {
    const err = await errorOf(new OpenAI({ baseURL: `${gw.aisbf.url}/api/badkey`, apiKey: 'x', maxRetries: 0 }).images.generate({ model: 'imagen-4.0-generate-001', prompt: 'x' }));
    expect(err.status).toBe(502);
    expect(err.message).toMatch(/rejected the configured API key/);
    expect(err.message).not.toContain('AIzaSy-wrong');
  });
});

describe('Gemini image models through generateContent', () => {
  it('generates with responseModalities TEXT+IMAGE and an aspect ratio', async () => {
    const res = await sdk().images.generate({ model: 'gemini-2.5-flash-image', prompt: 'a lighthouse', size: '1024x1024' });
    expect(res.data![0]!.b64_json).toBe(TINY_PNG_B64);
    const sent = gw.fake.byPath(/gemini-2.5-flash-image:generateContent$/).at(-1)!;
    expect(sent.body.generationConfig).toEqual({ responseModalities: ['TEXT', 'IMAGE'], imageConfig: { aspectRatio: '1:1' } });
  });

  it('edits: the uploaded image travels as an inlineData part before the instruction', async () => {
    const png = Buffer.from(TINY_PNG_B64, 'base64');
    const res = await sdk().images.edit({ model: 'gemini-2.5-flash-image', prompt: 'make it blue', image: await toFile(png, 'in.png', { type: 'image/png' }) });
    expect(res.data![0]!.b64_json).toBe(TINY_PNG_B64);
    const sent = gw.fake.byPath(/gemini-2.5-flash-image:generateContent$/).at(-1)!;
    expect(sent.body.contents[0].parts).toEqual([{ inlineData: { mimeType: 'image/png', data: TINY_PNG_B64 } }, { text: 'make it blue' }]);
  });

  it('refuses Imagen edits (Vertex only) with a 400 before calling upstream', async () => {
    const before = gw.fake.requests.length;
    const png = Buffer.from(TINY_PNG_B64, 'base64');
    const err = await errorOf(sdk().images.edit({ model: 'imagen-4.0-generate-001', prompt: 'x', image: await toFile(png, 'in.png', { type: 'image/png' }) }));
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/Vertex/);
    expect(gw.fake.requests.length).toBe(before);
  });
});

describe('Gemini speech', () => {
  it('wraps the PCM answer into a 24 kHz mono 16-bit WAV and maps an OpenAI voice', async () => {
    const res = await sdk().audio.speech.create({ model: 'gemini-2.5-flash-preview-tts', voice: 'alloy', input: 'Hello there', response_format: 'wav' });
    expect(res.headers.get('content-type')).toBe('audio/wav');
    const wav = Buffer.from(await res.arrayBuffer());
    expect(wav.subarray(0, 4).toString('latin1')).toBe('RIFF');
    expect(wav.subarray(8, 12).toString('latin1')).toBe('WAVE');
    expect(wav.readUInt16LE(20)).toBe(1); // PCM
    expect(wav.readUInt16LE(22)).toBe(1); // mono
    expect(wav.readUInt32LE(24)).toBe(24000);
    expect(wav.readUInt16LE(34)).toBe(16);
    expect(wav.readUInt32LE(40)).toBe(gw.fake.pcm.length);
    expect(wav.subarray(44).equals(gw.fake.pcm)).toBe(true);
    const sent = gw.fake.byPath(/-tts:generateContent$/).at(-1)!;
    expect(sent.body.generationConfig).toEqual({ responseModalities: ['AUDIO'], speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Kore' } } } });
  });

  it('hands raw PCM on for pcm, and takes Gemini voice names in any case', async () => {
    const res = await sdk().audio.speech.create({ model: 'gemini-2.5-flash-preview-tts', voice: 'puck' as 'alloy', input: 'Hi', response_format: 'pcm' });
    expect(res.headers.get('content-type')).toBe('audio/pcm');
    expect(Buffer.from(await res.arrayBuffer()).equals(gw.fake.pcm)).toBe(true);
    expect(gw.fake.byPath(/-tts:generateContent$/).at(-1)!.body.generationConfig.speechConfig.voiceConfig.prebuiltVoiceConfig.voiceName).toBe('Puck');
  });

  it('refuses mp3 with a 400 naming the format, without calling upstream', async () => {
    const before = gw.fake.requests.length;
    const err = await errorOf(sdk().audio.speech.create({ model: 'gemini-2.5-flash-preview-tts', voice: 'alloy', input: 'Hi', response_format: 'mp3' }));
    expect(err.status).toBe(400);
    expect(err.message).toContain("'mp3'");
    expect(gw.fake.requests.length).toBe(before);
  });

  it('refuses an unknown voice with a 400 listing the voices', async () => {
    const err = await errorOf(sdk().audio.speech.create({ model: 'gemini-2.5-flash-preview-tts', voice: 'robot' as 'alloy', input: 'Hi', response_format: 'wav' }));
    expect(err.status).toBe(400);
    expect(err.message).toContain('Zephyr');
  });
});

describe('Veo video jobs', () => {
  it('starts a long-running operation, polls it to completion and streams the file through the redirect', async () => {
    gw.fake.pollsUntilDone = 1;
    const client = sdk();
    const job = await client.videos.create({ model: 'veo-3.0-generate-001' as 'sora-2', prompt: 'a drone shot over hills', seconds: '8' as '4', size: '1280x720' });
    expect(job.status).toBe('queued');
    expect(job.id).toMatch(/^video_[0-9a-f]{32}$/);
    const started = gw.fake.byPath(/:predictLongRunning$/).at(-1)!;
    expect(started.body).toEqual({ instances: [{ prompt: 'a drone shot over hills' }], parameters: { sampleCount: 1, durationSeconds: 8, aspectRatio: '16:9', resolution: '720p' } });

    let current = await client.videos.retrieve(job.id);
    for (let i = 0; i < 5 && current.status !== 'completed'; i++) current = await client.videos.retrieve(job.id);
    expect(current.status).toBe('completed');
    expect(current.progress).toBe(100);
    const content = await client.videos.downloadContent(job.id);
    const bytes = Buffer.from(await content.arrayBuffer());
    const upstreamId = (await gw.fake.byPath(/\/operations\//).at(-1)!).path.split('/').at(-1)!;
    expect(bytes.equals(gw.fake.videoBytes(upstreamId))).toBe(true);
    expect(content.headers.get('content-type')).toBe('video/mp4');
    const dl = gw.fake.byPath(/:download$/).at(-1)!;
    expect(dl.headers['x-goog-api-key']).toBe(gw.fake.apiKey);
    expect(dl.query.get('alt')).toBe('media');
  });

  it('sends an uploaded reference image as instances[0].image', async () => {
    const png = Buffer.from(TINY_PNG_B64, 'base64');
    await sdk().videos.create({ model: 'veo-3.0-generate-001' as 'sora-2', prompt: 'animate this', input_reference: await toFile(png, 'ref.png', { type: 'image/png' }) });
    const started = gw.fake.byPath(/:predictLongRunning$/).at(-1)!;
    expect(started.body.instances[0].image).toEqual({ bytesBase64Encoded: TINY_PNG_B64, mimeType: 'image/png' });
  });

  it('reports a finished operation with an error as a failed job', async () => {
    gw.fake.pollsUntilDone = 0;
    gw.fake.failNextVideo = { code: 3, message: 'The prompt could not be processed.' };
    const client = sdk();
    const job = await client.videos.create({ model: 'veo-3.0-generate-001' as 'sora-2', prompt: 'x' });
    let current = await client.videos.retrieve(job.id);
    for (let i = 0; i < 5 && current.status !== 'failed'; i++) current = await client.videos.retrieve(job.id);
    expect(current.status).toBe('failed');
    expect(current.error).toEqual({ code: '3', message: 'The prompt could not be processed.' });
  });

  it('refuses a size Veo does not make with a 400 naming size', async () => {
    const err = await errorOf(sdk().videos.create({ model: 'veo-3.0-generate-001' as 'sora-2', prompt: 'x', size: '1024x1792' }));
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/size '1024x1792'/);
  });

  it("relays Veo's own 400 for an out-of-range duration", async () => {
    const err = await errorOf(sdk().videos.create({ model: 'veo-3.0-generate-001' as 'sora-2', prompt: 'x', seconds: '12' }));
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/durationSeconds/);
  });
});
