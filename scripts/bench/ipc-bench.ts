/**
 * @module Bench rows of `server.workers > 1` without Redis (issue 18): what it costs a worker to ask
 * the primary for a key's limits (rpm + tpm + a parallel slot + budget: one `admitAll` call over
 * node's IPC channel) against the same checks on an in-process store. Sequential (one request at a
 * time: the latency each request pays) and 16 in flight (the primary's throughput).
 * Alone: `node --import tsx scripts/bench/ipc-bench.ts`.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LocalCounterStore, type AdmitPlan } from '../../src/store/counters.js';
import { IpcClient, type IpcCall, type IpcCast } from '../../src/store/ipc-rpc.js';
import { IpcCounterStore } from '../../src/store/ipc-counters.js';
import { ClusterState } from '../../src/server/cluster-state.js';

type Add = (scenario: string, metric: string, before: number | undefined, after: number, target?: string, pass?: boolean) => void;

const N = 4000;
const plan = (i: number): AdmitPlan => ({
  now: Date.now(),
  windowMs: 60_000,
  budget: { key: 'spend:k', period: '2026-12', limit: 1e9 },
  tpm: { key: 'tpm:k', limit: 1e12 },
  slot: { key: 'parallel:k', limit: 1e6 },
  rpm: { key: `rpm:k${i % 8}`, limit: 1e9 },
});

async function child(): Promise<void> {
  const store = new IpcCounterStore(new IpcClient());
  const run = async (inFlight: number) => {
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < N) {
          const i = next++;
          await store.admitAll(plan(i));
          store.releaseSlot('parallel:k');
        }
      }),
    );
    return ((performance.now() - t0) * 1000) / N;
  };
  await run(1); // warm-up
  const seq = await run(1);
  const par = await run(16);
  process.send!({ aisbf: 'result', seq, par });
}

export async function benchIpc(add: Add): Promise<void> {
  const local = new LocalCounterStore();
  for (let i = 0; i < 500; i++) local.admitAll(plan(i));
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    local.admitAll(plan(i));
    local.releaseSlot('parallel:k');
  }
  const localUs = ((performance.now() - t0) * 1000) / N;
  local.close();

  const state = new ClusterState({});
  const c = fork(fileURLToPath(import.meta.url), ['--child'], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const result = await new Promise<{ seq: number; par: number }>((resolve, reject) => {
    c.on('message', (m: IpcCall | IpcCast | { aisbf: 'result'; seq: number; par: number }) => {
      if (m.aisbf === 'result') resolve(m);
      else state.handle(1, m, (r) => c.send(r));
    });
    c.once('exit', (code) => reject(new Error(`the bench child exited with ${code}`)));
  });
  c.kill();
  state.close();
  const r2 = (v: number) => Math.round(v * 100) / 100;
  add('key limits in a cluster worker (rpm+tpm+slot+budget)', 'µs/request, one at a time (in-process → IPC to primary)', r2(localUs), r2(result.seq));
  add('key limits in a cluster worker (rpm+tpm+slot+budget)', 'µs/request, 16 in flight (IPC to primary)', undefined, r2(result.par));
}

if (process.argv.includes('--child')) void child();
else if (import.meta.url === `file://${process.argv[1]}`) {
  void benchIpc((s, m, b, a) => process.stdout.write(`${s} | ${m} | ${b ?? ''} | ${a}\n`));
}
