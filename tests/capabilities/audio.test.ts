import OpenAI, { toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { errorOf } from './error-body.js';
import { useGateway } from '../helpers/fixture.js';

const audio = Buffer.from('RIFF....WAVEfmt fake audio bytes');

const sdk = (base: string) => gw.sdk(base);

const gw = useGateway({
  fake: async () => ({ a: await startFakeOpenAI(), b: await startFakeOpenAI() }),
  config: ({ a: fakeA, b: fakeB }) => ({
    aisbf: { server: { upload_limit_mb: 0.05 } },
    providers: {
      openai: {
        type: 'openai',
        endpoint: fakeA.baseURL,
        api_key: 'sk-test-a-123456',
        models: [{ name: 'gpt-4o-mini-tts', capabilities: ['speech'] }, { name: 'whisper-1', capabilities: ['transcription'] }, { name: 'gpt-4o-transcribe', capabilities: ['transcription'] }],
      },
      backup: { type: 'openai', endpoint: fakeB.baseURL, api_key: 'sk-test-b-123456', models: [{ name: 'tts-1', capabilities: ['speech'] }, { name: 'whisper-1', capabilities: ['transcription'] }] },
    },
    rotations: {
      voice: {
        strategy: 'priority',
        providers: [
          { provider_id: 'openai', models: [{ name: 'gpt-4o-mini-tts', weight: 10 }] },
          { provider_id: 'backup', models: [{ name: 'tts-1', weight: 1 }] },
        ],
      },
      stt: {
        strategy: 'priority',
        providers: [
          { provider_id: 'openai', models: [{ name: 'whisper-1', weight: 10 }] },
          { provider_id: 'backup', models: [{ name: 'whisper-1', weight: 1 }] },
        ],
      },
    },
  }),
});

describe('speech through the openai SDK', () => {
  const types: Record<string, string> = { mp3: 'audio/mpeg', opus: 'audio/opus', aac: 'audio/aac', flac: 'audio/flac', wav: 'audio/wav', pcm: 'audio/pcm' };
  for (const [format, type] of Object.entries(types)) {
    it(`answers ${format} bytes with content-type ${type}`, async () => {
      const res = await sdk('/api/openai').audio.speech.create({ model: 'gpt-4o-mini-tts', voice: 'alloy', input: 'Hello there', response_format: format as 'mp3' });
      expect(res.headers.get('content-type')).toBe(type);
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(bytes.toString('latin1')).toContain('|gpt-4o-mini-tts|alloy|Hello there');
      expect(res.headers.get('content-length')).toBe(String(bytes.length));
    });
  }

  it('defaults to mp3 via /v1 and passes instructions and speed upstream', async () => {
    const res = await sdk('/v1').audio.speech.create({ model: 'openai/gpt-4o-mini-tts', voice: 'nova', input: 'hi', instructions: 'cheerful', speed: 1.5 });
    expect(res.headers.get('content-type')).toBe('audio/mpeg');
    expect(Buffer.from(await res.arrayBuffer()).subarray(0, 3).toString()).toBe('ID3');
    expect(gw.fake.a.requests.at(-1)!.body).toMatchObject({ model: 'gpt-4o-mini-tts', voice: 'nova', instructions: 'cheerful', speed: 1.5 });
  });

  it('fails over to the second speech provider when the first returns 500', async () => {
    gw.fake.a.enqueueFor('audio/speech', { type: 'error', status: 500 });
    const res = await sdk('/api/rotations').audio.speech.create({ model: 'voice', voice: 'alloy', input: 'fallback please', response_format: 'wav' });
    expect(res.headers.get('x-aisbf-provider')).toBe('backup');
    expect(res.headers.get('x-aisbf-attempts')).toBe('2');
    expect(Buffer.from(await res.arrayBuffer()).toString('latin1')).toContain('|tts-1|alloy|fallback please');
  });

  it('400 names an unsupported response_format, a missing voice and a too-long input', async () => {
    const post = (body: unknown) => fetch(`${gw.aisbf.url}/v1/audio/speech`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    let res = await post({ model: 'openai/tts-1', voice: 'alloy', input: 'x', response_format: 'ogg' });
    expect(res.status).toBe(400);
    let e = (await errorOf(res));
    expect(e.param).toBe('response_format');
    expect(e.message).toContain('"ogg"');
    res = await post({ model: 'openai/tts-1', input: 'x' });
    expect((await errorOf(res))).toMatchObject({ param: 'voice', code: 'missing_required_parameter' });
    res = await post({ model: 'openai/tts-1', voice: 'alloy', input: 'x'.repeat(4097) });
    e = (await errorOf(res));
    expect(e.param).toBe('input');
  });
});

describe('transcriptions through the openai SDK', () => {
  const file = () => toFile(audio, 'speech.wav', { type: 'audio/wav' });

  it('json (the default): text only, with the file and model sent upstream as verbose_json', async () => {
    const r = await sdk('/api/openai').audio.transcriptions.create({ model: 'whisper-1', file: await file() });
    expect(r.text).toBe('Hello from the fake. This is the second sentence.');
    expect((r as unknown as Record<string, unknown>).segments).toBeUndefined();
    const sent = gw.fake.a.requests.at(-1)!;
    expect(sent.body.fields.response_format).toEqual(['verbose_json']);
    expect(sent.body.files.file[0]).toMatchObject({ filename: 'speech.wav', size: audio.length });
  });

  it('verbose_json: segments, language and duration', async () => {
    const r = await sdk('/v1').audio.transcriptions.create({ model: 'openai/whisper-1', file: await file(), response_format: 'verbose_json' });
    expect(r.language).toBe('english');
    expect(r.duration).toBeGreaterThan(0);
    expect(r.segments).toHaveLength(2);
    expect(r.segments![1]!.text.trim()).toBe('This is the second sentence.');
  });

  it('text: the transcript as plain text', async () => {
    const r = await sdk('/api/openai').audio.transcriptions.create({ model: 'whisper-1', file: await file(), response_format: 'text' });
    expect(String(r).trim()).toBe('Hello from the fake. This is the second sentence.');
  });

  it('srt and vtt: one cue per segment', async () => {
    const srt = String(await sdk('/api/openai').audio.transcriptions.create({ model: 'whisper-1', file: await file(), response_format: 'srt' }));
    expect(srt).toMatch(/^1\n00:00:00,000 --> 00:00:0\d,\d{3}\nHello from the fake\.\n\n2\n/);
    const vtt = String(await sdk('/api/openai').audio.transcriptions.create({ model: 'whisper-1', file: await file(), response_format: 'vtt' }));
    expect(vtt).toMatch(/^WEBVTT\n\n00:00:00\.000 --> 00:00:0\d\.\d{3}\nHello from the fake\.\n\n/);
    expect(vtt).toContain('This is the second sentence.');
  });

  it('a json-only model (gpt-4o-transcribe) is asked for json and still renders srt', async () => {
    const srt = String(await sdk('/api/openai').audio.transcriptions.create({ model: 'gpt-4o-transcribe', file: await file(), response_format: 'srt' }));
    expect(gw.fake.a.requests.at(-1)!.body.fields.response_format).toEqual(['json']);
    // No segments and no duration: one cue, its length estimated from the text (49 chars at 15/s).
    expect(srt).toBe('1\n00:00:00,000 --> 00:00:03,300\nHello from the fake. This is the second sentence.\n\n');
  });

  it('asks a compatible server that rejects verbose_json again for json', async () => {
    const before = gw.fake.a.requests.length;
    const r = await sdk('/api/openai').audio.transcriptions.create({ model: 'acme-transcribe', file: await file(), response_format: 'verbose_json' });
    expect(r.text).toContain('Hello');
    expect(gw.fake.a.requests.slice(before).map((x) => x.body.fields.response_format[0])).toEqual(['verbose_json', 'json']);
  });

  it('fails over between transcription providers through a rotation', async () => {
    gw.fake.a.enqueueFor('audio/transcriptions', { type: 'error', status: 502 });
    const { data, response } = await sdk('/api/rotations').audio.transcriptions.create({ model: 'stt', file: await file(), language: 'en' }).withResponse();
    expect(data.text).toContain('Hello');
    expect(response.headers.get('x-aisbf-provider')).toBe('backup');
    expect(gw.fake.b.requests.at(-1)!.body.fields.language).toEqual(['en']);
  });

  it('400 for an unsupported response_format, an unsupported audio type and a missing file; 413 over the upload limit', async () => {
    const form = (parts: Record<string, string | File>) => {
      const f = new FormData();
      for (const [k, v] of Object.entries(parts)) f.append(k, v);
      return f;
    };
    const post = (f: FormData) => fetch(`${gw.aisbf.url}/v1/audio/transcriptions`, { method: 'POST', body: f });
    let res = await post(form({ model: 'openai/whisper-1', file: new File([audio], 'a.wav', { type: 'audio/wav' }), response_format: 'diarized_json' }));
    expect(res.status).toBe(400);
    let e = (await errorOf(res));
    expect(e.param).toBe('response_format');
    expect(e.message).toContain("'diarized_json'");
    res = await post(form({ model: 'openai/whisper-1', file: new File(['%PDF'], 'doc.pdf', { type: 'application/pdf' }) }));
    e = (await errorOf(res));
    expect(res.status).toBe(400);
    expect(e.param).toBe('file');
    expect(e.message).toContain("'application/pdf'");
    res = await post(form({ model: 'openai/whisper-1' }));
    expect((await errorOf(res))).toMatchObject({ param: 'file', code: 'missing_required_parameter' });
    const err = await sdk('/api/openai').audio.transcriptions.create({ model: 'whisper-1', file: await toFile(Buffer.alloc(80 * 1024), 'long.wav', { type: 'audio/wav' }) }).catch((x) => x);
    expect(err.status).toBe(413);
  });
});
