import { rmSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import { TINY_PNG_B64, videoBytes } from '../fakes/openai-capabilities.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { errorOf } from './error-body.js';
import { makeConfigDir, startAisbf, type TestConfig, type TestServer } from '../helpers/aisbf-server.js';
import { useGateway } from '../helpers/fixture.js';
import { startServer } from '../../src/server/serve.js';
import { silentLogger } from '../../src/log.js';

const client = (url: string, base: string) => new OpenAI({ baseURL: `${url}${base}`, apiKey: 'client-key', maxRetries: 0 });
const sdk = (base: string) => gw.sdk(base);

function config(pollSeconds: number): TestConfig {
  return {
    // A long interval: these tests advance jobs by calling pollOnce() themselves (no clock in the test).
    aisbf: { capabilities: { video_poll_seconds: pollSeconds } },
    providers: {
      openai: { type: 'openai', endpoint: gw.fake.a.baseURL, api_key: 'sk-test-a-123456', models: [{ name: 'sora-2', capabilities: ['video'] }, { name: 'gpt-4o' }] },
      backup: { type: 'openai', endpoint: gw.fake.b.baseURL, api_key: 'sk-test-b-123456', models: [{ name: 'sora-2-pro', capabilities: ['video'] }] },
    },
    rotations: {
      movies: {
        strategy: 'priority',
        providers: [
          { provider_id: 'openai', models: [{ name: 'sora-2', weight: 10 }] },
          { provider_id: 'backup', models: [{ name: 'sora-2-pro', weight: 1 }] },
        ],
      },
      chatonly: { providers: [{ provider_id: 'openai', models: [{ name: 'gpt-4o', weight: 1 }] }] },
    },
  };
}

const gw = useGateway({
  fake: async () => ({ a: await startFakeOpenAI(), b: await startFakeOpenAI() }),
  config: () => config(3600),
});

const pollOnce = () => gw.aisbf.running.deps.videoJobs.pollOnce();

describe('video jobs through the openai SDK', () => {
  it('creates a job under our own id, polls it to completion and streams the content', async () => {
    const { data: job, response } = await sdk('/api/openai').videos.create({ model: 'sora-2', prompt: 'a fox in the snow', seconds: '8', size: '1280x720' }).withResponse();
    expect(job.id).toMatch(/^video_[0-9a-f]{32}$/);
    expect(job).toMatchObject({ object: 'video', status: 'queued', progress: 0, model: 'sora-2', prompt: 'a fox in the snow', seconds: '8', size: '1280x720' });
    expect(response.headers.get('x-aisbf-provider')).toBe('openai');
    const upstream = [...gw.fake.a.capabilities.videos.values()].at(-1)!;
    expect(upstream.id).not.toBe(job.id);
    expect(JSON.stringify(job)).not.toContain(upstream.id);
    // The SDK sends multipart; the fields reach the upstream.
    expect(gw.fake.a.requests.at(-1)!.body.fields).toMatchObject({ model: ['sora-2'], prompt: ['a fox in the snow'], seconds: ['8'] });

    await pollOnce();
    expect(await sdk('/api/openai').videos.retrieve(job.id)).toMatchObject({ id: job.id, status: 'in_progress', progress: 50 });
    const notReady = await sdk('/api/openai').videos.downloadContent(job.id).catch((e) => e);
    expect(notReady.status).toBe(400);
    expect(notReady.message).toContain('not ready');

    await pollOnce();
    const done = await sdk('/v1').videos.retrieve(job.id);
    expect(done).toMatchObject({ status: 'completed', progress: 100 });
    expect(done.completed_at).toBeGreaterThan(0);

    const content = await sdk('/api/openai').videos.downloadContent(job.id);
    expect(content.headers.get('content-type')).toBe('video/mp4');
    const bytes = Buffer.from(await content.arrayBuffer());
    expect(bytes.equals(videoBytes(upstream.id, gw.fake.a.capabilities.videoSize))).toBe(true);
    const thumb = await sdk('/api/openai').videos.downloadContent(job.id, { variant: 'thumbnail' });
    expect(thumb.headers.get('content-type')).toBe('image/webp');
    expect(gw.fake.a.requests.at(-1)!.query.get('variant')).toBe('thumbnail');
  });

  it('streams a large video through without changing it', async () => {
    gw.fake.a.capabilities.videoSize = 3 * 1024 * 1024 + 7;
    const job = await sdk('/v1').videos.create({ model: 'openai/sora-2', prompt: 'long take' });
    await pollOnce();
    await pollOnce();
    const res = await fetch(`${gw.aisbf.url}/v1/videos/${job.id}/content`);
    expect(res.headers.get('content-length')).toBe(String(3 * 1024 * 1024 + 7));
    const upstream = [...gw.fake.a.capabilities.videos.values()].at(-1)!;
    expect(Buffer.from(await res.arrayBuffer()).equals(videoBytes(upstream.id, 3 * 1024 * 1024 + 7))).toBe(true);
    gw.fake.a.capabilities.videoSize = 256 * 1024;
  });

  it('cancels the upstream download when the client goes away mid-video', async () => {
    gw.fake.a.capabilities.videoSize = 64 * 1024 * 200;
    gw.fake.a.capabilities.videoChunkDelayMs = 20;
    try {
      const job = await sdk('/v1').videos.create({ model: 'openai/sora-2', prompt: 'abandoned' });
      await pollOnce();
      await pollOnce();
      const aborted = gw.fake.a.nextAbort();
      const ac = new AbortController();
      const res = await fetch(`${gw.aisbf.url}/v1/videos/${job.id}/content`, { signal: ac.signal });
      const reader = res.body!.getReader();
      expect((await reader.read()).value!.byteLength).toBeGreaterThan(0);
      ac.abort();
      await aborted;
      expect(gw.fake.a.clientAborts).toBeGreaterThan(0);
    } finally {
      gw.fake.a.capabilities.videoSize = 256 * 1024;
      gw.fake.a.capabilities.videoChunkDelayMs = 0;
    }
  });

  it('a job started with the client\'s own key is polled only with that key, never in the background', async () => {
    gw.aisbf.writeConfig({ ...config(3600), providers: { ...config(3600).providers, keyless: { type: 'openai', endpoint: gw.fake.a.baseURL, forward_client_key: true, models: [] } } });
    gw.aisbf.running.reload();
    try {
      const own = new OpenAI({ baseURL: `${gw.aisbf.url}/api/keyless`, apiKey: 'sk-client-own-key-42', maxRetries: 0 });
      const job = await own.videos.create({ model: 'sora-2', prompt: 'mine' });
      expect(gw.fake.a.requests.at(-1)!.headers.authorization).toBe('Bearer sk-client-own-key-42');
      const upstreamId = [...gw.fake.a.capabilities.videos.keys()].at(-1)!;
      await pollOnce();
      expect(gw.fake.a.requests.some((r) => r.path === `/v1/videos/${upstreamId}`)).toBe(false);
      expect(gw.aisbf.running.deps.videoJobs.store.get(job.id)!.client_key).toBe(1);
      const row = gw.aisbf.running.deps.videoJobs.store.get(job.id)!;
      const refreshed = await gw.aisbf.running.deps.videoJobs.refresh(row, { bearer: 'sk-client-own-key-42' });
      expect(refreshed.status).toBe('in_progress');
      expect(gw.fake.a.requests.at(-1)!.headers.authorization).toBe('Bearer sk-client-own-key-42');
    } finally {
      gw.aisbf.writeConfig(config(3600));
      gw.aisbf.running.reload();
    }
  });

  it('sends an input_reference file upstream', async () => {
    const png = Buffer.from(TINY_PNG_B64, 'base64');
    await sdk('/api/openai').videos.create({ model: 'sora-2', prompt: 'animate this', input_reference: await toFile(png, 'ref.png', { type: 'image/png' }) });
    expect(gw.fake.a.requests.at(-1)!.body.files.input_reference[0]).toMatchObject({ filename: 'ref.png', type: 'image/png', size: png.length });
    // A reference by URL: the SDK's `input_reference[image_url]` form field reaches the upstream as such.
    await sdk('/api/openai').videos.create({ model: 'sora-2', prompt: 'from a url', input_reference: { image_url: 'https://example.com/a.png' } });
    expect(gw.fake.a.requests.at(-1)!.body.fields['input_reference[image_url]']).toEqual(['https://example.com/a.png']);
  });

  it('starts a job through a rotation, failing over when the first provider returns 500, and polls the provider that took it', async () => {
    gw.fake.a.enqueueFor('videos', { type: 'error', status: 500 });
    const { data: job, response } = await sdk('/api/rotations').videos.create({ model: 'movies', prompt: 'a storm' }).withResponse();
    expect(response.headers.get('x-aisbf-provider')).toBe('backup');
    expect(job.model).toBe('movies');
    const before = gw.fake.a.requests.length;
    await pollOnce();
    await pollOnce();
    expect((await sdk('/api/rotations').videos.retrieve(job.id)).status).toBe('completed');
    const upstreamId = [...gw.fake.b.capabilities.videos.keys()].at(-1)!;
    expect(gw.fake.b.requests.filter((r) => r.method === 'GET' && r.path === `/v1/videos/${upstreamId}`)).toHaveLength(2);
    expect(gw.fake.a.requests.slice(before).some((r) => r.path.includes(upstreamId))).toBe(false);
    const content = await sdk('/api/rotations').videos.downloadContent(job.id);
    expect((await content.arrayBuffer()).byteLength).toBe(gw.fake.b.capabilities.videoSize);
  });

  it('fails over when the first provider answers something that is not a video job', async () => {
    gw.fake.a.enqueueFor('videos', { type: 'garbage' });
    const triedA = gw.fake.a.requests.length;
    const { data, response } = await sdk('/v1').videos.create({ model: 'movies', prompt: 'x' }).withResponse();
    expect(response.headers.get('x-aisbf-provider')).toBe('backup');
    expect(response.headers.get('x-aisbf-attempts')).toBe('2');
    expect(gw.fake.a.requests.length).toBe(triedA + 1);
    expect(data).toMatchObject({ object: 'video', model: 'movies' });
  });

  it('reports a job that failed upstream with its error, and refuses its content', async () => {
    const job = await sdk('/api/openai').videos.create({ model: 'sora-2', prompt: 'FAIL this one' });
    await pollOnce();
    await pollOnce();
    const failed = await sdk('/api/openai').videos.retrieve(job.id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toEqual({ code: 'moderation_blocked', message: 'Your request was blocked by our moderation system.' });
    const err = await sdk('/api/openai').videos.downloadContent(job.id).catch((e) => e);
    expect(err.status).toBe(400);
  });

  it('marks a job failed when the upstream no longer knows it', async () => {
    const job = await sdk('/api/openai').videos.create({ model: 'sora-2', prompt: 'expired' });
    const upstreamId = [...gw.fake.a.capabilities.videos.keys()].at(-1)!;
    gw.fake.a.capabilities.videos.delete(upstreamId);
    await pollOnce();
    const gone = await sdk('/api/openai').videos.retrieve(job.id);
    expect(gone.status).toBe('failed');
    expect(gone.error?.code).toBe('upstream_job_not_found');
  });

  it('refreshes a stale job on GET when no background poll has run', async () => {
    gw.aisbf.writeConfig(config(0.001));
    gw.aisbf.running.reload();
    try {
      const job = await sdk('/v1').videos.create({ model: 'openai/sora-2', prompt: 'quick' });
      await expect.poll(async () => (await sdk('/v1').videos.retrieve(job.id)).status, { timeout: 5000, interval: 10 }).toBe('completed');
    } finally {
      gw.aisbf.writeConfig(config(3600));
      gw.aisbf.running.reload();
    }
  });
});

describe('video routes: bad input', () => {
  it('404 for an unknown video id', async () => {
    const err = await sdk('/v1').videos.retrieve('video_00000000000000000000000000000000').catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err.message).toContain('video_00000000000000000000000000000000');
    const res = await fetch(`${gw.aisbf.url}/v1/videos/../../etc/passwd/content`);
    expect(res.status).toBe(404);
    const content = await sdk('/v1').videos.downloadContent('video_nope').catch((e) => e);
    expect(content.status).toBe(404);
  });

  it('400 names a missing prompt, a bad seconds, a bad variant and an unsupported reference type', async () => {
    const post = (body: unknown) => fetch(`${gw.aisbf.url}/v1/videos`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    let res = await post({ model: 'openai/sora-2' });
    expect((await errorOf(res))).toMatchObject({ param: 'prompt', code: 'missing_required_parameter' });
    res = await post({ model: 'openai/sora-2', prompt: 'x', seconds: 'four' });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).param).toBe('seconds');
    const form = new FormData();
    form.append('model', 'openai/sora-2');
    form.append('prompt', 'x');
    form.append('input_reference', new File(['hi'], 'ref.txt', { type: 'text/plain' }));
    res = await fetch(`${gw.aisbf.url}/v1/videos`, { method: 'POST', body: form });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).param).toBe('input_reference');
    const job = await sdk('/v1').videos.create({ model: 'openai/sora-2', prompt: 'x' });
    res = await fetch(`${gw.aisbf.url}/v1/videos/${job.id}/content?variant=poster`);
    expect(res.status).toBe(400);
    expect((await errorOf(res)).param).toBe('variant');
  });

  it('400 names the video capability when no rotation candidate declares it', async () => {
    const err = await sdk('/v1').videos.create({ model: 'chatonly', prompt: 'x' }).catch((e) => e);
    expect(err.status).toBe(400);
    expect(err.message).toContain("capability 'video'");
    expect(err.message).toContain('openai/sora-2');
  });
});

