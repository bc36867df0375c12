/**
 * @module `node --import tsx scripts/bench/instructions.ts [target …]`: instructions per request,
 * counted by valgrind's callgrind — the figure that does not move with a noisy host. CPU time on a
 * shared 2-core VM moves ±30% run to run; this moves ±1–2%, so a change of a few percent shows.
 *
 * Each target runs alone under `valgrind --tool=callgrind --instr-atstart=no` with `node
 * --single-threaded` (V8's compiler and GC work on the main thread, in a fixed order), behind the
 * same mock upstream (run natively). WARMUP requests first, uncounted; then counting is switched on
 * (`callgrind_control -i on`) for REQUESTS requests at CONCURRENCY, and the counts are dumped.
 *
 * Targets: `floor` (scripts/bench/floor-proxy.mjs), `off` (aisbf, everything off), `on` (a key with
 * limits, accounting, the admission stage), `stream` (streamed chat, everything off), `long` (the
 * mock's `/long/` streams: 5× the chunks); `floor-stream` and `floor-long` drive the floor with the
 * same streams. When a stream and its long kind both ran for one build, the instructions of one extra
 * chunk are printed (long − stream, over the extra chunks). The mock writes a stream's chunks at
 * once, so those arrive in one socket read; `paced` (and `floor-paced`) asks for the mock's `/slow/`
 * streams instead, one chunk every 10 ms in a read of its own, as a model's tokens come (≈0.25 s a
 * request: give it a smaller WARMUP and REQUESTS, e.g. 600 and 300). `relay` sends a Messages stream
 * to an Anthropic provider, which aisbf relays byte for byte (the pass-through path of Claude Code);
 * `relay-paced` the same from the mock's `/slow/` (an event per read, 26 a stream); `floor-relay` pipes
 * the `relay` request through the floor. `responses-stream` and `messages-stream` ask for the same
 * chat stream through the Responses and Messages APIs, translated (the bench's "stream over chat"
 * rows). `<dir>:off` etc. runs another built checkout (e.g. a worktree of the base); `off::<node flags>`
 * runs a target with node flags of its own (`'off::--max-semi-space-size=1'`). Default: `floor off`.
 *
 * Printed per target: instructions per request, the same without compilation (V8's optimizing and
 * baseline compilers, the parser: work a longer warm-up would have finished, and which depends on
 * when tiering happened), and both as ratios to the floor's when it ran. `FUNCTIONS=N` also prints the
 * N costliest JavaScript functions (own instructions plus the native work they call; see
 * callgrind-profile.ts) from a `--perf-basic-prof` map; `NATIVE=N` the N costliest native functions
 * (V8's runtime and builtins, libc, SQLite). Needs valgrind (Debian: valgrind).
 *
 * Instructions are not time: cache misses, the kernel's socket work and other threads' cycles are
 * not in them. They are the part of CPU per request our code decides.
 *
 * `CACHE=1` adds valgrind's cache and branch simulation (the last level simulated at this CPU's
 * second-level size) and prints each target's misses per request and valgrind's cycle estimate, with
 * its ratio to the floor's: where instructions run slower. The simulation runs twice as slow, and
 * time-driven work (V8's tiering, timers) grows with it: compare targets of one run only.
 *
 * `KEEP=<dir>` keeps each target's dump there, for `callgrind_annotate --tree=caller <file>` (who calls
 * a native function, which the summary does not say when the caller is native too).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMPILE, summarizeCallgrind, type CallgrindSummary } from './callgrind-profile.js';
import { BENCH_MESSAGES, benchAnthropicProvider, benchChatBody, benchMessagesBody, benchResponsesBody, benchConfigDir, benchProvider, relayBody, createBenchKey, envNumber, EVERYTHING_ON, freePort, longExtraChunks, spawnMock, waitUp } from './spawned.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const WARMUP = envNumber('WARMUP', 8000);
const REQUESTS = envNumber('REQUESTS', 4000);
const CONCURRENCY = envNumber('CONCURRENCY', 4);
const FUNCTIONS = envNumber('FUNCTIONS', 0);
const NATIVE = envNumber('NATIVE', 0);
const NODE = process.env.NODE_BIN || process.execPath;
/** A directory to keep each target's callgrind dump in (`callgrind_annotate --tree=caller` reads it). */
const KEEP = process.env.KEEP ? resolve(process.env.KEEP) : undefined;
/**
 * `CACHE=1`: valgrind's cache and branch simulation too, for the misses a request makes. The simulated
 * last level is this CPU's second-level cache (getconf), not the third level this VM reports (512 MB,
 * shared with other guests): past the second level a miss costs tens of cycles.
 */
