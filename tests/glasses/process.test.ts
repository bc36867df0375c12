import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { startAisbf, type TestConfig, type TestServer } from '../helpers/aisbf-server.js';
import { makeTestFrame, makeJpeg, processForm } from '../helpers/glasses-frames.js';
import { makePng } from '../helpers/png.js';
import { hashAuthKey } from '../../src/glasses/auth-key.js';
import { imagesDir, openGlassesStores, type GlassesStores } from '../../src/glasses/glasses-data.js';
import { runGlassesCleanup } from '../../src/glasses/cleanup.js';

let vision1: FakeOpenAI;
let vision2: FakeOpenAI;
let judge: FakeOpenAI;
let deepseek: FakeOpenAI;
let aisbf: TestServer;
let stores: GlassesStores;

const KEY = 'alice-glasses-key-0001';

function config(glasses: Record<string, unknown>): TestConfig {
  return {
    providers: {
      vision1: { type: 'openai', endpoint: vision1.baseURL, api_key: 'sk-server-vision1-key', models: [{ name: 'see-1' }] },
      vision2: { type: 'openai', endpoint: vision2.baseURL, api_key: 'sk-server-vision2-key', models: [{ name: 'see-2' }] },
      judge: { type: 'openai', endpoint: judge.baseURL, api_key: 'sk-server-judge-key', models: [{ name: 'judge-1' }] },
      // No configured key: only a profile's own deepseek_api_key makes it usable.
      deepseek: { type: 'openai', endpoint: deepseek.baseURL, models: [{ name: 'deepseek-chat' }] },
    },
    aisbf: { glasses: { cascade: ['vision1/see-1', 'vision2/see-2'], judge: 'judge/judge-1', ...glasses } },
  };
}

async function reconfigure(glasses: Record<string, unknown>): Promise<void> {
  aisbf.writeConfig(config(glasses));
  aisbf.running.reload();
}

async function addProfile(username: string, key: string): Promise<void> {
  expect(stores.profiles.create(username, await hashAuthKey(key))).toBe(true);
}

