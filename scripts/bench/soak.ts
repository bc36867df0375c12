/**
 * @module `npm run bench -- --soak` (or `node --import tsx scripts/bench/soak.ts`): the issue-21 soak.
 * One aisbf under a mixed open-loop load at RATE req/s (default 200) for SOAK_SECONDS (default 600):
 * chat JSON, streams, streams the client leaves after the first bytes (on a paced upstream), client
 * errors (bad JSON, an unknown model) and upstream errors (a provider whose upstream answers 404).
 * After a warm-up (60 s, or a tenth of the run) and at the end it forces a full GC in aisbf (a bench-only
 * preload, gc-on-signal.mjs, with --expose-gc) and compares the RSS: target flat, ≤ +10%.
 * Every 30 s it also reads /proc/<pid>/smaps, so native growth (glibc's main arena) shows apart from
 * V8's. SOAK_TRIM=1 (needs gdb and ptrace) then calls glibc's malloc_trim(0) in aisbf at the end: what
 * RSS falls by was free memory the allocator kept, not anything live; glibc's malloc_stats() before
 * and after (on aisbf's stderr) gives each arena's system and in-use bytes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, existsSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rssByMapping, rssMb } from './proc-stats.js';
import { benchChatBody, benchConfigDir, benchProvider, envNumber, freePort, spawnMock, waitUp as up } from './spawned.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const RATE = envNumber('RATE', 200);
const SECONDS = envNumber('SOAK_SECONDS', 600);
const WARM = Math.min(60, Math.max(5, SECONDS / 10));
const NODE = process.env.NODE_BIN || process.execPath;

type Kind = 'chat' | 'stream' | 'aborted stream' | 'bad json' | 'unknown model' | 'upstream 404';
/** The mix, in twentieths: 10 chat, 5 streams, 2 aborted streams, 1 of each error. */
const DEFAULT_MIX: Kind[] = [...Array<Kind>(10).fill('chat'), ...Array<Kind>(5).fill('stream'), 'aborted stream', 'aborted stream', 'bad json', 'unknown model', 'upstream 404'];
/** SOAK_MIX=chat,stream narrows the mix to those kinds (in the default's proportions), to tell which one grows memory. */
const ONLY = process.env.SOAK_MIX?.split(',').map((k) => k.trim());
const unknownKinds = ONLY?.filter((k) => !DEFAULT_MIX.includes(k as Kind)) ?? [];
if (unknownKinds.length) {
  process.stderr.write(`SOAK_MIX: unknown kind ${unknownKinds.map((k) => JSON.stringify(k)).join(', ')}; the kinds are ${[...new Set(DEFAULT_MIX)].join(', ')}\n`);
  process.exit(2);
}
const MIX = ONLY ? DEFAULT_MIX.filter((k) => ONLY.includes(k)) : DEFAULT_MIX;
const chat = (model: string, stream = false) => benchChatBody(stream, model);

function send(agent: Agent, port: number, kind: Kind): Promise<number | string> {
  const [path, body] =
    kind === 'chat' ? ['/api/mock/chat/completions', chat('gpt-4o-mini')]
    : kind === 'stream' ? ['/api/mock/chat/completions', chat('gpt-4o-mini', true)]
    : kind === 'aborted stream' ? ['/api/slow/chat/completions', chat('gpt-4o-mini', true)]
    : kind === 'bad json' ? ['/api/mock/chat/completions', '{"model": "gpt-4o-mini", "messages": [']
    : kind === 'unknown model' ? ['/api/nobody/chat/completions', chat('gpt-4o-mini')]
    : ['/api/broken/chat/completions', chat('gpt-4o-mini')];
  return new Promise((done) => {
    const req = request({ agent, host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      if (kind === 'aborted stream') {
        res.once('data', () => {
          req.destroy();
          done(499);
        });
      } else res.resume();
      res.on('end', () => done(res.statusCode ?? 0));
      res.on('error', () => done(res.statusCode ?? 0));
    });
    req.on('error', (err) => done((err as NodeJS.ErrnoException).code ?? 'error'));
    // A bare req.destroy() surfaces as ECONNRESET "socket hang up": our own timeout would be counted
    // as a reset from aisbf. Name it, so a starved machine shows as timeouts, not resets.
    req.setTimeout(15_000, () => req.destroy(Object.assign(new Error('no byte for 15 s'), { code: 'client timeout (15 s idle)' })));
    req.end(body);
  });
}

