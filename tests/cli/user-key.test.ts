import { spawn } from 'node:child_process';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { startAisbf, type TestServer } from '../helpers/aisbf-server.js';
import { BIN, assertBuilt } from './cli-harness.js';

let fake: FakeOpenAI;
let aisbf: TestServer;

/** The built CLI on the running server's config dir, with `input` piped to stdin. */
function cli(args: string[], input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env.AISBF_CONFIG_DIR;
  const child = spawn(process.execPath, [BIN, ...args, '--config', aisbf.configDir], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(input);
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

async function login(username: string, password: string): Promise<Response> {
  return fetch(`${aisbf.url}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ username, password }) });
}

beforeAll(async () => {
  assertBuilt();
  fake = await startFakeOpenAI();
  aisbf = await startAisbf({
    providers: { openai: { type: 'openai', endpoint: fake.baseURL, api_key: 'sk-upstream-000000', models: [{ name: 'gpt-4o-mini' }] } },
    aisbf: { auth: { enabled: true } },
  });
});
afterAll(async () => {
  await aisbf.close();
  await fake.close();
});

describe('aisbf user', () => {
  it('adds users from stdin, refuses duplicates, weak passwords and a missing terminal', async () => {
    const add = await cli(['user', 'add', 'alice', '--role', 'admin', '--password-stdin'], 'alice-password-1\n');
    expect(add).toMatchObject({ code: 0, stdout: 'added admin alice\n' });
    expect((await cli(['user', 'add', 'alice', '--password-stdin'], 'another-pass-1')).stderr).toContain('user "alice" already exists');
    expect((await cli(['user', 'add', 'bob', '--password-stdin'], 'short')).stderr).toContain('at least 8 characters');
    const noTty = await cli(['user', 'add', 'bob']);
    expect(noTty.code).toBe(1);
    expect(noTty.stderr).toContain('--password-stdin');
    expect((await cli(['user', 'add', 'bad/name', '--password-stdin'], 'whatever-123')).stderr).toContain('not a valid user name');
    const list = await cli(['user', 'list']);
    expect(list.stdout).toMatch(/alice\s+admin/);
    expect(list.stdout).not.toContain('alice-password-1');
  });

  it('changes a password: the running daemon refuses the old token and the old password at once', async () => {
    const before = (await (await login('alice', 'alice-password-1')).json()) as any;
    const models = (t: string) => fetch(`${aisbf.url}/v1/models`, { headers: { authorization: `Bearer ${t}` } });
    expect((await models(before.access_token)).status).toBe(200);
    expect((await cli(['user', 'passwd', 'alice', '--password-stdin'], 'alice-password-2\n')).code).toBe(0);
    expect((await models(before.access_token)).status).toBe(401);
    expect((await login('alice', 'alice-password-1')).status).toBe(401);
    expect((await login('alice', 'alice-password-2')).status).toBe(200);
  });

  it('deletes a user', async () => {
    await cli(['user', 'add', 'temp', '--password-stdin'], 'temp-password');
    expect((await cli(['user', 'delete', 'temp'])).stdout).toBe('deleted temp\n');
    expect((await cli(['user', 'delete', 'temp'])).stderr).toContain('no user "temp"');
    expect((await login('temp', 'temp-password')).status).toBe(401);
  });
});

describe('aisbf key', () => {
  it('creates a key shown once, lists its hint, and a revocation stops the running daemon from accepting it', async () => {
    const created = await cli(['key', 'create', '--name', 'ci', '--user', 'alice', '--models', 'gpt-4o*', '--rpm', '60', '--tpm', '100000', '--max-parallel', '4', '--budget-usd', '5', '--budget-period', 'month', '--expires', '30d']);
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^sk-aisbf-/);
    const id = /created (key_[0-9a-f]{16})/.exec(created.stderr)![1]!;

    const client = new OpenAI({ baseURL: `${aisbf.url}/v1`, apiKey: key, maxRetries: 0 });
    const ask = () => client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'cli' }] });
    expect((await ask()).choices[0]!.message.content).toBe('echo: cli');

    const list = await cli(['key', 'list']);
    expect(list.stdout).toContain(id);
    expect(list.stdout).toContain('rpm 60, tpm 100000, parallel 4, $5/month');
    expect(list.stdout).not.toContain(key);

    expect((await cli(['key', 'revoke', id])).stdout).toBe(`revoked ${id} (ci)\n`);
    const err = await ask().catch((e: unknown) => e as InstanceType<typeof OpenAI.APIError>);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe('key_revoked');
    expect((await cli(['key', 'revoke', id])).stderr).toContain('already revoked');
  });

  it('names the option of a bad key request', async () => {
    expect((await cli(['key', 'create', '--name', 'x', '--budget-usd', '5'])).stderr).toContain('--budget-period');
    expect((await cli(['key', 'create', '--name', 'x', '--expires', 'soon'])).stderr).toContain('expires must be a duration');
    expect((await cli(['key', 'create', '--name', 'x', '--user', 'ghost'])).stderr).toContain('no user "ghost"');
  });
});
