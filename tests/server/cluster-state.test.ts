/**
 * The cluster primary's shared state, driven as the workers drive it (call/cast messages, replies
 * through a callback): what a dead worker held goes back, and a cancelled waiter leaves the queue.
 * The end-to-end behaviour over real worker processes is in cluster-limits.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterState } from '../../src/server/cluster-state.js';
import type { IpcCall, IpcCast, IpcReply } from '../../src/store/ipc-rpc.js';
import type { AdmitPlan } from '../../src/store/counters.js';
import type { Granted, WireCandidate } from '../../src/admission/ipc-admission.js';

let state: ClusterState;
let seq = 0;
afterEach(() => state?.close());

/** A worker's call, answered through the same path a real worker's reply takes. */
function call<T>(worker: number, op: string, args: unknown[]): { id: number; reply: Promise<IpcReply & { value?: T }> } {
  const id = ++seq;
  const reply = new Promise<IpcReply & { value?: T }>((resolve) => state.handle(worker, { aisbf: 'call', id, op, args } satisfies IpcCall, (r) => resolve(r as IpcReply & { value?: T })));
  return { id, reply };
}
const cast = (worker: number, op: string, args: unknown[]) => state.handle(worker, { aisbf: 'cast', op, args } satisfies IpcCast, () => undefined);

const plan: AdmitPlan = { now: Date.now(), windowMs: 60_000, slot: { key: 'parallel:k', limit: 1 } };
const slow: WireCandidate = { key: 'up/slow', providerId: 'up', model: { maxConcurrent: 1 } };

describe('cluster primary state', () => {
  it("gives a key's parallel slot back when the worker holding it dies", async () => {
    state = new ClusterState({});
    expect((await call(1, 'ctr.admitAll', [plan]).reply).value).toEqual({ ok: true });
    expect((await call(2, 'ctr.admitAll', [plan]).reply).value).toEqual({ ok: false, refused: 'slot' });
    state.workerGone(1);
    expect((await call(2, 'ctr.admitAll', [plan]).reply).value).toEqual({ ok: true });
  });

  it('hands a dead worker’s admission slot to a waiter on another worker', async () => {
    state = new ClusterState({});
    const held = (await call<Granted>(1, 'adm.try', [slow]).reply).value!;
    expect(held.slot).toBeGreaterThan(0);
    expect(held.stats[0]).toMatchObject({ model: 'up/slow', processing: 1, max_concurrent: 1 });
    expect((await call(2, 'adm.try', [slow]).reply).value).toBeNull();
    const waiting = call<Granted>(2, 'adm.acquire', [[slow], 'normal', 60_000]).reply;
    state.workerGone(1);
    const got = await waiting;
    expect(got.error).toBeUndefined();
    expect(got.value).toMatchObject({ index: 0, stats: [{ model: 'up/slow', processing: 1 }] });
    // Released by its worker: free again.
    cast(2, 'adm.release', [got.value!.slot, false]);
    expect((await call<Granted>(3, 'adm.try', [slow]).reply).value).toMatchObject({ index: 0 });
  });

  it('drops a cancelled waiter (its client left) and answers it as gone', async () => {
    state = new ClusterState({});
    await call(1, 'adm.try', [slow]).reply;
    const w = call(2, 'adm.acquire', [[slow], 'normal', 60_000]);
    cast(2, 'adm.cancel', [w.id]);
    expect((await w.reply).error).toMatchObject({ gone: true });
  });

  it('refuses a full queue with the same 429 as one process', async () => {
    state = new ClusterState({});
    const tight: WireCandidate = { key: 'up/tight', providerId: 'up', model: { maxConcurrent: 1, maxWaiting: 0 } };
    await call(1, 'adm.try', [tight]).reply;
    const r = await call(2, 'adm.acquire', [[tight], 'normal', 60_000]).reply;
    expect(r.error).toMatchObject({ status: 429, code: 'queue_full', headers: { 'retry-after': '1' } });
  });
});