async function process(opts: { image?: Buffer; username?: string; key?: string | null; prompt?: string; header?: boolean; mime?: string } = {}) {
  const key = opts.key === undefined ? KEY : opts.key;
  const form = processForm({
    image: opts.image ?? makeJpeg(640, 480),
    username: opts.username ?? 'alice',
    prompt: opts.prompt,
    authKey: opts.header || key === null ? undefined : key,
    mime: opts.mime,
  });
  const headers: Record<string, string> = opts.header && key ? { 'x-auth-key': key } : {};
  const res = await fetch(`${aisbf.url}/process`, { method: 'POST', body: form, headers });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

beforeAll(async () => {
  [vision1, vision2, judge, deepseek] = await Promise.all([startFakeOpenAI(), startFakeOpenAI(), startFakeOpenAI(), startFakeOpenAI()]);
  aisbf = await startAisbf(config({}));
  stores = openGlassesStores(aisbf.running.deps.db);
  await addProfile('alice', KEY);
});
afterAll(async () => {
  await aisbf.close();
  await Promise.all([vision1.close(), vision2.close(), judge.close(), deepseek.close()]);
});
beforeEach(async () => {
  for (const f of [vision1, vision2, judge, deepseek]) f.requests.length = 0;
  await reconfigure({});
});

describe('POST /process: the cascade', () => {
  it('stops at the first target that is confident (NO) and sends the frame with its real mime type', async () => {
    vision1.enqueue({ type: 'reply', text: 'A red mug on a desk.' }, { type: 'reply', text: 'NO' });
    const r = await process({ image: makeTestFrame(3).bytes, mime: 'image/jpeg' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      answer: 'A red mug on a desk.',
      ai_responses: { 'vision1/see-1': 'A red mug on a desk.' },
      prompt_used: 'Describe this image in detail',
      success: true,
      error: null,
    });
    expect(r.body.processing_time).toBeGreaterThanOrEqual(0);
    expect(vision2.chatRequests()).toHaveLength(0);
    expect(judge.chatRequests()).toHaveLength(0);
    const [ask, check] = vision1.chatRequests();
    const parts = ask!.body.messages[0].content;
    expect(parts[0]).toEqual({ type: 'text', text: 'Describe this image in detail' });
    // Declared image/jpeg, but the bytes are a PNG: the sniffed type is what goes upstream.
    expect(parts[1].image_url.url).toBe(`data:image/png;base64,${makeTestFrame(3).bytes.toString('base64')}`);
    expect(ask!.headers.authorization).toBe('Bearer sk-server-vision1-key');
    expect(typeof check!.body.messages[0].content).toBe('string');
    expect(check!.body.messages[0].content).toContain('A red mug on a desk.');
    expect(check!.body.messages[0].content).toMatch(/YES or NO/);
    for (const line of r.body.debug_messages) expect(line).toMatch(/^\[\d\d:\d\d:\d\d\] \[[A-Z]+\] [\x20-\x7e]*$/);
    expect(r.body.debug_messages.some((l: string) => l.includes('[CHECK]') && l.includes('confident'))).toBe(true);
  });

  it('moves on when the answer says YES, and the judge merges the answers', async () => {
    vision1.enqueue({ type: 'reply', text: 'Maybe a cat?' }, { type: 'reply', text: 'YES, another opinion would help.' });
    vision2.enqueue({ type: 'reply', text: 'A grey cat on a sofa.' });
    judge.enqueue({ type: 'reply', text: 'A grey cat sitting on a sofa.' });
    const r = await process({ prompt: 'What animal is this?' });
    expect(r.status).toBe(200);
    expect(r.body.answer).toBe('A grey cat sitting on a sofa.');
    expect(r.body.ai_responses).toEqual({ 'vision1/see-1': 'Maybe a cat?', 'vision2/see-2': 'A grey cat on a sofa.' });
    expect(r.body.prompt_used).toBe('What animal is this?');
    // The last target of the cascade is not asked whether it needs help.
    expect(vision2.chatRequests()).toHaveLength(1);
    const judgeText = judge.chatRequests()[0]!.body.messages[0].content as string;
    expect(judgeText).toContain('Maybe a cat?');
    expect(judgeText).toContain('A grey cat on a sofa.');
    expect(judgeText).toContain('What animal is this?');
    expect(r.body.debug_messages.some((l: string) => l.includes('[JUDGE]'))).toBe(true);
  });

  it('reads the needs-help reply strictly: YES elsewhere than the first word stops the cascade', async () => {
    vision1.enqueue({ type: 'reply', text: 'A bicycle.' }, { type: 'reply', text: 'I would not say YES here.' });
    const r = await process();
    expect(r.body.answer).toBe('A bicycle.');
    expect(vision2.chatRequests()).toHaveLength(0);
  });

  it('uses the last answer when the judge fails', async () => {
    vision1.enqueue({ type: 'reply', text: 'First look.' }, { type: 'reply', text: 'YES' });
    vision2.enqueue({ type: 'reply', text: 'Second look.' });
    judge.enqueue({ type: 'error', status: 500, message: 'judge exploded' });
    const r = await process();
    expect(r.body.answer).toBe('Second look.');
    expect(r.body.success).toBe(true);
    expect(r.body.debug_messages.some((l: string) => l.includes('[ERROR]') && l.includes('judge'))).toBe(true);
  });

  it('skips a failing provider and never uses its error text as the answer', async () => {
    vision1.enqueue({ type: 'error', status: 503, message: 'vision1 is overloaded' });
    vision2.enqueue({ type: 'reply', text: 'A tree in a park.' });
    const r = await process();
    expect(r.status).toBe(200);
    expect(r.body.answer).toBe('A tree in a park.');
    expect(r.body.ai_responses).toEqual({ 'vision2/see-2': 'A tree in a park.' });
    expect(JSON.stringify(r.body.ai_responses)).not.toContain('overloaded');
    expect(judge.chatRequests()).toHaveLength(0);
    expect(r.body.debug_messages.some((l: string) => l.includes('[ERROR]') && l.includes('vision1/see-1'))).toBe(true);
    const row = stores.activity.recent('alice', 1)[0]!;
    expect(row.errors.join(' ')).toContain('vision1/see-1');
    expect(row.finalAnswer).toBe('A tree in a park.');
  });

  it('answers success:false with the errors when every target fails', async () => {
    vision1.enqueue({ type: 'error', status: 500 });
    vision2.enqueue({ type: 'error', status: 401, message: 'bad key sk-leaky-upstream-key-999' });
    const r = await process();
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ answer: 'No valid response received', ai_responses: {}, success: false });
    expect(r.body.error).toMatch(/All AI services failed/);
    expect(JSON.stringify(r.body)).not.toContain('sk-leaky-upstream-key-999');
    expect(JSON.stringify(r.body)).not.toContain('sk-server-vision2-key');
  });

  it('uses the profile prompt, and the profile\'s own provider key stored encrypted', async () => {
    await reconfigure({ cascade: ['deepseek/deepseek-chat'] });
    const secret = 'sk-deepseek-profile-secret-4242';
    const prof = await fetch(`${aisbf.url}/profile`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-auth-key': KEY },
      body: JSON.stringify({ username: 'alice', api_keys: { deepseek_api_key: secret } }),
    });
    expect(prof.status).toBe(200);
    expect(await prof.json()).toEqual({ message: 'User profile authenticated' });
    const db = aisbf.running.deps.db;
    db.pragma('wal_checkpoint(TRUNCATE)');
    for (const f of readdirSync(aisbf.configDir).filter((n) => n.startsWith('aisbf.db'))) {
      expect(readFileSync(join(aisbf.configDir, f)).includes(Buffer.from(secret))).toBe(false);
      expect(readFileSync(join(aisbf.configDir, f)).includes(Buffer.from(KEY))).toBe(false);
    }
    expect(stores.profiles.get('alice')!.apiKeyNames).toEqual(['deepseek_api_key']);

    stores.profiles.setPrompt('alice', 'Read any text you see');
    deepseek.enqueue({ type: 'reply', text: 'EXIT' });
    const r = await process({ header: true });
    expect(r.body).toMatchObject({ answer: 'EXIT', prompt_used: 'Read any text you see', success: true });
    expect(deepseek.chatRequests()[0]!.headers.authorization).toBe(`Bearer ${secret}`);
    stores.profiles.setPrompt('alice', null);
  });

  it('answers 400 "No AI services configured" with an empty cascade', async () => {
    await reconfigure({ cascade: [] });
    const r = await process();
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ detail: 'No AI services configured' });
  });
});

