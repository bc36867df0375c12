/**
 * @module Where cached answers live: the interface, and the in-process implementation (an LRU
 * bounded by bytes, with a TTL per entry). The Redis implementation shares answers between instances.
 */

export interface CacheStore {
  get(key: string): string | undefined | Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number): void;
}

interface Entry {
  value: string;
  expires: number;
  bytes: number;
}

/** A Map keeps insertion order: re-inserting on a hit makes it a cheap LRU. */
export class MemoryCacheStore implements CacheStore {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(
    private maxBytes: number,
    private readonly clock: () => number = Date.now,
  ) {}

  setMaxBytes(maxBytes: number): void {
    this.maxBytes = maxBytes;
    this.evict();
  }

  get size(): number {
    return this.entries.size;
  }

  get usedBytes(): number {
    return this.bytes;
  }

  get(key: string): string | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.entries.delete(key);
    if (e.expires <= this.clock()) {
      this.bytes -= e.bytes;
      return undefined;
    }
    this.entries.set(key, e);
    return e.value;
  }

  set(key: string, value: string, ttlMs: number): void {
    // UTF-16 length × 2 is what V8 may hold; close enough for a bound.
    const bytes = value.length * 2 + key.length * 2 + 64;
    if (bytes > this.maxBytes) return;
    const old = this.entries.get(key);
    if (old) {
      this.bytes -= old.bytes;
      this.entries.delete(key);
    }
    this.entries.set(key, { value, expires: this.clock() + ttlMs, bytes });
    this.bytes += bytes;
    this.evict();
  }

  private evict(): void {
    for (const [k, e] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= e.bytes;
    }
  }
}
