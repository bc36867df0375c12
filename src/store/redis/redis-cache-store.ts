/**
 * @module The response cache on Redis (CONTRACTS §7.8): an answer stored by one instance is a hit on
 * every other. Entries expire by TTL (SET … PX); the memory bound is Redis's own `maxmemory` (the
 * docs suggest `allkeys-lru`). While Redis is away the in-process LRU answers, so lookups never wait.
 */
import type { RedisLink } from './redis-link.js';

/** The shape of cache/cache-store.ts's CacheStore (the store layer does not import the cache). */
export interface CacheStoreLike {
  get(key: string): string | undefined | Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number): void;
}

export class RedisCacheStore implements CacheStoreLike {
  constructor(
    private readonly link: RedisLink,
    private readonly fallback: CacheStoreLike,
  ) {}

  get(key: string): Promise<string | undefined> | string | undefined {
    if (!this.link.available) return this.fallback.get(key);
    return this.link.run(
      async (c) => (await c.get(this.link.key(`c:${key}`))) ?? undefined,
      () => this.fallback.get(key),
    );
  }

  set(key: string, value: string, ttlMs: number): void {
    if (!this.link.available) return this.fallback.set(key, value, ttlMs);
    // A refused write (Redis at maxmemory with noeviction) only loses this entry: it must not open
    // the breaker and send every limit to local state.
    this.link.fireBatched((c) => c.set(this.link.key(`c:${key}`), value, 'PX', Math.max(1, Math.round(ttlMs))).catch((err: Error) => {
      if (!/OOM|maxmemory/i.test(err.message)) throw err;
    }));
  }
}
