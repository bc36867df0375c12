import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkImage, ImageCheckError } from '../../src/media/image-check.js';
import { SlidingWindowLimiter } from '../../src/glasses/sliding-window.js';
import { parseNeedsHelp } from '../../src/glasses/cascade.js';
import { loadEncryptionKey, open, seal } from '../../src/glasses/secret-box.js';
import { AuthKeyVerifier, hashAuthKey, verifyAuthKey } from '../../src/glasses/auth-key.js';
import { DebugLog } from '../../src/glasses/debug-log.js';
import { makePng } from '../helpers/png.js';
import { makeGif, makeJpeg, makeTestFrame, makeWebp } from '../helpers/glasses-frames.js';

describe('image check', () => {
  it('reads the real type and size of PNG, JPEG, GIF and WebP from their bytes', () => {
    expect(checkImage(makePng(3, 2))).toMatchObject({ kind: 'png', mime: 'image/png', width: 3, height: 2 });
    expect(checkImage(makeJpeg(640, 480))).toMatchObject({ kind: 'jpeg', mime: 'image/jpeg', ext: 'jpg', width: 640, height: 480 });
    expect(checkImage(makeGif(5, 7))).toMatchObject({ kind: 'gif', width: 5, height: 7 });
    expect(checkImage(makeWebp(300, 200))).toMatchObject({ kind: 'webp', mime: 'image/webp', width: 300, height: 200 });
    expect(checkImage(makeTestFrame(1).bytes)).toMatchObject({ width: 64, height: 48 });
  });

  it('refuses text, truncated headers, zero and huge dimensions', () => {
    expect(() => checkImage(Buffer.from('hello, I am not a picture'))).toThrow(/not a JPEG, PNG, WebP or GIF/);
    expect(() => checkImage(new Uint8Array())).toThrow(/empty/);
    expect(() => checkImage(makePng(2, 2).subarray(0, 20))).toThrow(ImageCheckError);
    expect(() => checkImage(makeJpeg(0, 10))).toThrow(/zero width or height/);
    expect(() => checkImage(makePng(1, 1).fill(0xff, 16, 20))).toThrow(/larger than 10000 pixels/);
    expect(() => checkImage(makeJpeg(20000, 10))).toThrow(/20000x10/);
  });
});

describe('sliding window limiter', () => {
  it('allows `limit` events per window and says when the next one fits', () => {
    let now = 1_000_000;
    const l = new SlidingWindowLimiter(3, 60_000, () => now);
    for (let i = 0; i < 3; i++) {
      expect(l.hit('a').allowed).toBe(true);
      now += 1000;
    }
    now = 1_010_000;
    expect(l.hit('a')).toEqual({ allowed: false, retryAfterSeconds: 50 });
    expect(l.hit('b').allowed).toBe(true);
    now = 1_060_000; // the first event leaves the window; the second is still in it
    expect(l.check('a').allowed).toBe(true);
    expect(l.hit('a').allowed).toBe(true);
    expect(l.hit('a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
  });
});

describe('needs-help parsing', () => {
  it('is YES only when YES is the first word', () => {
    expect(parseNeedsHelp('YES')).toBe(true);
    expect(parseNeedsHelp('yes.')).toBe(true);
    expect(parseNeedsHelp('**YES** I could use a second opinion')).toBe(true);
    expect(parseNeedsHelp('NO')).toBe(false);
    expect(parseNeedsHelp('I would say YES')).toBe(false);
    expect(parseNeedsHelp('YESTERDAY')).toBe(false);
    expect(parseNeedsHelp('')).toBe(false);
  });
});

describe('secrets', () => {
  it('generates glasses.key with mode 0600 once, and seals so that another profile cannot open it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aisbf-glasses-key-'));
    try {
      const key = loadEncryptionKey({ configDir: dir, env: {} });
      expect(statSync(join(dir, 'glasses.key')).mode & 0o777).toBe(0o600);
      expect(loadEncryptionKey({ configDir: dir, env: {} }).equals(key)).toBe(true);
      expect(readFileSync(join(dir, 'glasses.key'), 'utf8').trim()).toBe(key.toString('hex'));
      const sealed = seal(key, '{"gemini_api_key":"AIzaSecret"}', 'alice');
      expect(sealed).not.toContain('AIzaSecret');
      expect(open(key, sealed, 'alice')).toBe('{"gemini_api_key":"AIzaSecret"}');
      expect(() => open(key, sealed, 'mallory')).toThrow();
      expect(loadEncryptionKey({ configDir: dir, env: { AISBF_GLASSES_KEY: 'a'.repeat(64) } }).toString('hex')).toBe('a'.repeat(64));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('hashes auth keys with a per-profile salt and verifies them', async () => {
    const a = await hashAuthKey('glasses-key-1');
    const b = await hashAuthKey('glasses-key-1');
    expect(a).not.toBe(b);
    expect(a).not.toContain('glasses-key-1');
    expect(await verifyAuthKey('glasses-key-1', a)).toBe(true);
    expect(await verifyAuthKey('glasses-key-2', a)).toBe(false);
    const v = new AuthKeyVerifier();
    expect(await v.verify('glasses-key-1', b)).toBe(true);
    expect(await v.verify('glasses-key-1', b)).toBe(true);
    expect(await v.verify('wrong', b)).toBe(false);
  });
});

describe('debug lines', () => {
  it('are [HH:MM:SS] [TAG] text in plain ASCII without keys', () => {
    const d = new DebugLog(() => Date.UTC(2026, 0, 2, 3, 4, 5));
    d.add('AI', 'Réponse 🙂 from sk-abcdefghijklmnop\nnext');
    expect(d.lines).toEqual(['[03:04:05] [AI] R?ponse ?? from [redacted] next']);
  });
});

describe('the cleanup service', () => {
  it('runs at start, then at the top of each UTC hour, until stopped', async () => {
    const { vi } = await import('vitest');
    const { openDatabase } = await import('../../src/store/db.js');
    const { ActivityStore } = await import('../../src/store/activity.js');
    const { startGlassesCleanup } = await import('../../src/glasses/cleanup.js');
    const db = openDatabase(':memory:');
    const activity = new ActivityStore(db);
    vi.useFakeTimers();
    try {
      vi.setSystemTime(Date.UTC(2026, 4, 1, 10, 30, 0));
      const old = { username: 'u', ip: '1.2.3.4', requestType: 'image_process', imageFile: null, imageBytes: 0, prompt: 'p', aiResponses: {}, finalAnswer: 'a', errors: [], processingTime: 0 };
      activity.insert({ ...old, createdAt: Date.now() - 5 * 86_400_000 });
      let runs = 0;
      const service = startGlassesCleanup(() => {
        runs++;
        return { activity, imagesDir: '/nonexistent', retentionDays: 3, maxProfileBytes: 1 << 30 };
      });
      expect(runs).toBe(1);
      expect(activity.totals('u').requests).toBe(0);
      activity.insert({ ...old, createdAt: Date.now() - 2.95 * 86_400_000 });
      vi.advanceTimersByTime(29 * 60_000);
      expect(runs).toBe(1);
      vi.advanceTimersByTime(2 * 60_000); // 11:01 UTC
      expect(runs).toBe(2);
      expect(activity.totals('u').requests).toBe(1);
      vi.advanceTimersByTime(60 * 60_000); // 12:01: the row is now past three days
      expect(runs).toBe(3);
      expect(activity.totals('u').requests).toBe(0);
      service.stop();
      vi.advanceTimersByTime(5 * 60 * 60_000);
      expect(runs).toBe(3);
    } finally {
      vi.useRealTimers();
      db.close();
    }
  });
});
