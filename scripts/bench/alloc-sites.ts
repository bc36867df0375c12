/**
 * @module `node --import tsx scripts/bench/alloc-sites.ts [off|on|floor] [stream]`: where aisbf allocates,
 * by function, in bytes per request (`floor`: the floor proxy, for node's own share). `ALLOC=1 ab.ts` gives the total a request allocates; this says
 * which code allocates it. One aisbf (everything off, or on as in the bench) runs with the
 * alloc-on-signal.mjs preload behind a mock upstream; after WARMUP seconds (10) at CONCURRENCY (4),
 * V8's sampling heap profiler counts every allocation (collected objects included) for SECONDS (6),
 * and the TOP (40) functions are printed by the bytes they allocated themselves, per request. The
 * sampling is statistical (one sample per ALLOC_SITES_INTERVAL bytes, 512): sites under ~50 bytes a
 * request are noise. Async functions' own figures include their promises and frames.
 * `ALLOC_SITES_PROMOTED=1` counts only what outlived the young generation's collections (promoted to
 * the old space, or alive at the end): what grows the old space between full collections, which is
 * where the c=64 peak comes from (with CONCURRENCY=64). `relay` drives a Messages stream to an
 * Anthropic-type provider instead (the pass-through relay).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closedLoop } from './load.js';
import { BENCH_MESSAGES, benchAnthropicProvider, benchChatBody, benchConfigDir, benchProvider, relayBody, createBenchKey, envNumber, EVERYTHING_ON, freePort, scrapeMetricsEverySecond, spawnMock, waitUp } from './spawned.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const on = process.argv[2] === 'on';
const floor = process.argv[2] === 'floor';
const stream = process.argv[3] === 'stream';
const relay = process.argv[3] === 'relay';
const WARMUP = envNumber('WARMUP', 10);
const SECONDS = envNumber('SECONDS', 6);
const CONCURRENCY = envNumber('CONCURRENCY', 4);
const TOP = envNumber('TOP', 40);

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  selfSize: number;
  children?: ProfileNode[];
}

/** Bytes allocated by each function itself (not its callees), summed over the profile's tree. */
export function bytesByFunction(head: ProfileNode): Map<string, number> {
  const out = new Map<string, number>();
  const stack = [head];
  while (stack.length) {
    const n = stack.pop()!;
    const f = n.callFrame;
    if (n.selfSize) {
      const where = f.url ? `${f.url.replace(/^file:\/\/\/.*?\/(dist|node_modules)\//, '$1/')}:${f.lineNumber + 1}:${f.columnNumber + 1}` : '(native)';
      const key = `${f.functionName || '(anonymous)'} ${where}`;
      out.set(key, (out.get(key) ?? 0) + n.selfSize);
    }
    if (n.children) stack.push(...n.children);
  }
  return out;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'aisbf-alloc-'));
  const out = join(work, 'profile.json');
  const mockPort = await freePort();
  const mock = spawnMock(mockPort, 20);
  const port = await freePort();
  const dir = benchConfigDir('aisbf-alloc-cfg-', { server: { port }, logging: { level: 'info' }, ...(on ? EVERYTHING_ON : {}) }, {
    mock: benchProvider(`http://127.0.0.1:${mockPort}/v1`),
    claude: benchAnthropicProvider(`http://127.0.0.1:${mockPort}`),
  });
  const key = on ? createBenchKey(dir) : undefined;
  const server = floor ? [join(ROOT, 'scripts/bench/floor-proxy.mjs'), String(port), `http://127.0.0.1:${mockPort}`] : [join(ROOT, 'bin/aisbf.js')];
  const child = spawn(process.execPath, ['--import', join(ROOT, 'scripts/bench/alloc-on-signal.mjs'), ...server], {
    env: { ...process.env, AISBF_CONFIG_DIR: dir, ALLOC_SITES_OUT: out },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await waitUp(`http://127.0.0.1:${mockPort}/health`, mock);
    const origin = `http://127.0.0.1:${port}`;
    await waitUp(`${origin}/health`, child, 'aisbf');
    const body = relay ? relayBody(BENCH_MESSAGES) : benchChatBody(stream);
    const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
    const target = { name: 'aisbf', origin, path: relay ? '/api/claude/messages' : '/api/mock/chat/completions', body, headers };
    // As in the bench's everything-on instance: /metrics scraped once a second.
    const stopScraping = on ? scrapeMetricsEverySecond(origin, headers) : () => {};
    await closedLoop(target, CONCURRENCY, WARMUP, stream);
    child.kill('SIGUSR2');
    const s = await closedLoop(target, CONCURRENCY, SECONDS, stream);
    child.kill('SIGUSR2');
    stopScraping();
    for (let i = 0; i < 100 && !existsSync(out); i++) await new Promise((r) => setTimeout(r, 100));
    if (!existsSync(out)) throw new Error('aisbf wrote no allocation profile');
    const sites = bytesByFunction((JSON.parse(readFileSync(out, 'utf8')) as { head: ProfileNode }).head);
    const total = [...sites.values()].reduce((a, b) => a + b, 0);
    process.stdout.write(`${floor ? 'the floor' : on ? 'everything on' : 'everything off'}${stream ? ', streamed' : relay ? ', relayed Messages streams' : ''}: ${s.ok} requests, ${(total / s.ok / 1024).toFixed(1)} KB allocated a request (sampled)\n`);
    for (const [k, v] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
      process.stdout.write(`${(v / s.ok).toFixed(0).padStart(7)} B  ${((100 * v) / total).toFixed(1).padStart(4)}%  ${k}\n`);
    }
  } finally {
    child.kill('SIGTERM');
    mock.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`alloc-sites failed: ${(err as Error).message}\n`);
  process.exit(1);
});
