import { execFile } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { follow } from '../../src/cli/logs.js';
import { BIN, STACK_LINE, assertBuilt, cleanup, freePort, isAlive, makeCliConfigDir, readPid, runCli, waitFor } from './cli-harness.js';

const pids = new Set<number>();
const dirs: string[] = [];
let dir: string;
let port: number;

beforeAll(async () => {
  assertBuilt();
  const parent = mkdtempSync(join(tmpdir(), 'aisbf-ops-'));
  dirs.push(parent);
  dir = join(parent, 'conf'); // does not exist: the first run creates it
  port = await freePort();
});
afterAll(() => {
  const p = readPid(dir);
  if (p) pids.add(p.pid);
  cleanup(pids, dirs);
});

const sh = (cmd: string) => new Promise<{ code: number; out: string }>((resolve) => execFile('sh', ['-c', cmd], (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr })));

describe('the daemon as an operator sees it', () => {
  it('creates the config dir on the first run, says so once, and keeps only the PID in aisbf.pid', async () => {
    const r = await runCli(['daemon', '--config', dir, '--port', String(port)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`created config dir ${dir} with the shipped defaults`);
    const text = readFileSync(join(dir, 'aisbf.pid'), 'utf8');
    expect(text).toMatch(/^\d+\n$/);
    const pid = Number(text);
    pids.add(pid);
    const state = JSON.parse(readFileSync(join(dir, 'aisbf.state.json'), 'utf8'));
    expect(state).toMatchObject({ pid, url: `http://127.0.0.1:${port}`, args: { port }, config_dir: dir });
    expect(typeof state.proc_start).toBe('string');
    const log = readFileSync(join(dir, 'logs', 'aisbf.log'), 'utf8');
    expect(log.split('\n').filter((l) => l.includes('created config dir'))).toHaveLength(1);
    // ISO times in the file.
    expect(JSON.parse(log.split('\n')[0]!).time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  }, 40_000);

  it('status shows degraded with each provider that cannot serve, in aligned columns', async () => {
    const r = await runCli(['status', '--config', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^aisbf is running \(degraded: \d+ providers cannot serve\)/);
    expect(r.stdout).toMatch(/openai\s+openai\s+not ready\s+no key \(set OPENAI_API_KEY\)/);
    const json = JSON.parse((await runCli(['status', '--json', '--config', dir])).stdout);
    expect(json.status).toBe('degraded');
    expect(json.problems).toContain('openai: no key (set OPENAI_API_KEY)');
  }, 30_000);

  it('aisbf logs prints the log readably; --json prints it raw', async () => {
    const r = await runCli(['logs', '--config', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO.*created config dir/m);
    expect(r.stdout).toMatch(/INFO.*aisbf listening/);
    expect(r.stdout).not.toContain('{"level"');
    const raw = await runCli(['logs', '--json', '-n', '1', '--config', dir]);
    expect(raw.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(raw.stdout).level).toBeTypeOf('string');
  }, 30_000);

  it('restart keeps the --port the daemon was started with', async () => {
    const before = readPid(dir)!;
    const r = await runCli(['restart', '--config', dir], { timeoutMs: 40_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const after = readPid(dir)!;
    pids.add(after.pid);
    expect(after.pid).not.toBe(before.pid);
    expect(after.url).toBe(`http://127.0.0.1:${port}`);
    expect((await fetch(`${after.url}/health`)).status).toBe(200);
  }, 45_000);

  it('kill $(cat aisbf.pid) stops it, as service managers do', async () => {
    const { pid } = readPid(dir)!;
    const r = await sh(`kill $(cat '${join(dir, 'aisbf.pid')}')`);
    expect(r.code).toBe(0);
    await waitFor('the server to exit', () => !isAlive(pid), 20_000);
    await waitFor('the PID and state files to go', () => !existsSync(join(dir, 'aisbf.pid')) && !existsSync(join(dir, 'aisbf.state.json')), 5_000);
  }, 30_000);

  it('a deleted providers.json is an error naming it, never replaced by the defaults', async () => {
    rmSync(join(dir, 'providers.json'));
    const r = await runCli(['daemon', '--config', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('providers.json: missing:');
    expect(r.stderr).toContain('"aisbf config init"');
    expect(existsSync(join(dir, 'providers.json'))).toBe(false);
    expect(r.stderr).not.toMatch(STACK_LINE);
  }, 30_000);
});

describe('aisbf config check', () => {
  it('names an unknown key with the closest known one, and notes an openai provider without endpoint', async () => {
    const d = makeCliConfigDir({ providers: { local: { type: 'openai', endpont: 'http://127.0.0.1:8000/v1', models: [] } } }, 1);
    dirs.push(d);
    const bad = await runCli(['config', 'check', '--config', d]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('providers.json: providers.local.endpont: unknown key "endpont"; did you mean "endpoint"?');
    writeFileSync(join(d, 'providers.json'), JSON.stringify({ providers: { local: { type: 'openai', models: [] } } }));
    const ok = await runCli(['config', 'check', '--config', d]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('note: providers.json: providers.local: no "endpoint": requests will go to https://api.openai.com/v1');
  }, 30_000);
});

describe('the foreground server on a terminal', () => {
  it('prints readable log lines, not JSON', async () => {
    const d = makeCliConfigDir({}, await freePort());
    dirs.push(d);
    // `script` gives the child a pseudo-terminal, as a person's shell would.
    const child = execFile('script', ['-qfec', `${process.execPath} ${BIN} --config ${d}`, '/dev/null'], { env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    try {
      await waitFor('the listening line', () => out.includes('aisbf listening'), 20_000);
      expect(out).toMatch(/\[\d\d:\d\d:\d\d\.\d{3}\] INFO.*aisbf listening/);
      expect(out).not.toContain('{"level"');
    } finally {
      const pid = readPid(d)?.pid;
      if (pid) process.kill(pid, 'SIGTERM');
      await waitFor('the server to stop', () => !existsSync(join(d, 'aisbf.pid')), 20_000);
      child.kill();
    }
  }, 40_000);
});

describe('aisbf logs -f', () => {
  it('follows the file across a rotation', async () => {
    const d = mkdtempSync(join(tmpdir(), 'aisbf-follow-'));
    dirs.push(d);
    const file = join(d, 'aisbf.log');
    writeFileSync(file, 'old\n');
    const seen: string[] = [];
    const stop = new AbortController();
    const done = follow(file, 4, (ls) => seen.push(...ls), stop.signal, 20);
    appendFileSync(file, 'one\n');
    await waitFor('line one', () => seen.includes('one'));
    appendFileSync(file, 'two\n');
    renameSync(file, `${file}.1`); // rotated: the last line of the old file still counts
    writeFileSync(file, 'three\n');
    await waitFor('line three', () => seen.includes('three'));
    appendFileSync(file, 'four\n');
    await waitFor('line four', () => seen.includes('four'));
    stop.abort();
    await done;
    expect(seen).toEqual(['one', 'two', 'three', 'four']);
  });
});