async function main(): Promise<void> {
  const mockPort = await freePort(), port = await freePort();
  const mockBase = `http://127.0.0.1:${mockPort}`;
  const dir = benchConfigDir('aisbf-soak-', { server: { port }, logging: { level: 'info' } }, {
    mock: benchProvider(`${mockBase}/v1`),
    slow: benchProvider(`${mockBase}/slow/v1`),
    broken: benchProvider(`${mockBase}/nope/v1`),
  });
  const gcOut = join(dir, 'gc.jsonl');
  const mock = spawnMock(mockPort, 20);
  const nodeOptions = `--expose-gc --import ${join(ROOT, 'scripts/bench/gc-on-signal.mjs')} ${process.env.SERVER_NODE_OPTIONS ?? ''}`.trim();
  const aisbf = spawn(NODE, [join(process.env.AISBF_ROOT || ROOT, 'bin/aisbf.js')], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, AISBF_CONFIG_DIR: dir, NODE_OPTIONS: nodeOptions, SOAK_GC_OUT: gcOut } });
  type Mem = { rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number };
  const forcedGc = async (): Promise<Mem> => {
    const before = existsSync(gcOut) ? readFileSync(gcOut, 'utf8').trim().split('\n').length : 0;
    aisbf.kill('SIGUSR2');
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const lines = existsSync(gcOut) ? readFileSync(gcOut, 'utf8').trim().split('\n') : [];
      if (lines.length > before) return JSON.parse(lines.at(-1)!) as Mem;
    }
    throw new Error('aisbf did not answer the forced GC (SIGUSR2)');
  };
  try {
    await up(`${mockBase}/health`, mock);
    await up(`http://127.0.0.1:${port}/health`, aisbf);
    // `timeout` makes the agent drop idle sockets, and honour aisbf's `Keep-Alive: timeout=N` hint
    // (node ignores the hint without it): else a socket aisbf idle-closed can be reused as it closes.
    const agent = new Agent({ keepAlive: true, maxSockets: 512, timeout: 30_000 });
    const counts = new Map<string, number>();
    const pending = new Set<Promise<void>>();
    const t0 = performance.now();
    let afterWarm: Mem | undefined;
    let peak = 0;
    const samples: string[] = [];
    for (let i = 0; ; i++) {
      const due = t0 + (i * 1000) / RATE;
      if (due - t0 >= SECONDS * 1000) break;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const kind = MIX[i % MIX.length]!;
      const p = send(agent, port, kind).then((status) => {
        const k = `${kind} ${status}`;
        counts.set(k, (counts.get(k) ?? 0) + 1);
        pending.delete(p);
      });
      pending.add(p);
      if (i % RATE === 0) {
        const s = Math.round((due - t0) / 1000);
        const rss = rssMb(aisbf.pid!);
        peak = Math.max(peak, rss);
        if (s % 30 === 0) {
          const m = rssByMapping(aisbf.pid!);
          samples.push(`${s}s ${rss.toFixed(0)}MB (main arena ${m.mainArena.toFixed(1)}, other anon ${m.anon.toFixed(0)})`);
        }
        if (!afterWarm && s >= WARM) afterWarm = await forcedGc();
      }
    }
    await Promise.all(pending);
    const end = await forcedGc();
    agent.destroy();
    const mb = (b: number) => (b / 1048576).toFixed(1);
    const trimmed = process.env.SOAK_TRIM === '1' ? mallocTrim(aisbf.pid!) : '';
    const growth = afterWarm ? (100 * (end.rss - afterWarm.rss)) / afterWarm.rss : NaN;
    process.stdout.write(`soak: ${RATE} req/s for ${SECONDS} s, ${[...counts].map(([k, v]) => `${k}: ${v}`).join(', ')}\n`);
    process.stdout.write(`RSS over time (not GC'd): ${samples.join(', ')}; peak ${peak.toFixed(0)} MB\n`);
    process.stdout.write(`after a forced GC: at ${WARM} s RSS ${mb(afterWarm!.rss)} MB (heap used/total ${mb(afterWarm!.heapUsed)}/${mb(afterWarm!.heapTotal)} MB, external ${mb(afterWarm!.external)} MB, array buffers ${mb(afterWarm!.arrayBuffers)} MB), at the end RSS ${mb(end.rss)} MB (heap ${mb(end.heapUsed)}/${mb(end.heapTotal)} MB, external ${mb(end.external)} MB, array buffers ${mb(end.arrayBuffers)} MB): ${growth >= 0 ? '+' : ''}${growth.toFixed(1)}% (target ≤ +10%: ${growth <= 10 ? 'met' : 'NOT met'})\n`);
    if (trimmed) process.stdout.write(`${trimmed}\n`);
  } finally {
    if (aisbf.exitCode === null) aisbf.kill('SIGTERM');
    mock.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Asks glibc to hand free heap pages back (gdb attaches for a moment); reports RSS and the main arena around it. */
function mallocTrim(pid: number): string {
  const before = rssByMapping(pid);
  const rss0 = rssMb(pid);
  const gdb = spawnSync('gdb', ['-p', String(pid), '-batch', '-ex', 'call (void) malloc_stats()', '-ex', 'call (int) malloc_trim(0)', '-ex', 'call (void) malloc_stats()'], { encoding: 'utf8', timeout: 60_000 });
  if (gdb.status !== 0) return `malloc_trim: gdb failed (${gdb.error?.message ?? gdb.stderr.trim().split('\n').at(-1)})`;
  const after = rssByMapping(pid);
  return `malloc_trim(0): RSS ${rss0.toFixed(1)} → ${rssMb(pid).toFixed(1)} MB, main arena ${before.mainArena.toFixed(1)} → ${after.mainArena.toFixed(1)} MB, other anon ${before.anon.toFixed(1)} → ${after.anon.toFixed(1)} MB`;
}

main().catch((err) => {
  process.stderr.write(`soak failed: ${(err as Error).message}\n`);
  process.exit(1);
});
