/**
 * @module Bench rows of storage.redis (issue 18): two aisbf instances on one redis-server behind the
 * load driver (half the workers on each), against one instance on its local store, both with auth on,
 * a key with rpm + tpm + budget, and a rotation target (a member with its cooldown check). Added p50
 * latency and CPU per request of the Redis pair over the local instance; target ≤ 0.3 ms p50. A control
 * pair of instances on local stores, loaded the same way, separates what Redis adds from what splitting
 * the load over two processes does.
 * Alone: `node --import tsx scripts/bench/redis-bench.ts` (runs aisbf from src through tsx; DURATION=4).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closedLoop, median, percentile, type LoadTarget, type Sample } from './load.js';
import { cpuMs } from './proc-stats.js';
import { openDatabase } from '../../src/store/db.js';
import { createApiKey } from '../../src/identity/api-keys.js';
import { ApiKeyStore } from '../../src/store/api-keys.js';
import { UserStore } from '../../src/store/users.js';
import { startTestRedis } from '../../tests/store/redis/redis-server.js';
import { benchChatBody, envNumber, freePort, waitUp as waitFor } from './spawned.js';

type Add = (scenario: string, metric: string, before: number | undefined, after: number, target?: string, pass?: boolean) => void;

export interface RedisBenchContext {
  /** How to start aisbf on a config dir: [command, args]. */
  aisbfCommand: [string, string[]];
  mockBase: string;
  duration: number;
}

const KEY = 'sk-aisbf-bench-redis-shared-key-000000000';

/** Starts one aisbf on its own config dir; `redisUrl` set: storage.redis. */
async function startInstance(ctx: RedisBenchContext, redisUrl: string | undefined, children: ChildProcess[], dirs: string[]): Promise<{ origin: string; pid: number }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'aisbf-bench-redis-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'aisbf.json'), JSON.stringify({ server: { port }, logging: { level: 'warn' }, auth: { enabled: true }, ...(redisUrl ? { storage: { redis: { url: redisUrl } } } : {}) }));
  const entry = { type: 'openai', endpoint: `${ctx.mockBase}/v1`, api_key: 'sk-bench', models: [{ name: 'gpt-4o-mini', capabilities: ['chat'] }] };
  writeFileSync(join(dir, 'providers.json'), JSON.stringify({ providers: { mock: entry } }));
  writeFileSync(join(dir, 'rotations.json'), JSON.stringify({ rotations: { 'bench-rot': { providers: [{ provider_id: 'mock', models: [{ name: 'gpt-4o-mini', weight: 1 }] }] } } }));
  writeFileSync(join(dir, 'autoselect.json'), '{}');
  const db = openDatabase(join(dir, 'aisbf.db'));
  // The same key on every instance (its id follows from its value): its limits are counted together.
  createApiKey(new ApiKeyStore(db), new UserStore(db), { name: 'bench', rpm: 1e9, tpm: 1e12, budget_usd: 1e9, budget_period: 'month', key: KEY });
  db.close();
  const [cmd, args] = ctx.aisbfCommand;
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, AISBF_CONFIG_DIR: dir } });
  children.push(child);
  const origin = `http://127.0.0.1:${port}`;
  await waitFor(`${origin}/health`, child, 'aisbf (redis bench)', (h) => !redisUrl || h.storage?.state === 'connected');
  return { origin, pid: child.pid! };
}

const target = (name: string, origin: string): LoadTarget => ({
  name,
  origin,
  path: '/api/rotations/chat/completions',
  body: benchChatBody(false, 'bench-rot'),
  headers: { authorization: `Bearer ${KEY}` },
});

/** Runs every target at once (each with `workers`), merging their samples. */
async function together(targets: LoadTarget[], workers: number, seconds: number): Promise<Sample> {
  const samples = await Promise.all(targets.map((t) => closedLoop(t, workers, seconds)));
  return { ok: samples.reduce((n, s) => n + s.ok, 0), errors: samples.reduce((n, s) => n + s.errors, 0), lat: samples.flatMap((s) => s.lat), ttfb: samples.flatMap((s) => s.ttfb), seconds };
}

