import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cleanup, freePort, isAlive, makeCliConfigDir, readPid, runCli } from './cli-harness.js';

let dir: string;
let port: number;
const pids = new Set<number>();

beforeAll(async () => {
  assertBuilt();
  port = await freePort();
  dir = makeCliConfigDir({}, port);
});
afterAll(() => {
  const p = readPid(dir);
  if (p) pids.add(p.pid);
  cleanup(pids, [dir]);
});

describe('aisbf restart / stop exit codes', () => {
  it('restart replaces a running daemon with a new one on the same URL', async () => {
    const start = await runCli(['daemon', '--config', dir]);
    expect(start.code).toBe(0);
    const first = readPid(dir)!.pid;
    pids.add(first);
    const r = await runCli(['restart', '--config', dir], { timeoutMs: 40_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`aisbf stopped (PID ${first})`);
    const second = readPid(dir)!;
    pids.add(second.pid);
    expect(second.pid).not.toBe(first);
    expect(isAlive(first)).toBe(false);
    expect(r.stdout).toContain(`aisbf started (PID ${second.pid}) at http://127.0.0.1:${port}`);
    expect((await fetch(`${second.url}/health`)).status).toBe(200);
  }, 40_000);

  it('stop exits 2 when the server does not stop in time, and --force then kills it (exit 3)', async () => {
    const { pid } = readPid(dir)!;
    process.kill(pid, 'SIGSTOP'); // a server that cannot act on SIGTERM
    const late = await runCli(['stop', '--timeout', '0', '--config', dir]);
    expect(late.code).toBe(2);
    expect(late.stderr).toContain(`aisbf (PID ${pid}) did not stop within 0s and is still running; "aisbf stop --force" kills it`);
    expect(isAlive(pid)).toBe(true);
    expect(readPid(dir)!.pid).toBe(pid);

    const forced = await runCli(['stop', '--timeout', '0', '--force', '--config', dir]);
    expect(forced.code).toBe(3);
    expect(forced.stderr).toContain('killed it (SIGKILL)');
    expect(isAlive(pid)).toBe(false);
    expect(readPid(dir)).toBeUndefined();
  }, 30_000);
});
