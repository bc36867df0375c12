/**
 * @module storage.redis, assembled: one RedisLink and the Redis side of every shared-state interface
 * (key counters, routing health and rate limits, admission slots, stopped models, revoked keys, the
 * response cache, batch line leases). The pieces it drives are described by their shape only, so
 * this bottom layer imports none of them; server/build-stages.ts hands them in. ioredis itself is
 * loaded by `start()`, never when Redis is not configured.
 */
import type { Logger } from 'pino';
import type { RedisSettings } from '../../config/storage-config.js';
import type { LocalCounterStore } from '../counters.js';
import { RedisLink, type SharedStoreStatus } from './redis-link.js';
import { RedisCounterStore } from './redis-counters.js';
import { RedisGateSlots } from './redis-gate-slots.js';
import { RedisCacheStore, type CacheStoreLike } from './redis-cache-store.js';
import { RedisRevocations } from './redis-revocations.js';
import { shareRoutingState, type SharedRouting } from './redis-routing-sync.js';
import { shareStoppedModels, type SharedModelGate } from './redis-stopped-models.js';

export type { SharedStoreStatus };

/** What build-stages hands over to be shared (each optional). */
export interface SharedTargets {
  routing?: SharedRouting;
  /** identity/auth-cache.ts */
  authCache?: {
    onRevoked: ((keyHashes: string[]) => void) | undefined;
    setRevokedElsewhere(keyHashes: ReadonlySet<string>): void;
    refreshIfChanged(): void;
  };
  modelGate?: SharedModelGate;
  /** cache/response-cache.ts */
  cache?: { useStore(store: CacheStoreLike | undefined): void; readonly memory: CacheStoreLike };
}

export class RedisState {
  readonly link: RedisLink;
  private readonly closers: Array<() => void> = [];
  private started: Promise<void> | undefined;

  constructor(settings: RedisSettings, log: Logger, instanceId?: string) {
    this.link = new RedisLink(settings, log, instanceId);
  }

  /** Key rpm/tpm windows, parallel slots and spend on Redis, with `local` as the fallback. */
  counters(local: LocalCounterStore): RedisCounterStore {
    return new RedisCounterStore(this.link, local);
  }

  /** Admission slots leased in Redis (admission/admission-queue.ts withSharedSlots). */
  gateSlots(): RedisGateSlots {
    const slots = new RedisGateSlots(this.link);
    this.closers.push(() => slots.close());
    return slots;
  }

  /** Wires each target to Redis. Call before start(), so subscriptions go out with the first connection. */
  share(t: SharedTargets): void {
    const link = this.link;
    if (t.routing) shareRoutingState(link, t.routing);
    if (t.modelGate) shareStoppedModels(link, t.modelGate);
    if (t.authCache) {
      const cache = t.authCache;
      const revocations = new RedisRevocations(link, (set) => cache.setRevokedElsewhere(set));
      cache.onRevoked = (hashes) => revocations.announce(hashes);
      // A revocation from the CLI lands in SQLite; this notices it without waiting for a request.
      const timer = setInterval(() => {
        try {
          cache.refreshIfChanged();
        } catch {
          // A busy database: next second.
        }
      }, 1000);
      timer.unref();
      this.closers.push(() => clearInterval(timer));
    }
    if (t.cache) t.cache.useStore(new RedisCacheStore(link, t.cache.memory));
  }

  /** Loads ioredis and connects; resolves when connected or after the connect timeout. */
  start(): Promise<void> {
    return (this.started ??= this.link.start());
  }

  status(): SharedStoreStatus {
    return this.link.status();
  }

  async close(): Promise<void> {
    for (const c of this.closers) c();
    await this.link.close();
  }
}
