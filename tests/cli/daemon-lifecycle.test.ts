import OpenAI from 'openai';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import type { TestConfig } from '../helpers/aisbf-server.js';
import { STACK_LINE, assertBuilt, cleanup, freePort, makeCliConfigDir, readPid, runCli, waitFor, writeCliConfig } from './cli-harness.js';

const GRACE_SECONDS = 15;

let fake: FakeOpenAI;
let dir: string;
let port: number;
let url: string;
let pid: number;
const pids = new Set<number>();

function config(rotations: Record<string, unknown>): TestConfig {
  return {
    providers: {
      fake: { type: 'openai', endpoint: fake.baseURL, api_key: 'sk-fake-upstream-key-123456', models: [{ name: 'gpt-4o' }, { name: 'gpt-4o-mini' }] },
    },
    rotations,
    aisbf: { server: { shutdown_grace_seconds: GRACE_SECONDS } },
  };
}

const mainRotation = { main: { model_name: 'main', providers: [{ provider_id: 'fake', models: [{ name: 'gpt-4o', weight: 1 }] }] } };

beforeAll(async () => {
  assertBuilt();
  fake = await startFakeOpenAI();
  port = await freePort();
  dir = makeCliConfigDir(config(mainRotation), port);
});

afterAll(async () => {
  const p = readPid(dir);
  if (p) pids.add(p.pid);
  cleanup(pids, [dir]);
  await fake.close();
});

