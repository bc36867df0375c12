/**
 * @module `node --import tsx scripts/bench/ab.ts <root> [<root> …]`: alternating A/B rounds of built
 * checkouts (each a directory with bin/aisbf.js and dist/), against one mock upstream. Each round starts
 * every root in turn (everything off), reads its idle RSS two seconds after /health answers, drives it
 * at each CONCURRENCY for SECONDS after a WARMUP-second (1) warm-up, and prints req/s, p50/p99, CPU µs per
 * request and the peak RSS (VmHWM); WARMUP=10 warms longer (the JIT settles over ~10 s). On a noisy 2-core host only figures that separate across ROUNDS (3)
 * are findings. NODE_FLAGS adds node flags to every root; `<root>::<flags>` adds them to one, so
 * `ab.ts $PWD $PWD::--max-semi-space-size=8` compares a flag on the same build; a `NAME=value` there
 * sets an environment variable instead (`$PWD::MALLOC_ARENA_MAX=2`). STREAM=1 drives
 * streamed chat (the mock's 20 chunks) instead, and reports TTFB p50 and time to the last byte;
 * STREAM=long also drives the same stream with 5× the chunks and reports the CPU of one extra chunk
 * (long − short, over the extra chunks). The root `floor` runs the floor proxy (floor-proxy.mjs)
 * instead of a checkout, for the least any Node proxy costs in the same rounds. `<root>::on` runs that
 * root with everything on (bench.ts's instance: a key with limits, accounting, /metrics scraped each
 * second, the admission stage). RATE=2000 drives each root at that fixed rate (open loop) instead of
 * the closed-loop CONCURRENCY levels: CPU per request for the same work, which a closed loop does not
 * give (the faster server serves more requests per wake-up there; docs/performance.md). ALLOC=1 runs
 * each server with `--trace-gc-nvp` and adds the bytes V8 allocated per request in the measured
 * window (the `allocated=` of each collection in it, summed: use SECONDS=10 or more, so the partial
 * young generation at either edge is a few percent at most), and the bytes scavenges promoted to the
 * old space per request (`promoted=`): what fills it until a full collection, so the c=64 peak's lead
 * (a few dozen bytes when nothing outlives its request; a retained queue showed as hundreds).
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closedLoop, median, openLoop, percentile } from './load.js';
import { cpuMs, peakRssMb, rssMb } from './proc-stats.js';
import { EVERYTHING_ON, benchChatBody, benchConfigDir, benchProvider, createBenchKey, envNumber, freePort, longExtraChunks, scrapeMetricsEverySecond, spawnMock, waitUp } from './spawned.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ROUNDS = envNumber('ROUNDS', 3);
const SECONDS = envNumber('SECONDS', 4);
const LEVELS = (process.env.CONCURRENCY ?? '1,16,64').split(',').map(Number);
const RATE = envNumber('RATE', 0);
/** Seconds of c=4 load before each measurement (a fresh daemon's JIT takes ~10 s to settle). */
const WARMUP = envNumber('WARMUP', 1);
const NODE = process.env.NODE_BIN || process.execPath;
const LONG = process.env.STREAM === 'long';
const STREAM = process.env.STREAM === '1' || LONG;
const ALLOC = process.env.ALLOC === '1';
/** Chunks of the mock's ordinary stream; its `/long/` ones have EXTRA_CHUNKS more. */
const CHUNKS = 20;
const EXTRA_CHUNKS = longExtraChunks(CHUNKS);
const roots = process.argv.slice(2).map((arg) => {
  const [root = '', flags = ''] = arg.split('::');
  const words = flags.split(' ').filter(Boolean);
  const isEnv = (w: string) => /^[A-Z_][A-Z0-9_]*=/.test(w);
  const env = Object.fromEntries(words.filter(isEnv).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]));
  return { label: arg, root: resolve(root), flags: words.filter((w) => !isEnv(w) && w !== 'on'), env, on: words.includes('on') };
});
if (roots.length === 0) {
  process.stderr.write('usage: ab.ts <root> [<root>[::<node flags>] …]\n');
  process.exit(2);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function one(root: (typeof roots)[number], mockPort: number): Promise<string> {
  const port = await freePort();
  const mockBase = `http://127.0.0.1:${mockPort}`;
  const dir = benchConfigDir('aisbf-ab-', { server: { port }, logging: { level: 'info' }, ...(root.on ? EVERYTHING_ON : {}) }, { mock: benchProvider(`${mockBase}/v1`), long: benchProvider(`${mockBase}/long/v1`) });
  const headers: Record<string, string> = root.on ? { authorization: `Bearer ${createBenchKey(dir)}` } : {};
  const flags = [...(process.env.NODE_FLAGS?.split(' ').filter(Boolean) ?? []), ...root.flags, ...(ALLOC ? ['--trace-gc-nvp'] : [])];
  const isFloor = root.label === 'floor';
  const args = isFloor ? [...flags, join(ROOT, 'scripts/bench/floor-proxy.mjs'), String(port), mockBase] : [...flags, join(root.root, 'bin/aisbf.js')];
  const child = spawn(NODE, args, { stdio: ['ignore', ALLOC ? 'pipe' : 'ignore', 'inherit'], env: { ...process.env, ...root.env, AISBF_CONFIG_DIR: dir } });
  // V8's GC trace (ALLOC=1): bytes allocated since the previous collection, and bytes a scavenge
  // promoted to the old space (what grows it between full collections), one line per collection.
  let allocated = 0;
  let promoted = 0;
  if (ALLOC) {
    let rest = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        const m = / allocated=(\d+)/.exec(line);
        if (m) allocated += Number(m[1]);
        const p = / promoted=(\d+)/.exec(line);
        if (p) promoted += Number(p[1]);
      }
    });
  }
  try {
    await waitUp(`http://127.0.0.1:${port}/health`, child);
    await sleep(2000);
    const cells = [`idle ${rssMb(child.pid!).toFixed(0)} MB`];
    const body = benchChatBody(STREAM);
    const origin = `http://127.0.0.1:${port}`;
    const target = { name: 'aisbf', origin, path: '/api/mock/chat/completions', body, headers };
    // The floor maps /api/<provider>/… to /v1/…, so its long streams are asked for by the mock's own path.
    const long = { name: 'aisbf', origin, path: isFloor ? '/long/v1/chat/completions' : '/api/long/chat/completions', body, headers };
    const stopScraping = root.on ? scrapeMetricsEverySecond(origin, headers) : undefined;
    // A warm-up at c (c=4 for a fixed rate), then the measured run: closed loop at c, or open loop at RATE.
    const cpuPerRequest = async (t: typeof target, c: number) => {
      await closedLoop(t, c, WARMUP, STREAM);
      const cpu0 = cpuMs(child.pid!);
      const allocated0 = allocated;
      const promoted0 = promoted;
      const s = RATE > 0 ? await openLoop(t, RATE, SECONDS) : await closedLoop(t, c, SECONDS, STREAM);
      return { s, cpu: ((cpuMs(child.pid!) - cpu0) * 1000) / s.ok, kb: (allocated - allocated0) / 1024 / s.ok, promotedB: (promoted - promoted0) / s.ok };
    };
    for (const c of RATE > 0 ? [4] : LEVELS) {
      const { s, cpu, kb, promotedB } = await cpuPerRequest(target, c);
      const ttfb = STREAM && s.ttfb.length ? ` ttfb ${median(s.ttfb).toFixed(2)}` : '';
      const perChunk = LONG ? ` per extra chunk ${(((await cpuPerRequest(long, c)).cpu - cpu) / EXTRA_CHUNKS).toFixed(2)} µs` : '';
      const load = RATE > 0 ? `${RATE}/s:` : `c=${c}: ${(s.ok / s.seconds).toFixed(0)}/s`;
      const alloc = ALLOC ? ` alloc ${kb.toFixed(1)} KB/req promoted ${promotedB.toFixed(0)} B/req` : '';
      cells.push(`${load}${ttfb} p50 ${median(s.lat).toFixed(2)} p99 ${percentile(s.lat, 99).toFixed(2)} cpu ${cpu.toFixed(0)}${alloc}${perChunk}${s.errors ? ` err ${s.errors}` : ''}`);
    }
    stopScraping?.();
    cells.push(`peak ${peakRssMb(child.pid!).toFixed(0)} MB`);
    return cells.join(' | ');
  } finally {
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await gone;
    rmSync(dir, { recursive: true, force: true });
  }
}

const mockPort = await freePort();
const mock = spawnMock(mockPort, CHUNKS);
try {
  await waitUp(`http://127.0.0.1:${mockPort}/health`, mock);
  for (let round = 1; round <= ROUNDS; round++) {
    // Alternate the order each round so neither side always runs first on a warming host.
    const order = round % 2 ? roots : [...roots].reverse();
    for (const r of order) process.stdout.write(`round ${round} ${r.label}: ${await one(r, mockPort)}\n`);
  }
} finally {
  mock.kill('SIGTERM');
}