describe('POST /process: refusals', () => {
  it('401 for a wrong key, a missing key and an unknown user', async () => {
    for (const r of [await process({ key: 'wrong-key' }), await process({ key: null }), await process({ username: 'nobody' })]) {
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ detail: 'User not authenticated' });
    }
    expect(vision1.chatRequests()).toHaveLength(0);
  });

  it('400 Invalid image for a non-image upload and for absurd dimensions', async () => {
    const text = await process({ image: Buffer.from('#!/bin/sh\necho not an image\n'), mime: 'image/png' });
    expect(text.status).toBe(400);
    expect(text.body.detail).toBe('Invalid image: not a JPEG, PNG, WebP or GIF file');
    const huge = await process({ image: makeJpeg(12000, 10) });
    expect(huge.status).toBe(400);
    expect(huge.body.detail).toMatch(/^Invalid image: 12000x10 pixels/);
    expect(vision1.chatRequests()).toHaveLength(0);
  });

  it('413 for an image over glasses.max_image_mb', async () => {
    await reconfigure({ max_image_mb: 0.01 });
    const big = Buffer.concat([makePng(2, 2), Buffer.alloc(20_000, 7)]);
    const r = await process({ image: big });
    expect(r.status).toBe(413);
    expect(r.body.detail).toBe('Image too large: the limit is 10 KB (glasses.max_image_mb)');
  });

  it('403 on every glasses route for an IP blacklisted while the server runs, until lifted', async () => {
    stores.blacklist.add('127.0.0.1', 'test');
    try {
      const r = await process();
      expect(r.status).toBe(403);
      expect(r.body).toEqual({ detail: 'IP 127.0.0.1 is blacklisted' });
      expect((await fetch(`${aisbf.url}/auth-${KEY}`, { method: 'POST' })).status).toBe(403);
      expect((await fetch(`${aisbf.url}/profile`, { method: 'POST', body: '{}' })).status).toBe(403);
      expect((await fetch(`${aisbf.url}/prompt-alice`, { headers: { 'x-auth-key': KEY } })).status).toBe(403);
    } finally {
      expect(stores.blacklist.remove('::ffff:127.0.0.1')).toBe(true);
    }
    vision1.enqueue({ type: 'reply', text: 'ok' }, { type: 'reply', text: 'NO' });
    expect((await process()).status).toBe(200);
  });
});