describe('video jobs across a restart', () => {
  it('a job started before a restart is polled to completion by the next daemon and can be downloaded', async () => {
    const dir = makeConfigDir(config(3600));
    try {
      const first = await startServer({ configDir: dir, port: 0, host: '127.0.0.1', log: silentLogger, env: {} });
      const job = await client(first.url, '/api/openai').videos.create({ model: 'sora-2', prompt: 'survives restarts' });
      await first.close(100);
      const upstreamRequestsBefore = gw.fake.a.requests.filter((r) => r.method === 'GET').length;

      // The next daemon polls in the background, every 20 ms.
      const aisbfJson = JSON.parse(readFileSync(join(dir, 'aisbf.json'), 'utf8'));
      writeFileSync(join(dir, 'aisbf.json'), JSON.stringify({ ...aisbfJson, capabilities: { video_poll_seconds: 0.02 } }));
      const second = await startServer({ configDir: dir, port: 0, host: '127.0.0.1', log: silentLogger, env: {} });
      try {
        const row = () => second.deps.videoJobs.store.get(job.id);
        await expect.poll(() => row()?.status, { timeout: 5000, interval: 10 }).toBe('completed');
        expect(gw.fake.a.requests.filter((r) => r.method === 'GET').length).toBeGreaterThan(upstreamRequestsBefore);
        const c = client(second.url, '/api/openai');
        expect((await c.videos.retrieve(job.id)).status).toBe('completed');
        const bytes = Buffer.from(await (await c.videos.downloadContent(job.id)).arrayBuffer());
        const upstream = [...gw.fake.a.capabilities.videos.values()].find((v) => v.prompt === 'survives restarts')!;
        expect(bytes.equals(videoBytes(upstream.id, gw.fake.a.capabilities.videoSize))).toBe(true);
      } finally {
        await second.close(100);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