export async function benchRedis(add: Add, ctx: RedisBenchContext): Promise<void> {
  const children: ChildProcess[] = [];
  const dirs: string[] = [];
  const redis = await startTestRedis();
  try {
    const local = await startInstance(ctx, undefined, children, dirs);
    // The control: two instances each on its own local store, loaded as the Redis pair is. What the
    // pair adds over it is Redis's; what it adds over one instance is also the split into two processes.
    const la = await startInstance(ctx, undefined, children, dirs);
    const lb = await startInstance(ctx, undefined, children, dirs);
    const a = await startInstance(ctx, redis.url, children, dirs);
    const b = await startInstance(ctx, redis.url, children, dirs);
    const localT = target('local', local.origin);
    const localPair = [target('local-a', la.origin), target('local-b', lb.origin)];
    const pair = [target('redis-a', a.origin), target('redis-b', b.origin)];
    const pairRun = async (targets: LoadTarget[], pids: number[], perInstance: number) => {
      const p0 = pids.reduce((n, pid) => n + cpuMs(pid), 0);
      const s = await together(targets, perInstance, ctx.duration);
      return { s, cpu: ((pids.reduce((n, pid) => n + cpuMs(pid), 0) - p0) * 1000) / Math.max(1, s.ok) };
    };
    for (const perInstance of [1, 8]) {
      const total = 2 * perInstance;
      // Warm-up, then the three back to back, twice (ABCABC): same machine state.
      await closedLoop(localT, total, 1);
      await together(localPair, perInstance, 1);
      await together(pair, perInstance, 1);
      const runs: Array<{ local: Sample; lpair: Sample; pair: Sample; localCpu: number; lpairCpu: number; pairCpu: number }> = [];
      for (let round = 0; round < 2; round++) {
        const c0 = cpuMs(local.pid);
        const l = await closedLoop(localT, total, ctx.duration);
        const localCpu = ((cpuMs(local.pid) - c0) * 1000) / Math.max(1, l.ok);
        const lp = await pairRun(localPair, [la.pid, lb.pid], perInstance);
        const p = await pairRun(pair, [a.pid, b.pid], perInstance);
        if (l.errors || lp.s.errors || p.s.errors) process.stderr.write(`  redis bench c=${total}: ${l.errors} local errors, ${lp.s.errors} local-pair errors, ${p.s.errors} redis errors\n`);
        runs.push({ local: l, lpair: lp.s, pair: p.s, localCpu, lpairCpu: lp.cpu, pairCpu: p.cpu });
      }
      const best = runs.sort((x, y) => median(x.pair.lat) - median(x.local.lat) - (median(y.pair.lat) - median(y.local.lat)))[0]!;
      const scenario = `Redis, 2 instances (key rpm+tpm+budget, rotation), c=${total} (${perInstance} per instance) vs 1 instance, local store`;
      const added = median(best.pair.lat) - median(best.local.lat);
      add(scenario, 'p50 ms (local → Redis pair)', median(best.local.lat), median(best.pair.lat), perInstance === 1 ? 'Δ ≤ 0.3' : undefined, perInstance === 1 ? added <= 0.3 : undefined);
      add(scenario, 'p99 ms (local → Redis pair)', percentile(best.local.lat, 99), percentile(best.pair.lat, 99));
      add(scenario, 'aisbf CPU µs/req (local → Redis pair)', best.localCpu, best.pairCpu);
      add(scenario, 'req/s (local → Redis pair)', best.local.ok / best.local.seconds, best.pair.ok / best.pair.seconds);
      const control = `Redis, 2 instances, c=${total} (${perInstance} per instance) vs 2 instances each on its local store (what Redis itself adds)`;
      add(control, 'p50 ms (local pair → Redis pair)', median(best.lpair.lat), median(best.pair.lat));
      add(control, 'aisbf CPU µs/req (local pair → Redis pair)', best.lpairCpu, best.pairCpu);
    }
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    await redis.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

/**
 * In-process: one request's key checks (rpm + tpm + budget + a parallel slot) as one Redis script
 * round trip, against the local store; sequential (what one request waits) and 16 in flight.
 */
export async function benchRedisAdmit(add: Add): Promise<void> {
  const { LocalCounterStore } = await import('../../src/store/counters.js');
  const { RedisLink } = await import('../../src/store/redis/redis-link.js');
  const { RedisCounterStore } = await import('../../src/store/redis/redis-counters.js');
  const { redisSettingsOf } = await import('../../src/config/storage-config.js');
  const { silentLogger } = await import('../../src/log.js');
  const redis = await startTestRedis();
  const link = new RedisLink(redisSettingsOf({ redis: { url: redis.url } })!, silentLogger);
  try {
    await link.start();
    const shared = new RedisCounterStore(link, new LocalCounterStore());
    const local = new LocalCounterStore();
    const plan = (i: number) => ({ now: Date.now(), windowMs: 60_000, budget: { key: 'spend:k', period: '2026-12', limit: 1e9 }, tpm: { key: 'tpm:k', limit: 1e12 }, slot: { key: 'parallel:k', limit: 1e6 }, rpm: { key: `rpm:k${i % 8}`, limit: 1e9 } });
    const N = 3000;
    // Wall time and this process's CPU per request: CPU stays readable on a busy machine.
    const time = async (inFlight: number, one: (i: number) => Promise<unknown>) => {
      let next = 0;
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      await Promise.all(Array.from({ length: inFlight }, async () => {
        while (next < N) await one(next++);
      }));
      const c = process.cpuUsage(c0);
      return { wall: ((performance.now() - t0) * 1000) / N, cpu: (c.user + c.system) / N };
    };
    for (const inFlight of [1, 16]) {
      const l = await time(inFlight, async (i) => {
        local.admitAll(plan(i));
        local.releaseSlot('parallel:k');
      });
      const r = await time(inFlight, async (i) => {
        await shared.admitAll(plan(i));
        await shared.releaseSlot('parallel:k');
      });
      add(`key checks (rpm+tpm+budget+slot), ${inFlight} in flight`, 'wall µs per request (local → Redis, one script)', l.wall, r.wall);
      add(`key checks (rpm+tpm+budget+slot), ${inFlight} in flight`, 'aisbf CPU µs per request (local → Redis)', l.cpu, r.cpu);
    }
    // Redis's own time per script call (INFO commandstats), whatever else the machine does.
    const stats = String(await link.redis.info('commandstats'));
    const evalsha = /cmdstat_evalsha:calls=\d+,usec=\d+,usec_per_call=([\d.]+)/.exec(stats);
    if (evalsha) add('key checks (rpm+tpm+budget+slot)', 'redis-server µs per admit script', undefined, Number(evalsha[1]));
    shared.close();
    local.close();
  } finally {
    await link.close();
    await redis.stop();
  }
}

// Alone: its own mock upstream, aisbf from src through tsx.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  const mockPort = await freePort();
  const mock = spawn(process.execPath, ['--import', 'tsx', join(root, 'scripts/bench/mock-upstream.ts'), String(mockPort), '20'], { stdio: 'ignore' });
  const mockBase = `http://127.0.0.1:${mockPort}`;
  try {
    await waitFor(`${mockBase}/health`, mock, 'the mock upstream');
    const rows: string[] = [];
    const addRow: Add = (scenario, metric, before, after, tgt, pass) =>
      rows.push(`| ${scenario} | ${metric} | ${before === undefined ? '' : before.toFixed(3)} | ${after.toFixed(3)} | ${before === undefined ? '' : (after - before).toFixed(3)} | ${tgt ?? ''} | ${pass === undefined ? '' : pass ? 'yes' : 'NO'} |`);
    await benchRedisAdmit(addRow);
    await benchRedis(
      (scenario, metric, before, after, tgt, pass) => rows.push(`| ${scenario} | ${metric} | ${before === undefined ? '' : before.toFixed(3)} | ${after.toFixed(3)} | ${before === undefined ? '' : (after - before).toFixed(3)} | ${tgt ?? ''} | ${pass === undefined ? '' : pass ? 'yes' : 'NO'} |`),
      { aisbfCommand: [process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts')]], mockBase, duration: envNumber('DURATION', 4) },
    );
    process.stdout.write(`| scenario | metric | before | after | Δ | target | met |\n|---|---|---|---|---|---|---|\n${rows.join('\n')}\n`);
  } finally {
    mock.kill('SIGTERM');
  }
}