describe('aisbf daemon → status → chat → reload → stop', () => {
  it('daemon returns once /health answers, and writes the PID file with pid, url and start time', async () => {
    const r = await runCli(['daemon', '--config', dir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rec = readPid(dir)!;
    pid = rec.pid;
    pids.add(pid);
    url = `http://127.0.0.1:${port}`;
    expect(rec.url).toBe(url);
    expect(Date.parse(rec.started_at)).toBeGreaterThan(Date.now() - 60_000);
    expect(r.stdout).toContain(`PID ${pid}`);
    expect(r.stdout).toContain(url);
    expect(r.stdout).toContain(`${dir}/logs/aisbf.log`);
    // Already healthy when the command returned: no waiting here.
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
  }, 40_000);

  it('status prints PID, URL, uptime, version and each provider; --json for scripts', async () => {
    const [text, json] = await Promise.all([runCli(['status', '--config', dir]), runCli(['status', '--json', '--config', dir])]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`PID:\\s+${pid}`));
    expect(text.stdout).toContain(url);
    expect(text.stdout).toMatch(/uptime:\s+\d+s/);
    expect(text.stdout).toMatch(/version:\s+0\.1\.0/);
    expect(text.stdout).toMatch(/fake\s+openai\s+ready\s+ready/);
    // One table: every row's columns start where the header's do.
    const table = text.stdout.split('\n').filter((l) => /^ {4}\S/.test(l));
    expect(table[0]).toMatch(/^ {4}PROVIDER\s+TYPE\s+STATE\s+DETAIL$/);
    for (const col of ['TYPE', 'STATE', 'DETAIL']) {
      const at = table[0]!.indexOf(col);
      for (const row of table.slice(1)) expect(row[at - 1]).toBe(' ');
      for (const row of table.slice(1)) expect(row[at]).not.toBe(' ');
    }
    expect(json.code).toBe(0);
    const s = JSON.parse(json.stdout);
    expect(s).toMatchObject({ running: true, healthy: true, pid, url, version: '0.1.0', providers: { fake: { type: 'openai', ready: true } } });
    expect(typeof s.uptime_seconds).toBe('number');
  }, 30_000);

  it('refuses a second daemon for the same config dir, naming the PID and URL', async () => {
    const r = await runCli(['daemon', '--config', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`PID ${pid}`);
    expect(r.stderr).toContain(url);
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(readPid(dir)!.pid).toBe(pid);
  }, 30_000);

  it('answers a chat completion through a rotation (openai SDK)', async () => {
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'client', maxRetries: 0 });
    const res = await client.chat.completions.create({ model: 'main', messages: [{ role: 'user', content: 'hello daemon' }] });
    expect(res.choices[0]!.message.content).toBe('echo: hello daemon');
    expect(fake.chatRequests().at(-1)!.body.model).toBe('gpt-4o');
  });

  it('reload applies a changed rotation to new requests', async () => {
    writeCliConfig(
      dir,
      config({
        main: { model_name: 'main', providers: [{ provider_id: 'fake', models: [{ name: 'gpt-4o-mini', weight: 1 }] }] },
        fast: { model_name: 'fast', providers: [{ provider_id: 'fake', models: [{ name: 'gpt-4o-mini', weight: 2 }] }] },
      }),
      port,
    );
    const r = await runCli(['reload', '--config', dir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('reloaded');
    const rotations = (await (await fetch(`${url}/api/rotations`)).json()) as Record<string, { models: Array<{ name: string; weight: number }> }>;
    expect(Object.keys(rotations).sort()).toEqual(['fast', 'main']);
    expect(rotations.main!.models.map((m) => m.name)).toEqual(['gpt-4o-mini']);
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'client', maxRetries: 0 });
    const res = await client.chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'after reload' }] });
    expect(res.choices[0]!.message.content).toBe('echo: after reload');
    expect(fake.chatRequests().at(-1)!.body.model).toBe('gpt-4o-mini');
  }, 30_000);

  it('an invalid config is not applied: reload says why, SIGHUP logs it, the old config keeps serving', async () => {
    const good = readFileSync(`${dir}/rotations.json`, 'utf8');
    writeCliConfig(dir, config({ broken: { providers: [{ provider_id: 'fake', models: [{ name: 'gpt-4o' }] }] } }), port);
    const r = await runCli(['reload', '--config', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('rotations.json: rotations.broken.providers[0].models[0].weight');
    expect(r.stderr).toContain('not reloaded');
    expect(r.stderr).not.toMatch(STACK_LINE);

    // The signal path (what `kill -HUP` does): the server itself reports the problem and keeps going.
    const before = readPid(dir)!.reloads;
    process.kill(pid, 'SIGHUP');
    const rec = await waitFor('the reload outcome', () => {
      const p = readPid(dir);
      return p && p.reloads > before ? p : undefined;
    });
    expect(rec.last_reload).toMatchObject({ ok: false });
    expect(rec.last_reload!.error).toContain('rotations.broken.providers[0].models[0].weight');
    const log = await waitFor('the log line', () => {
      const text = readFileSync(`${dir}/logs/aisbf.log`, 'utf8');
      return text.includes('config reload failed') ? text : undefined;
    });
    expect(log).toContain('rotations.broken');
    const rotations = (await (await fetch(`${url}/api/rotations`)).json()) as Record<string, unknown>;
    expect(Object.keys(rotations).sort()).toEqual(['fast', 'main']);
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'client', maxRetries: 0 });
    const res = await client.chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'still here' }] });
    expect(res.choices[0]!.message.content).toBe('echo: still here');
    writeFileSync(`${dir}/rotations.json`, good);
  }, 30_000);

  it('stop stops accepting, lets a running stream finish with [DONE], exits and removes the PID file', async () => {
    const words = Array.from({ length: 24 }, (_, i) => `w${i}`).join(' ');
    fake.enqueue({ type: 'reply', text: words, chunkDelayMs: 250 });
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fast', stream: true, messages: [{ role: 'user', content: 'stream please' }] }),
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let body = '';
    const streamed = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return Date.now();
        body += decoder.decode(value, { stream: true });
      }
    })();
    await waitFor('the first chunk', () => body.includes('data: {'));

    const stop = runCli(['stop', '--config', dir], { timeoutMs: 40_000 });
    await waitFor('the shutdown to begin', () => readFileSync(`${dir}/logs/aisbf.log`, 'utf8').includes('shutting down'));
    const shutdownSeen = Date.now();
    // No new connections once shutting down.
    await expect(fetch(`${url}/health`, { headers: { connection: 'close' } })).rejects.toThrow();

    const endedAt = await streamed;
    expect(endedAt).toBeGreaterThan(shutdownSeen);
    expect(body.endsWith('data: [DONE]\n\n')).toBe(true);
    const text = body
      .split('\n')
      .filter((l) => l.startsWith('data: {'))
      .map((l) => JSON.parse(l.slice(6)).choices[0]?.delta?.content ?? '')
      .join('');
    expect(text).toBe(words);

    const r = await stop;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`aisbf stopped (PID ${pid})`);
    // It exited when the stream ended, not at the end of the grace period (idle keep-alive sockets are
    // closed): the server says which, so no wall-clock bound is needed (one failed under load).
    expect(readPid(dir)).toBeUndefined();
    const log = readFileSync(`${dir}/logs/aisbf.log`, 'utf8');
    expect(log).toContain('aisbf stopped');
    expect(log).not.toContain('grace period over');
  }, 45_000);

  it('status then says it is not running and exits 1', async () => {
    const r = await runCli(['status', '--config', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('aisbf is not running');
    const stop = await runCli(['stop', '--config', dir]);
    expect(stop.code).toBe(1);
  }, 30_000);
});
