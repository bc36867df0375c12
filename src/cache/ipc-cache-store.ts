/**
 * @module CacheStore of a cluster worker without Redis: the answers live in the primary's one
 * MemoryCacheStore, so a repeat is a hit whichever worker it lands on, and `cache.max_mb` bounds the
 * whole cluster rather than each worker. A lookup is one IPC round trip; storing is sent without waiting.
 */
import type { IpcClient } from '../store/ipc-rpc.js';
import type { CacheStore } from './cache-store.js';

export class IpcCacheStore implements CacheStore {
  constructor(
    private readonly ipc: IpcClient,
    /** The live `cache.max_mb` in bytes (sent along: the primary reads no config). */
    private readonly maxBytes: () => number,
  ) {}

  async get(key: string): Promise<string | undefined> {
    return (await this.ipc.call<string | null>('cache.get', [key])) ?? undefined;
  }

  set(key: string, value: string, ttlMs: number): void {
    this.ipc.cast('cache.set', [key, value, ttlMs, this.maxBytes()]);
  }
}
