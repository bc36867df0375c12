import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STACK_LINE, assertBuilt, cleanup, freePort, isAlive, makeCliConfigDir, readPid, runCli, spawnCli, waitFor } from './cli-harness.js';

const dirs: string[] = [];
const pids = new Set<number>();

function dir(cfg: Parameters<typeof makeCliConfigDir>[0] = {}, port = 0): string {
  const d = makeCliConfigDir(cfg, port);
  dirs.push(d);
  return d;
}

beforeAll(() => assertBuilt());
afterAll(() => {
  for (const d of dirs) {
    const p = readPid(d);
    if (p) pids.add(p.pid);
  }
  cleanup(pids, dirs);
});

describe('PID file', () => {
  it('status and stop remove a stale PID file (dead PID) and exit 1', async () => {
    const d = dir();
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    expect(isAlive(dead)).toBe(false);
    writeFileSync(join(d, 'aisbf.pid'), JSON.stringify({ pid: dead, url: 'http://127.0.0.1:1', started_at: new Date().toISOString() }));
    const status = await runCli(['status', '--config', d]);
    expect(status.code).toBe(1);
    expect(status.stdout).toContain(`removed a stale PID file (PID ${dead})`);
    expect(readdirSync(d)).not.toContain('aisbf.pid');

    writeFileSync(join(d, 'aisbf.pid'), String(dead)); // AISBF 0.3.3's bare-PID format
    const stop = await runCli(['stop', '--config', d]);
    expect(stop.code).toBe(1);
    expect(stop.stdout).toContain('not running');
    expect(readdirSync(d)).not.toContain('aisbf.pid');
  });

  it('a recycled PID (alive, but another process) is stale too, and is never signalled', async () => {
    const d = dir();
    // This test process is alive, but its start time differs from the one recorded.
    writeFileSync(join(d, 'aisbf.pid'), JSON.stringify({ pid: process.pid, url: 'http://127.0.0.1:1', proc_start: '1' }));
    const stop = await runCli(['stop', '--config', d]);
    expect(stop.code).toBe(1);
    expect(stop.stdout).toContain(`stale PID file (PID ${process.pid})`);
    expect(readdirSync(d)).not.toContain('aisbf.pid');
  });
});

describe('start-up failures: one clear message, no stack trace, non-zero exit', () => {
  const broken = {
    providers: { bad: { type: 'cohere', endpoint: 'http://127.0.0.1:1/v1' } },
    rotations: { r: { providers: [{ provider_id: 'bad', models: [{ name: 'm' }] }] } },
  };

  it('daemon and foreground refuse an invalid config, listing each problem with file and JSON path', async () => {
    const d = dir(broken, await freePort());
    const [daemon, fg] = await Promise.all([runCli(['daemon', '--config', d]), runCli(['--config', d])]);
    for (const r of [daemon, fg]) {
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^aisbf: invalid config in .* \(2 problems\):/);
      expect(r.stderr).toContain('providers.json: providers.bad.type: unsupported provider type "cohere"');
      expect(r.stderr).toContain('rotations.json: rotations.r.providers[0].models[0].weight');
      expect(r.stderr).not.toMatch(STACK_LINE);
      expect(r.stdout).toBe('');
    }
    expect(readdirSync(d)).not.toContain('aisbf.pid');
  }, 30_000);

  describe('a port in use', () => {
    let blocker: Server;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      blocker = createServer();
      await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', () => r()));
    });
    afterAll(() => new Promise<void>((r) => blocker.close(() => r())));

    it('is one line naming host:port and suggesting --port (foreground and daemon)', async () => {
      const d = dir({}, port);
      const d2 = dir({}, port);
      const [fg, daemon] = await Promise.all([runCli(['--config', d]), runCli(['daemon', '--config', d2])]);
      expect(fg.code).toBe(1);
      expect(fg.stderr.trim().split('\n')).toHaveLength(1);
      expect(fg.stderr).toContain(`127.0.0.1:${port} is already in use`);
      expect(fg.stderr).toContain('--port');
      expect(fg.stderr).not.toMatch(STACK_LINE);

      expect(daemon.code).toBe(1);
      expect(daemon.stderr).toContain('the server exited with code 1 before it was ready');
      expect(daemon.stderr).toContain(`127.0.0.1:${port} is already in use`);
      expect(daemon.stderr).not.toMatch(STACK_LINE);
      expect(readdirSync(d)).not.toContain('aisbf.pid');
      expect(readdirSync(d2)).not.toContain('aisbf.pid');
    }, 30_000);
  });

  it('a config dir that is a file is one clear line', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'aisbf-cli-'));
    dirs.push(parent);
    const file = join(parent, 'not-a-dir');
    writeFileSync(file, 'x');
    const r = await runCli(['daemon', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toContain(`aisbf: --config ${file} is a file, not a directory`);
  });
});

describe('foreground', () => {
  it('reloads on SIGHUP and shuts down gracefully on SIGTERM: exit 0, PID file removed', async () => {
    const port = await freePort();
    const d = dir({ aisbf: { server: { shutdown_grace_seconds: 5 } } }, port);
    const child = spawnCli(['--config', d]);
    pids.add(child.pid!);
    let stdout = '';
    child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const rec = await waitFor('the PID file with a URL', () => {
      const p = readPid(d);
      return p?.url ? p : undefined;
    }, 20_000);
    expect(rec.pid).toBe(child.pid);
    expect(rec.url).toBe(`http://127.0.0.1:${port}`);
    expect(rec.log_file).toBeNull();
    expect((await fetch(`${rec.url}/health`)).status).toBe(200);

    // A new rotation appears after SIGHUP.
    writeFileSync(join(d, 'rotations.json'), JSON.stringify({ rotations: { added: { providers: [{ provider_id: 'nope', models: [{ name: 'm', weight: 1 }] }] } } }));
    child.kill('SIGHUP');
    await waitFor('the failed reload', () => readPid(d)?.last_reload);
    expect(readPid(d)!.last_reload).toMatchObject({ ok: false });
    expect(readPid(d)!.last_reload!.error).toContain('unknown provider id "nope"');
    writeFileSync(join(d, 'rotations.json'), JSON.stringify({ rotations: {} }));
    const rotations = (await (await fetch(`${rec.url}/api/rotations`)).json()) as Record<string, unknown>;
    expect(rotations).toEqual({});

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(readPid(d)).toBeUndefined();
    expect(stdout).toContain('"msg":"config reload failed; the running config stays"');
    expect(stdout).toContain('"msg":"aisbf stopped"');
    expect(readFileSync(join(d, 'aisbf.json'), 'utf8')).toContain(String(port));
  }, 30_000);
});