describe('behind a reverse proxy (glasses.trust_proxy)', () => {
  it('blacklists by the last X-Forwarded-For entry, and ignores the header when not trusted', async () => {
    stores.blacklist.add('203.0.113.9');
    try {
      const viaProxy = () => fetch(`${aisbf.url}/auth-x`, { method: 'POST', headers: { 'x-forwarded-for': '10.0.0.1, 203.0.113.9' } });
      expect((await viaProxy()).status).toBe(200);
      await reconfigure({ trust_proxy: true });
      const r = await viaProxy();
      expect(r.status).toBe(403);
      expect(await r.json()).toEqual({ detail: 'IP 203.0.113.9 is blacklisted' });
    } finally {
      stores.blacklist.remove('203.0.113.9');
    }
  });
});

describe('stored frames and cleanup', () => {
  it('stores each frame under a generated name and deletes rows with their files when they expire or exceed the budget', async () => {
    await addProfile('carol', 'carol-key-000000001');
    const before = stores.activity.totals('carol').requests;
    for (let i = 0; i < 3; i++) {
      vision1.enqueue({ type: 'reply', text: `frame ${i}` }, { type: 'reply', text: 'NO' });
      const r = await process({ username: 'carol', key: 'carol-key-000000001', image: makeTestFrame(i).bytes });
      expect(r.status).toBe(200);
    }
    const rows = stores.activity.recent('carol', 10);
    expect(rows).toHaveLength(before + 3);
    const dir = imagesDir(aisbf.running.deps.runtime().config);
    for (const row of rows) {
      expect(row.imageFile).toMatch(/^[0-9a-f]{32}\.png$/);
      expect(existsSync(join(dir, row.imageFile!))).toBe(true);
    }
    expect(stores.profiles.get('carol')!.totalRequests).toBe(3);

    // Budget: keep roughly one row's worth; the two oldest go, with their files.
    const oneRow = rows[0]!.sizeBytes;
    const trimmed = runGlassesCleanup({ activity: stores.activity, imagesDir: dir, retentionDays: 3, maxProfileBytes: oneRow + 1 });
    expect(trimmed.rowsDeleted).toBeGreaterThanOrEqual(2);
    const left = stores.activity.recent('carol', 10);
    expect(left.map((r) => r.id)).toEqual([rows[0]!.id]);
    for (const row of rows.slice(1)) expect(existsSync(join(dir, row.imageFile!))).toBe(false);

    // Age: four days later, everything is past the three-day retention.
    const expired = runGlassesCleanup({ activity: stores.activity, imagesDir: dir, retentionDays: 3, maxProfileBytes: 1 << 30, now: Date.now() + 4 * 86_400_000 });
    expect(expired.rowsDeleted).toBeGreaterThanOrEqual(1);
    expect(stores.activity.recent('carol', 10)).toEqual([]);
    expect(existsSync(join(dir, rows[0]!.imageFile!))).toBe(false);
  });
});