const CACHE = process.env.CACHE === '1';
function simulatedCaches(): string[] {
  const conf = (k: string) => Number(spawnSync('getconf', [k], { encoding: 'utf8' }).stdout.trim()) || 0;
  const [size, assoc, line] = [conf('LEVEL2_CACHE_SIZE'), conf('LEVEL2_CACHE_ASSOC'), conf('LEVEL2_CACHE_LINESIZE')];
  return ['--cache-sim=yes', '--branch-sim=yes', ...(size && assoc && line ? [`--LL=${size},${assoc},${line}`] : [])];
}

const MODES = ['floor', 'floor-stream', 'floor-long', 'floor-paced', 'off', 'on', 'stream', 'long', 'paced', 'relay', 'relay-paced', 'floor-relay', 'responses-stream', 'messages-stream'] as const;
type Mode = (typeof MODES)[number];
/** Content chunks of the mock's ordinary stream (spawnMock's argument below). */
const CHUNKS = 20;
/** What each mode sends: a chat request, a stream, a `/long/` stream, or a `/slow/` (paced) one. */
const KIND: Readonly<Record<Mode, 'chat' | 'stream' | 'long' | 'paced' | 'relay' | 'relay-paced' | 'responses' | 'messages'>> = {
  floor: 'chat', 'floor-stream': 'stream', 'floor-long': 'long', 'floor-paced': 'paced', off: 'chat', on: 'chat', stream: 'stream', long: 'long', paced: 'paced', relay: 'relay', 'relay-paced': 'relay-paced', 'floor-relay': 'relay',
  'responses-stream': 'responses', 'messages-stream': 'messages',
};
const isFloor = (m: Mode): boolean => m.startsWith('floor');

/**
 * One request of a mode: its path and body. The floor maps /api/<provider>/… to /v1/…, so its long
 * and paced streams are asked for by the mock's own path; `relay` is a Messages stream to the
 * Anthropic-type provider (`claude`, or `claude-paced` on the mock's /slow/).
 */
function requestOf(mode: Mode): { path: string; body: string } {
  const kind = KIND[mode];
  switch (kind) {
    case 'chat':
    case 'stream':
      return { path: '/api/mock/chat/completions', body: benchChatBody(kind === 'stream') };
    case 'long':
    case 'paced': {
      const prefix = kind === 'long' ? 'long' : 'slow';
      return { path: isFloor(mode) ? `/${prefix}/v1/chat/completions` : `/api/${kind}/chat/completions`, body: benchChatBody(true) };
    }
    case 'relay':
    case 'relay-paced':
      return { path: kind === 'relay' ? '/api/claude/messages' : '/api/claude-paced/messages', body: relayBody(BENCH_MESSAGES) };
    case 'responses':
      return { path: '/v1/responses', body: benchResponsesBody(true) };
    case 'messages':
      return { path: '/v1/messages', body: benchMessagesBody(true) };
  }
}
interface Target {
  label: string;
  root: string;
  mode: Mode;
  /** Node flags of this target alone (`off::--max-semi-space-size=1`). */
  flags: string[];
}

function parseTarget(arg: string): Target {
  const [spec = '', flags = ''] = arg.split('::');
  const m = new RegExp(`^(?:(.+):)?(${MODES.join('|')})$`).exec(spec);
  if (!m) throw new Error(`unknown target "${arg}": ${MODES.join(', ')}, or <dir>:<one of those>, either with ::<node flags>`);
  const root = m[1] ? resolve(m[1]) : ROOT;
  if (!existsSync(join(root, 'bin/aisbf.js'))) throw new Error(`${root} has no bin/aisbf.js (build it first)`);
  return { label: arg, root, mode: m[2] as Mode, flags: flags.split(' ').filter(Boolean) };
}

