/**
 * @module Only the batch rows of `npm run bench` (quicker to iterate on): starts the mock upstream and
 * one daemon, runs `benchBatch`, prints the rows. BATCH_LINES (10000), BATCH_CONCURRENCY (8),
 * SERVER_NODE_OPTIONS as in bench.ts, SERVER_NODE_ARGS (node flags NODE_OPTIONS refuses, e.g. --cpu-prof).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchBatch } from './batch-bench.js';
import { freePort, waitUp } from './spawned.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LINES = Number(process.env.BATCH_LINES ?? 10_000);
const CONCURRENCY = Number(process.env.BATCH_CONCURRENCY ?? 8);

const mockPort = await freePort();
const port = await freePort();
const dir = mkdtempSync(join(tmpdir(), 'aisbf-batch-bench-'));
const mockBase = `http://127.0.0.1:${mockPort}`;
writeFileSync(join(dir, 'aisbf.json'), JSON.stringify({ server: { port }, logging: { level: 'info' }, batches: { max_concurrent_lines: CONCURRENCY } }));
writeFileSync(join(dir, 'providers.json'), JSON.stringify({ providers: { mock: { type: 'openai', endpoint: `${mockBase}/v1`, api_key: 'sk-bench', models: [{ name: 'gpt-4o-mini', capabilities: ['chat'] }] } } }));
writeFileSync(join(dir, 'rotations.json'), '{}');
writeFileSync(join(dir, 'autoselect.json'), '{}');
const mock = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/bench/mock-upstream.ts'), String(mockPort)], { stdio: 'ignore' });
const env = { ...process.env, AISBF_CONFIG_DIR: dir, ...(process.env.SERVER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.SERVER_NODE_OPTIONS } : {}) };
const aisbf = spawn(process.execPath, [...(process.env.SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? []), join(ROOT, 'bin/aisbf.js')], { env, stdio: ['ignore', process.env.SERVER_STDOUT ? 'inherit' : 'ignore', 'inherit'], cwd: dir });
try {
  await waitUp(`${mockBase}/health`, mock, 'the mock upstream');
  await waitUp(`http://127.0.0.1:${port}/health`, aisbf, 'aisbf');
  await benchBatch({
    origin: `http://127.0.0.1:${port}`,
    pid: aisbf.pid!,
    mockBase,
    target: 'mock/gpt-4o-mini',
    upstreamModel: 'gpt-4o-mini',
    lines: LINES,
    concurrency: CONCURRENCY,
    add: (scenario, metric, direct, value) => process.stdout.write(`${metric}: ${direct === undefined ? '' : `${direct.toFixed(1)} → `}${value.toFixed(2)}\n`),
  });
  if (process.env.SOAK_GC_OUT) {
    // With SERVER_NODE_OPTIONS="--expose-gc --import ./scripts/bench/gc-on-signal.mjs": memory after a full GC.
    aisbf.kill('SIGUSR2');
    await new Promise((r) => setTimeout(r, 1500));
  }
} finally {
  if (aisbf.exitCode === null) {
    const gone = new Promise((r) => aisbf.once('exit', r));
    aisbf.kill('SIGTERM');
    await gone;
  }
  mock.kill('SIGTERM');
  if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true });
  else process.stderr.write(`kept ${dir}\n`);
}
