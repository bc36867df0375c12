/**
 * @module `node --import tsx scripts/bench/profile.ts [off|on] [stream]`: the hot path under a CPU
 * profiler. Starts the mock upstream and one aisbf (everything off, or everything on: auth with a
 * key with limits, accounting, /metrics scraped each second, an admission limit) under
 * `node --cpu-prof`, drives it at c=4 for SECONDS (default 8) after a warm-up, stops it, and prints
 * where its CPU went after the warm-up: by package and by function (self time). The .cpuprofile
 * stays in PROF_DIR (default /tmp/aisbf-prof) for Chrome DevTools. HEAP=1 adds --heap-prof;
 * PROFILE_REDIS_URL=redis://… puts the shared state on that Redis (storage.redis); CONCURRENCY (4).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closedLoop, median } from './load.js';
import { cpuMs } from './proc-stats.js';
import { benchChatBody, benchConfigDir, benchProvider, createBenchKey, envNumber, EVERYTHING_ON, freePort, scrapeMetricsEverySecond, spawnMock, waitUp as up } from './spawned.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const mode = process.argv[2] === 'on' ? 'on' : 'off';
const stream = process.argv[3] === 'stream';
const SECONDS = envNumber('SECONDS', 8);
const CONCURRENCY = envNumber('CONCURRENCY', 4);
const PROF_DIR = process.env.PROF_DIR ?? '/tmp/aisbf-prof';
const NODE = process.env.NODE_BIN || process.execPath;

/** Self time by key over the samples after `skipUs`. */
function summarize(file: string, skipUs: number, key: (f: { functionName: string; url: string; lineNumber: number }) => string, top: number): string[] {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>; samples: number[]; timeDeltas: number[]; startTime: number };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const agg = new Map<string, number>();
  let t = 0, total = 0;
  prof.samples.forEach((id, i) => {
    const dt = prof.timeDeltas[i] ?? 0;
    t += dt;
    if (t < skipUs) return;
    const k = key(byId.get(id)!.callFrame);
    if (k.startsWith('(idle)')) return;
    total += dt;
    agg.set(k, (agg.get(k) ?? 0) + dt);
  });
  return [`busy ${(total / 1000).toFixed(0)} ms`, ...[...agg].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`)];
}

const pkgOf = (f: { functionName: string; url: string }) => {
  const m = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(f.url);
  if (m) return m[1]!;
  if (f.url.includes('/dist/')) return `aisbf:${f.url.replace(/.*\/dist\//, '').split('/')[0]}`;
  if (f.url.startsWith('node:')) return 'node (js)';
  return f.functionName || '(native)';
};

async function main(): Promise<void> {
  const mockPort = await freePort(), port = await freePort();
  const on = mode === 'on';
  const redis = process.env.PROFILE_REDIS_URL ? { storage: { redis: { url: process.env.PROFILE_REDIS_URL } } } : {};
  const aisbfJson = { server: { port }, logging: { level: 'info' }, ...redis, ...(on ? EVERYTHING_ON : {}) };
  const dir = benchConfigDir('aisbf-prof-', aisbfJson, { mock: benchProvider(`http://127.0.0.1:${mockPort}/v1`) });
  const key = on ? createBenchKey(dir) : '';
  rmSync(PROF_DIR, { recursive: true, force: true });
  mkdirSync(PROF_DIR, { recursive: true });
  const mock = spawnMock(mockPort, 20);
  const flags = ['--cpu-prof', `--cpu-prof-dir=${PROF_DIR}`, ...(process.env.HEAP === '1' ? ['--heap-prof', `--heap-prof-dir=${PROF_DIR}`] : [])];
  const spawnedAt = Date.now();
  const aisbf = spawn(NODE, [...flags, ...(process.env.NODE_FLAGS?.split(' ').filter(Boolean) ?? []), join(ROOT, 'bin/aisbf.js')], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, AISBF_CONFIG_DIR: dir } });
  try {
    await up(`http://127.0.0.1:${mockPort}/health`, mock);
    await up(`http://127.0.0.1:${port}/health`, aisbf);
    const headers = on ? { authorization: `Bearer ${key}` } : undefined;
    const target = { name: 'aisbf', origin: `http://127.0.0.1:${port}`, path: '/api/mock/chat/completions', headers, body: benchChatBody(stream) };
    const stopScraping = headers ? scrapeMetricsEverySecond(`http://127.0.0.1:${port}`, headers) : undefined;
    await closedLoop(target, CONCURRENCY, 2, stream);
    const warmUntil = Date.now();
    const cpu0 = cpuMs(aisbf.pid!);
    const s = await closedLoop(target, CONCURRENCY, SECONDS, stream);
    const cpu = cpuMs(aisbf.pid!) - cpu0;
    stopScraping?.();
    const gone = new Promise((r) => aisbf.once('exit', r));
    aisbf.kill('SIGINT');
    await gone;
    const file = join(PROF_DIR, readdirSync(PROF_DIR).find((f) => f.endsWith('.cpuprofile'))!);
    // The profiler starts with the process: skip what ran before the measured loop (start, warm-up).
    const skipUs = (warmUntil - spawnedAt) * 1000;
    process.stdout.write(`${mode}${stream ? ' stream' : ''}: ${s.ok} ok, ${s.errors} errors, p50 ${median(s.lat).toFixed(2)} ms, CPU ${((cpu * 1000) / s.ok).toFixed(0)} µs/req (incl. kernel)\nprofile: ${file}\n`);
    process.stdout.write(`\nby package (self time, after warm-up):\n${summarize(file, skipUs, pkgOf, 15).join('\n')}\n`);
    process.stdout.write(`\nby function:\n${summarize(file, skipUs, (f) => `${f.functionName || '(anon)'} ${f.url.replace(/.*\/(dist|node_modules)\//, '')}:${f.lineNumber}`, 30).join('\n')}\n`);
  } finally {
    if (aisbf.exitCode === null) aisbf.kill('SIGTERM');
    mock.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`profile failed: ${(err as Error).message}\n`);
  process.exit(1);
});