/** Sends `n` requests, `c` at a time, over keep-alive connections; rejects on any non-200. */
async function send(origin: string, req: { path: string; body: string }, n: number, c: number, auth: string | undefined): Promise<void> {
  const u = new URL(origin);
  const agent = new Agent({ keepAlive: true, maxSockets: c });
  const { path } = req;
  const body = Buffer.from(req.body);
  const headers = { 'content-type': 'application/json', 'content-length': String(body.length), ...(auth ? { authorization: `Bearer ${auth}` } : {}) };
  let sent = 0;
  const one = () =>
    new Promise<void>((res, rej) => {
      const req = request({ agent, host: u.hostname, port: u.port, path, method: 'POST', headers }, (r) => {
        r.resume();
        r.on('end', () => (r.statusCode === 200 ? res() : rej(new Error(`status ${r.statusCode}`))));
      });
      req.on('error', rej);
      req.end(body);
    });
  try {
    await Promise.all(Array.from({ length: c }, async () => {
      while (sent < n) {
        sent++;
        await one();
      }
    }));
  } finally {
    agent.destroy();
  }
}

function control(args: string[]): void {
  const r = spawnSync('callgrind_control', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`callgrind_control ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
}

interface Measured {
  perReq: number;
  perReqNoCompile: number;
  functions: Map<string, number>;
  natives: Map<string, number>;
  jsCallers: Map<string, Map<string, number>>;
  /** With CACHE=1: each simulated event (Ir, I1mr, D1mr, …) per request, all and without compilation. */
  events?: { all: Map<string, number>; noCompile: Map<string, number> };
}

/** Per request, each event summed over the categories `keep` accepts. */
function eventsPerRequest(s: CallgrindSummary, keep: (category: string) => boolean): Map<string, number> {
  const sums = new Array<number>(s.events.length).fill(0);
  for (const [cat, v] of s.eventsByCategory) if (keep(cat)) v.forEach((x, i) => (sums[i]! += x));
  return new Map(s.events.map((n, i) => [n, sums[i]! / REQUESTS]));
}

/**
 * valgrind's own rough cycle estimate (KCachegrind's "Cycle Estimation"): an instruction a cycle, a
 * first-level miss or a mispredicted branch 10, a last-level miss 100. Not this CPU's timing: a way to
 * weigh misses against instructions when two processes' instructions run at different speeds.
 */
const cycleEstimate = (e: Map<string, number>) => {
  const g = (k: string) => e.get(k) ?? 0;
  return g('Ir') + 10 * (g('I1mr') + g('D1mr') + g('D1mw') + g('Bcm') + g('Bim')) + 100 * (g('ILmr') + g('DLmr') + g('DLmw'));
};

async function measure(t: Target, mockPort: number): Promise<Measured> {
  const port = await freePort();
  const work = mkdtempSync(join(tmpdir(), 'aisbf-instr-'));
  const on = t.mode === 'on';
  let key: string | undefined;
  let cmd: string[];
  let env = process.env;
  if (isFloor(t.mode)) cmd = [join(ROOT, 'scripts/bench/floor-proxy.mjs'), String(port), `http://127.0.0.1:${mockPort}`];
  else {
    const mockBase = `http://127.0.0.1:${mockPort}`;
    const dir = benchConfigDir('aisbf-instr-cfg-', { server: { port }, logging: { level: 'info' }, ...(on ? EVERYTHING_ON : {}) }, {
      mock: benchProvider(`${mockBase}/v1`),
      long: benchProvider(`${mockBase}/long/v1`),
      paced: benchProvider(`${mockBase}/slow/v1`),
      claude: benchAnthropicProvider(mockBase),
      'claude-paced': benchAnthropicProvider(`${mockBase}/slow`),
    });
    if (on) key = createBenchKey(dir);
    cmd = [join(t.root, 'bin/aisbf.js')];
    env = { ...process.env, AISBF_CONFIG_DIR: dir };
  }
  const out = join(work, 'callgrind.out');
  const nodeFlags = ['--single-threaded', ...(FUNCTIONS ? ['--perf-basic-prof'] : []), ...t.flags];
  const child: ChildProcess = spawn('valgrind', ['--tool=callgrind', '--instr-atstart=no', ...(CACHE ? simulatedCaches() : []), `--callgrind-out-file=${out}`, NODE, ...nodeFlags, ...cmd], { stdio: ['ignore', 'ignore', 'pipe'], env, cwd: work });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const origin = `http://127.0.0.1:${port}`;
  try {
    await waitUp(`${origin}/health`, child, t.label, undefined, 180_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${stderr}`);
    });
    const req = requestOf(t.mode);
    await send(origin, req, WARMUP, CONCURRENCY, key);
    control(['-i', 'on', String(child.pid)]);
    await send(origin, req, REQUESTS, CONCURRENCY, key);
    control(['-d', String(child.pid)]);
    const dumped = readdirSync(work).find((f) => /^callgrind\.out\.\d+$/.test(f));
    if (!dumped) throw new Error(`no callgrind dump in ${work}`);
    const perfMap = FUNCTIONS ? `/tmp/perf-${child.pid}.map` : undefined;
    const s = summarizeCallgrind(join(work, dumped), perfMap && existsSync(perfMap) ? perfMap : undefined);
    if (KEEP) {
      mkdirSync(KEEP, { recursive: true });
      const kept = join(KEEP, `callgrind.${t.label.replace(/[^\w.-]+/g, '_')}.out`);
      copyFileSync(join(work, dumped), kept);
      if (perfMap && existsSync(perfMap)) copyFileSync(perfMap, `${kept}.perf-map`);
      process.stdout.write(`${t.label}: kept ${kept}\n`);
    }
    if (perfMap) rmSync(perfMap, { force: true });
    const compile = s.byCategory.get(COMPILE) ?? 0;
    const cats = [...s.byCategory].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${((100 * v) / s.total).toFixed(1)}%`).join(', ');
    process.stdout.write(`${t.label}: ${cats}\n`);
    const events = CACHE ? { all: eventsPerRequest(s, () => true), noCompile: eventsPerRequest(s, (c) => c !== COMPILE) } : undefined;
    return { perReq: s.total / REQUESTS, perReqNoCompile: (s.total - compile) / REQUESTS, functions: s.byFunction, natives: s.byNative, jsCallers: s.jsCallers, events };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (spawnSync('valgrind', ['--version']).status !== 0) throw new Error('valgrind not found: install it (Debian: apt-get install valgrind)');
  const targets = (process.argv.slice(2).length ? process.argv.slice(2) : ['floor', 'off']).map(parseTarget);
  const mockPort = await freePort();
  const mock = spawnMock(mockPort, CHUNKS);
  try {
    await waitUp(`http://127.0.0.1:${mockPort}/health`, mock);
    process.stdout.write(`warm-up ${WARMUP}, counted ${REQUESTS}, concurrency ${CONCURRENCY}\n`);
    const results: Array<[Target, Measured]> = [];
    for (const t of targets) results.push([t, await measure(t, mockPort)]);
    const floor = results.find(([t]) => t.mode === 'floor')?.[1];
    const ratioTo = (t: Target) => (isFloor(t.mode) ? undefined : floor);
    const k = (n: number) => `${(n / 1000).toFixed(1)} k`;
    process.stdout.write(`\n${'target'.padEnd(24)} ${'instr/req'.padStart(12)} ${'no compile'.padStart(12)} ${'÷ floor'.padStart(8)} ${'(no compile)'.padStart(12)}\n`);
    for (const [t, m] of results) {
      const base = KIND[t.mode] === 'chat' ? ratioTo(t) : undefined;
      const ratio = base ? `${(m.perReq / base.perReq).toFixed(2)}×` : '';
      const ratioNc = base ? `${(m.perReqNoCompile / base.perReqNoCompile).toFixed(2)}×` : '';
      process.stdout.write(`${t.label.padEnd(24)} ${k(m.perReq).padStart(12)} ${k(m.perReqNoCompile).padStart(12)} ${ratio.padStart(8)} ${ratioNc.padStart(12)}\n`);
    }
    if (CACHE) {
      // The misses behind instructions that run slower than another process's, which this VM's
      // absent hardware counters cannot show.
      const names = ['Ir', 'I1mr', 'ILmr', 'D1mr', 'D1mw', 'DLmr', 'DLmw', 'Bcm', 'Bim'];
      process.stdout.write(`\nsimulated cache events per request (I1/D1: first level, IL/DL: the simulated last level; mr/mw: read/write misses; Bcm/Bim: mispredicted conditional/indirect branches)\n${'target'.padEnd(32)}${names.map((n) => n.padStart(9)).join('')}${'cycles≈'.padStart(10)}${'÷ floor'.padStart(9)}\n`);
      for (const kind of ['all', 'noCompile'] as const) {
        const floorEst = floor?.events ? cycleEstimate(floor.events[kind]) : undefined;
        for (const [t, m] of results) {
          if (!m.events) continue;
          const e = m.events[kind];
          const est = cycleEstimate(e);
          const ratio = floorEst && KIND[t.mode] === 'chat' && !isFloor(t.mode) ? `${(est / floorEst).toFixed(2)}×` : '';
          process.stdout.write(`${`${t.label}${kind === 'noCompile' ? ' (no compile)' : ''}`.padEnd(32)}${names.map((n) => (e.get(n) ?? 0).toFixed(0).padStart(9)).join('')}${est.toFixed(0).padStart(10)}${ratio.padStart(9)}\n`);
        }
      }
    }
    // One extra chunk: a long stream less the ordinary one of the same build, over the extra chunks.
    for (const [t, m] of results) {
      if (KIND[t.mode] !== 'long') continue;
      const shortMode = t.mode === 'long' ? 'stream' : 'floor-stream';
      const short = results.find(([s]) => s.root === t.root && s.mode === shortMode)?.[1];
      if (!short) continue;
      const per = (a: number, b: number) => ((a - b) / longExtraChunks(CHUNKS)).toFixed(0);
      process.stdout.write(`${t.label}: one extra chunk ${per(m.perReq, short.perReq)} instructions (${per(m.perReqNoCompile, short.perReqNoCompile)} without compile)\n`);
    }
    const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
    if (NATIVE) {
      for (const [t, m] of results) {
        process.stdout.write(`\n${t.label}: native functions by own instructions per request\n`);
        for (const [name, v] of top(m.natives, NATIVE)) {
          process.stdout.write(`${(v / REQUESTS).toFixed(0).padStart(9)}  ${name.slice(0, 160)}\n`);
          // With FUNCTIONS: who calls it from JavaScript (the calls' whole cost, so callers of a re-entering native overlap).
          for (const [caller, c] of top(m.jsCallers.get(name) ?? new Map(), 4)) process.stdout.write(`${''.padStart(13)}${(c / REQUESTS).toFixed(0).padStart(7)}  ← ${caller.replace(/file:\/\/\/.*?\/(dist|node_modules)\//, '')}\n`);
        }
      }
    }
    if (FUNCTIONS) {
      for (const [t, m] of results) {
        process.stdout.write(`\n${t.label}: JavaScript functions by own instructions per request (incl. the native work they call)\n`);
        for (const [name, v] of top(m.functions, FUNCTIONS)) process.stdout.write(`${(v / REQUESTS).toFixed(0).padStart(9)}  ${name.replace(/file:\/\/\/.*?\/(dist|node_modules)\//, '')}\n`);
      }
    }
  } finally {
    mock.kill('SIGTERM');
  }
}

main().catch((err) => {
  process.stderr.write(`instructions failed: ${(err as Error).message}\n`);
  process.exit(1);
});
