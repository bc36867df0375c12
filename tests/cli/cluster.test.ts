/**
 * server.workers: the real CLI as a cluster primary with two workers, on a fake upstream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { assertBuilt, cleanup, freePort, isAlive, makeCliConfigDir, readPid, runCli, spawnCli, waitFor } from './cli-harness.js';

let fake: FakeOpenAI;
let dir: string;
let url: string;
/** The primary's stdout: its own lines and the ones its workers send it. */
let primaryOut = '';
const pids = new Set<number>();
/** cluster.ts: how long the primary waits for its workers to start before it gives up. */
const CLUSTER_START_MS = 30_000;

/** A GET on a fresh connection, so the cluster's round-robin can hand it to either worker. */
async function fresh(path: string): Promise<any> {
  const res = await fetch(`${url}${path}`, { headers: { connection: 'close' } });
  return res.json();
}

beforeAll(async () => {
  assertBuilt();
  fake = await startFakeOpenAI();
  const port = await freePort();
  dir = makeCliConfigDir(
    {
      aisbf: { server: { workers: 2 } },
      providers: {
        bad: { type: 'openai', endpoint: fake.baseURL, api_key: 'k', models: [{ name: 'broken' }] },
        good: { type: 'openai', endpoint: fake.baseURL, api_key: 'k', models: [{ name: 'fine' }] },
      },
      rotationsFile: { failure_threshold: 1, cooldown_seconds: 600 },
      rotations: {
        team: { strategy: 'priority', providers: [{ provider_id: 'bad', models: [{ name: 'broken', weight: 10 }] }, { provider_id: 'good', models: [{ name: 'fine', weight: 1 }] }] },
      },
    },
    port,
  );
  const child = spawnCli(['--config', dir]);
  child.stdout!.on('data', (d: Buffer) => (primaryOut += d.toString()));
  pids.add(child.pid!);
  // The primary writes its URL once every worker listens; a cluster that died says so at once. Three
  // node processes boot here (8–11 s at load 20 on 2 cores), so the wait is the primary's own limit
  // for its workers to start (cluster.ts startTimeoutMs, 30 s), not a shorter guess.
  const rec = await waitFor('the cluster to write its URL', () => readPid(dir)?.url && readPid(dir), CLUSTER_START_MS, child);
  url = rec.url!;
}, CLUSTER_START_MS + 5_000);

afterAll(async () => {
  cleanup(pids, [dir]);
  await fake.close();
});

describe('server.workers = 2', () => {
  it('serves from two worker processes behind one URL and one PID file', async () => {
    const primary = readPid(dir)!.pid;
    const seen = new Set<number>();
    await waitFor('both workers to answer', async () => {
      seen.add((await fresh('/health')).pid);
      return seen.size >= 2;
    });
    expect(seen.has(primary)).toBe(false);
    for (const pid of seen) pids.add(pid);
    const status = await runCli(['status', '--config', dir]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`PID:      ${primary} (cluster primary`);
  });

  it('shares a cooldown recorded by one worker with the others', async () => {
    fake.setModelBehavior('broken', { type: 'error', status: 500, message: 'down' });
    const res = await fetch(`${url}/api/rotations/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', connection: 'close' },
      body: JSON.stringify({ model: 'team', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-aisbf-provider')).toBe('good');
    // Every worker, not only the one that saw the failure, shows "bad" cooling: fresh connections
    // are spread over both workers by the cluster's round-robin.
    await waitFor('the cooldown to reach every worker', async () => {
      for (let i = 0; i < 6; i++) {
        const rotations = await fresh('/api/rotations');
        const bad = rotations.team.models.find((m: { provider_id: string }) => m.provider_id === 'bad');
        if (bad.state !== 'cooling') return false;
      }
      return true;
    });
    const before = fake.chatRequests().filter((r) => r.body.model === 'broken').length;
    for (let i = 0; i < 4; i++) {
      const r = await fetch(`${url}/api/rotations/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', connection: 'close' },
        body: JSON.stringify({ model: 'team', messages: [{ role: 'user', content: 'again' }] }),
      });
      expect(r.headers.get('x-aisbf-provider')).toBe('good');
    }
    // Neither worker called the cooling provider again.
    expect(fake.chatRequests().filter((r) => r.body.model === 'broken').length).toBe(before);
  });

  it('replaces a worker that dies and records the death in /admin/crashes', async () => {
    const primary = readPid(dir)!.pid;
    const victim = (await fresh('/health')).pid as number;
    expect(victim).not.toBe(primary);
    process.kill(victim, 'SIGKILL');
    const crashes = await waitFor('the worker restart in /admin/crashes', async () => {
      const rows = (await fresh('/admin/crashes')).data as Array<{ kind: string; message: string; stack: string | null }>;
      return rows.find((r) => r.kind === 'worker_restart') && rows;
    });
    const row = crashes.find((r) => r.kind === 'worker_restart')!;
    expect(row.message).toBe(`cluster worker ${victim} was killed by SIGKILL while serving; a new worker was started`);
    // Two workers serve again, the new one among them.
    const seen = new Set<number>();
    await waitFor('two live workers', async () => {
      seen.add((await fresh('/health')).pid);
      return [...seen].filter((p) => p !== victim).length >= 2;
    });
    for (const pid of seen) pids.add(pid);
  });

  it('writes each worker’s request lines to the primary’s log (batched, within a moment)', async () => {
    const primary = readPid(dir)!.pid;
    const ids = ['cluster-log-probe-1', 'cluster-log-probe-2', 'cluster-log-probe-3', 'cluster-log-probe-4'];
    for (const id of ids) await fetch(`${url}/v1/models`, { headers: { connection: 'close', 'x-request-id': id } }).then((r) => r.arrayBuffer());
    const lines = () => primaryOut.split('\n').filter((l) => l.includes('cluster-log-probe-')).map((l) => JSON.parse(l));
    await waitFor('the request lines to reach the primary', () => lines().length === ids.length, 5_000);
    expect(lines().map((l) => l.reqId).sort()).toEqual(ids);
    for (const l of lines()) {
      expect(l.msg).toBe('request');
      expect(l.pid).not.toBe(primary);
    }
  });

  it('stops every worker and removes the PID file on aisbf stop', async () => {
    const workerPids = [...pids].filter((p) => p !== readPid(dir)!.pid);
    const stop = await runCli(['stop', '--config', dir]);
    expect(stop.code).toBe(0);
    expect(readPid(dir)).toBeUndefined();
    await waitFor('the workers to exit', () => workerPids.every((p) => !isAlive(p)));
  });
});
