/**
 * `aisbf status` with storage.redis (issue 18): the daemon's shared store on its own `storage:` line,
 * connected, then DEGRADED once its Redis is killed (the daemon keeps answering).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cleanup, freePort, makeCliConfigDir, readPid, runCli, waitFor } from './cli-harness.js';
import { startTestRedis, type TestRedis } from '../store/redis/redis-server.js';

let redis: TestRedis;
let dir: string;
const pids = new Set<number>();

beforeAll(async () => {
  assertBuilt();
  redis = await startTestRedis();
  const port = await freePort();
  dir = makeCliConfigDir({ aisbf: { storage: { redis: { url: redis.url } } } }, port);
  const r = await runCli(['daemon', '--config', dir]);
  expect(r.code).toBe(0);
  pids.add(readPid(dir)!.pid);
}, 40_000);
afterAll(async () => {
  await runCli(['stop', '--config', dir]);
  cleanup(pids, [dir]);
  await redis?.stop();
});

describe('aisbf status on several instances', () => {
  it('names the shared store, and says DEGRADED while it is unreachable', async () => {
    const up = await runCli(['status', '--config', dir]);
    expect(up.stdout).toMatch(new RegExp(`storage:\\s+redis ${redis.url} connected \\(instance [^)]+\\)`));
    await redis.kill();
    const json = await waitFor('status --json says degraded', async () => {
      const j = JSON.parse((await runCli(['status', '--json', '--config', dir])).stdout);
      return j.storage?.state === 'degraded' ? j : undefined;
    });
    expect(json.status).toBe('degraded');
    expect(json.problems.some((p: string) => p.startsWith('storage: redis'))).toBe(true);
    const down = await runCli(['status', '--config', dir]);
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/^aisbf is running \(degraded: shared store unreachable, running on local state\)/);
    expect(down.stdout).toMatch(/storage:\s+redis \S+ DEGRADED since \S+: limits, cooldowns and the cache hold for this instance only/);
  }, 30_000);
});
