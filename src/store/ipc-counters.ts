/**
 * @module CounterStore of a cluster worker without Redis (`server.workers > 1`): the primary holds
 * the one authoritative LocalCounterStore and every worker asks it over IPC, so a key's rpm, tpm,
 * parallel slots and budget hold across workers exactly, as in one process. A request with limits
 * costs one round trip to admit (`admitAll`); what it adds when it settles is sent without waiting.
 */
import type { AdmitPlan, AdmitResult, ConsumeResult, CounterStore } from './counters.js';
import type { IpcClient } from './ipc-rpc.js';

export class IpcCounterStore implements CounterStore {
  constructor(private readonly ipc: IpcClient) {}

  tryConsume(key: string, windowMs: number, limit: number, amount: number, now: number): Promise<ConsumeResult> {
    return this.ipc.call('ctr.tryConsume', [key, windowMs, limit, amount, now]);
  }

  add(key: string, windowMs: number, amount: number, now: number): void {
    this.ipc.cast('ctr.add', [key, windowMs, amount, now]);
  }

  acquireSlot(key: string, limit: number): Promise<boolean> {
    return this.ipc.call('ctr.acquireSlot', [key, limit]);
  }

  releaseSlot(key: string): void {
    this.ipc.cast('ctr.releaseSlot', [key]);
  }

  spent(key: string, period: string): Promise<number> {
    return this.ipc.call('ctr.spent', [key, period]);
  }

  addSpend(key: string, period: string, usd: number): void {
    this.ipc.cast('ctr.addSpend', [key, period, usd]);
  }

  admitAll(plan: AdmitPlan): Promise<AdmitResult> {
    return this.ipc.call('ctr.admitAll', [plan]);
  }

  /** The primary owns (and flushes) the counters. */
  close(): void {}
}
