import OpenAI, { toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import { TINY_PNG_B64 } from '../fakes/openai-capabilities.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { errorOf } from './error-body.js';
import { useGateway } from '../helpers/fixture.js';

const png = Buffer.from(TINY_PNG_B64, 'base64');

const sdk = (base: string) => gw.sdk(base);

const gw = useGateway({
  fake: async () => ({ a: await startFakeOpenAI(), b: await startFakeOpenAI() }),
  config: ({ a: fakeA, b: fakeB }) => ({
    aisbf: { server: { upload_limit_mb: 0.05 } },
    providers: {
      openai: { type: 'openai', endpoint: fakeA.baseURL, api_key: 'sk-test-a-123456', models: [{ name: 'gpt-image-1', capabilities: ['image'] }, { name: 'dall-e-3', capabilities: ['image'] }] },
      backup: { type: 'openai', endpoint: fakeB.baseURL, api_key: 'sk-test-b-123456', models: [{ name: 'dall-e-2', capabilities: ['image'] }] },
    },
    rotations: {
      images: {
        strategy: 'priority',
        providers: [
          { provider_id: 'openai', models: [{ name: 'gpt-image-1', weight: 10 }] },
          { provider_id: 'backup', models: [{ name: 'dall-e-2', weight: 1 }] },
        ],
      },
    },
  }),
});

describe('image generation through the openai SDK', () => {
  it('serves a direct provider request with the upstream response', async () => {
    const r = await sdk('/api/openai').images.generate({ model: 'dall-e-3', prompt: 'a red fox', response_format: 'url' });
    expect(r.data![0]!.url).toMatch(/^https:\/\//);
    expect(r.data![0]!.revised_prompt).toContain('a red fox');
    expect(gw.fake.a.requests.at(-1)!.body).toMatchObject({ model: 'dall-e-3', prompt: 'a red fox', response_format: 'url' });
  });

  it('serves /v1 with provider/model and keeps gpt-image usage', async () => {
    const r = await sdk('/v1').images.generate({ model: 'openai/gpt-image-1', prompt: 'a cat', n: 2 });
    expect(r.data).toHaveLength(2);
    expect(r.data![0]!.b64_json).toBe(TINY_PNG_B64);
    expect(r.usage?.total_tokens).toBe(322);
  });

  it('serves a rotation and fails over to the second image provider when the first returns 500', async () => {
    gw.fake.a.enqueueFor('images/generations', { type: 'error', status: 500, message: 'upstream exploded' });
    const { data: r, response } = await sdk('/api/rotations').images.generate({ model: 'images', prompt: 'a boat', response_format: 'b64_json' }).withResponse();
    expect(r.data![0]!.b64_json).toBe(TINY_PNG_B64);
    expect(response.headers.get('x-aisbf-provider')).toBe('backup');
    expect(response.headers.get('x-aisbf-attempts')).toBe('2');
    expect(gw.fake.b.requests.at(-1)!.body.model).toBe('dall-e-2');
  });

  it('400 names a missing prompt and an unsupported response_format', async () => {
    const post = (body: unknown) => fetch(`${gw.aisbf.url}/v1/images/generations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    let res = await post({ model: 'openai/dall-e-3' });
    expect(res.status).toBe(400);
    expect((await errorOf(res))).toMatchObject({ param: 'prompt', code: 'missing_required_parameter' });
    res = await post({ model: 'openai/dall-e-3', prompt: 'x', response_format: 'gif' });
    expect(res.status).toBe(400);
    const e = (await errorOf(res));
    expect(e.param).toBe('response_format');
    expect(e.message).toContain('"gif"');
    res = await post({ model: 'openai/dall-e-3', prompt: 'x', stream: true });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).param).toBe('stream');
  });
});

describe('image edits (multipart) through the openai SDK', () => {
  it('sends one image as `image` with the prompt and model', async () => {
    const r = await sdk('/api/openai').images.edit({ model: 'gpt-image-1', prompt: 'add a hat', image: await toFile(png, 'cat.png', { type: 'image/png' }) });
    expect(r.data![0]!.b64_json).toBe(TINY_PNG_B64);
    const sent = gw.fake.a.requests.at(-1)!;
    expect(sent.path).toBe('/v1/images/edits');
    expect(sent.body.fields.prompt).toEqual(['add a hat']);
    expect(sent.body.fields.model).toEqual(['gpt-image-1']);
    expect(sent.body.files.image[0]).toMatchObject({ filename: 'cat.png', type: 'image/png', size: png.length });
  });

  it('sends several images as image[] and a mask, through a rotation with failover', async () => {
    gw.fake.a.enqueueFor('images/edits', { type: 'error', status: 503, message: 'overloaded' });
    const { response } = await sdk('/v1')
      .images.edit({ model: 'images', prompt: 'merge', image: [await toFile(png, 'a.png'), await toFile(png, 'b.png')], mask: await toFile(png, 'mask.png') })
      .withResponse();
    expect(response.headers.get('x-aisbf-provider')).toBe('backup');
    const sent = gw.fake.b.requests.at(-1)!;
    expect(sent.body.files['image[]'].map((f: { filename: string }) => f.filename)).toEqual(['a.png', 'b.png']);
    expect(sent.body.files.mask[0].filename).toBe('mask.png');
  });

  it('400 for a missing image, and for a file that is not an image', async () => {
    const form = new FormData();
    form.append('prompt', 'x');
    form.append('model', 'openai/gpt-image-1');
    let res = await fetch(`${gw.aisbf.url}/v1/images/edits`, { method: 'POST', body: form });
    expect(res.status).toBe(400);
    expect((await errorOf(res))).toMatchObject({ param: 'image', code: 'missing_required_parameter' });
    form.append('image', new File(['hello'], 'notes.txt', { type: 'text/plain' }));
    res = await fetch(`${gw.aisbf.url}/v1/images/edits`, { method: 'POST', body: form });
    expect(res.status).toBe(400);
    const e = (await errorOf(res));
    expect(e.param).toBe('image');
    expect(e.message).toContain("'text/plain'");
  });

  it('400 when the body is not multipart', async () => {
    const res = await fetch(`${gw.aisbf.url}/v1/images/edits`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt":"x"}' });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).message).toContain('multipart/form-data');
  });

  it('413 for an upload over server.upload_limit_mb, declared or chunked', async () => {
    const big = Buffer.alloc(80 * 1024, 1);
    const err = await sdk('/api/openai').images.edit({ model: 'gpt-image-1', prompt: 'x', image: await toFile(big, 'big.png', { type: 'image/png' }) }).catch((e) => e);
    expect(err.status).toBe(413);
    expect(err.message).toContain('upload_limit_mb');
    // No Content-Length: counted as it arrives.
    const boundary = 'b0undary';
    const chunks = [`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="x.png"\r\nContent-Type: image/png\r\n\r\n`, big, `\r\n--${boundary}--\r\n`];
    const body = new ReadableStream({
      pull(c) {
        const next = chunks.shift();
        if (next === undefined) c.close();
        else c.enqueue(typeof next === 'string' ? new TextEncoder().encode(next) : new Uint8Array(next));
      },
    });
    const res = await fetch(`${gw.aisbf.url}/api/openai/images/edits`, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
  });
});
