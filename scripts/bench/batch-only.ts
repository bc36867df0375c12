/**
 * @module Only the batch rows of `npm run bench` (quicker to iterate on): starts the mock upstream and
 * one daemon, runs `benchBatch`, prints the rows. BATCH_LINES (10000), BATCH_CONCURRENCY (8),
 * SERVER_NODE_OPTIONS as in bench.ts, SERVER_NODE_ARGS (node flags NODE_OPTIONS refuses, e.g. --cpu-prof).
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchBatch } from './batch-bench.js';
import { benchConfigDir, benchProvider, envNumber, freePort, spawnMock, waitUp } from './spawned.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LINES = envNumber('BATCH_LINES', 10_000);
const CONCURRENCY = envNumber('BATCH_CONCURRENCY', 8);

const mockPort = await freePort();
const port = await freePort();
const mockBase = `http://127.0.0.1:${mockPort}`;
const dir = benchConfigDir('aisbf-batch-bench-', { server: { port }, logging: { level: 'info' }, batches: { max_concurrent_lines: CONCURRENCY } }, { mock: benchProvider(`${mockBase}/v1`) });
const mock = spawnMock(mockPort);
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
