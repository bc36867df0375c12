import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli } from '../cli/cli-harness.js';
import { makeConfigDir } from '../helpers/aisbf-server.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { silentLogger } from '../../src/log.js';
import { ensureImagesDir, imagesDir, openGlassesStores } from '../../src/glasses/glasses-data.js';

let dir: string;
let server: RunningServer;

const cli = (...args: string[]) => runCli([...args, '--config', dir]);

beforeAll(async () => {
  assertBuilt();
  dir = makeConfigDir({ aisbf: { glasses: { default_prompt: 'Describe it' } } });
  // The daemon runs on the same config dir (and so the same SQLite file) as the CLI.
  server = await startServer({ configDir: dir, port: 0, host: '127.0.0.1', log: silentLogger, env: {} });
});
afterAll(async () => {
  await server.close(100);
  rmSync(dir, { recursive: true, force: true });
});

describe('aisbf profile / prompt / blacklist (on the SQLite file, daemon running)', () => {
  it('adds a profile the running daemon accepts at once, and refuses a duplicate', async () => {
    const add = await cli('profile', 'add', 'dave', 'dave-secret-key-123456');
    expect(add).toMatchObject({ code: 0, stderr: '' });
    expect(add.stdout).toContain('added profile dave');
    const auth = await fetch(`${server.url}/auth-dave-secret-key-123456`, { method: 'POST' });
    expect(await auth.json()).toEqual({ success: true, message: 'Authenticated' });

    const again = await cli('profile', 'add', 'dave', 'other-key-1234567');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('profile "dave" already exists');
    const bad = await cli('profile', 'add', 'no/slash', 'k-123456789012');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('invalid username');
  });

  it('lists profiles, sets and resets a prompt, and reports activity', async () => {
    const list = await cli('profile', 'list');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/dave\s+0\s+never/);

    expect((await cli('prompt', 'dave')).stdout).toContain('Describe it\n(the default prompt)');
    expect((await cli('prompt', 'dave', 'Read the signs')).code).toBe(0);
    const seen = await fetch(`${server.url}/prompt-dave`, { headers: { 'x-auth-key': 'dave-secret-key-123456' } });
    expect(await seen.json()).toMatchObject({ prompt: 'Read the signs', is_custom: true });
    expect((await cli('prompt', 'dave', '--reset')).stdout).toContain('restored to the default');
    expect((await cli('prompt', 'nobody')).stderr).toContain('no profile "nobody"');

    const stores = openGlassesStores(server.deps.db);
    stores.activity.insert({
      username: 'dave', ip: '198.51.100.4', requestType: 'image_process', imageFile: null, imageBytes: 0, prompt: 'Describe it',
      aiResponses: { 'cam/cam-1': 'A parked bicycle' }, finalAnswer: 'A parked bicycle', errors: [], processingTime: 1.25, createdAt: Date.now(),
    });
    const report = await cli('profile', 'report', 'dave');
    expect(report.code).toBe(0);
    expect(report.stdout).toContain('profile dave');
    expect(report.stdout).toContain('198.51.100.4');
    expect(report.stdout).toContain('A parked bicycle');
    expect(report.stdout).not.toContain('dave-secret-key-123456');
  });

  it('blacklists an IP the running daemon refuses at once, lists it, and lifts it', async () => {
    const add = await cli('blacklist', 'add', '127.0.0.1', '--reason', 'testing');
    expect(add.code).toBe(0);
    const refused = await fetch(`${server.url}/auth-x`, { method: 'POST' });
    expect(refused.status).toBe(403);
    expect((await cli('blacklist', 'list')).stdout).toMatch(/127\.0\.0\.1\s+\S+ \S+\s+testing/);
    expect((await cli('blacklist', 'remove', '::ffff:127.0.0.1')).code).toBe(0);
    expect((await fetch(`${server.url}/auth-x`, { method: 'POST' })).status).toBe(200);
    expect((await cli('blacklist', 'remove', '127.0.0.1')).stderr).toContain('is not blacklisted');
    expect((await cli('blacklist', 'add', 'not-an-ip')).stderr).toContain('is not an IPv4 or IPv6 address');
  });

  it('deletes a profile with its rows and image files', async () => {
    const stores = openGlassesStores(server.deps.db);
    const images = imagesDir(server.deps.runtime().config);
    const file = 'ab'.repeat(16) + '.jpg';
    ensureImagesDir(images);
    writeFileSync(join(images, file), 'x');
    stores.activity.insert({
      username: 'dave', ip: '198.51.100.4', requestType: 'image_process', imageFile: file, imageBytes: 1, prompt: 'p',
      aiResponses: {}, finalAnswer: 'a', errors: [], processingTime: 0.1, createdAt: Date.now(),
    });
    const del = await cli('profile', 'delete', 'dave');
    expect(del.code).toBe(0);
    expect(del.stdout).toContain('deleted profile dave (2 activity rows, 1 images)');
    expect(existsSync(join(images, file))).toBe(false);
    expect(stores.profiles.get('dave')).toBeUndefined();
    const auth = await fetch(`${server.url}/auth-dave-secret-key-123456`, { method: 'POST' });
    expect(await auth.json()).toEqual({ success: false, message: 'Invalid auth key' });
  });
});
