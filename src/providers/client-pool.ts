/**
 * @module The one keyed pool of upstream SDK clients: one client per endpoint + key, built on first
 * use and kept (client construction is not free, and a per-request client would lose connection
 * reuse), bounded, least recently used first out. Each adapter owns a pool for its endpoint.
 */

/** Builds the client for one key (undefined: no key; the builder picks its SDK's placeholder). */
export type ClientFactory<C> = (apiKey: string | undefined, endpoint: string) => C;

export const DEFAULT_MAX_CLIENTS = 64;

export class ClientPool<C> {
  private readonly clients = new Map<string, C>();
  /** The last key served: the common case (one configured key) skips the LRU bookkeeping. */
  private lastKey: string | undefined;
  private lastClient: C | undefined;

  constructor(
    /** The upstream base URL every client of this pool talks to. */
    readonly endpoint: string,
    private readonly build: ClientFactory<C>,
    readonly maxClients = DEFAULT_MAX_CLIENTS,
  ) {}

  get(apiKey: string | undefined): C {
    // '\0' cannot be part of a key sent in a header, so "no key" never collides with a real one.
    const key = apiKey ?? '\0';
    if (key === this.lastKey) return this.lastClient!;
    let client = this.clients.get(key);
    if (client !== undefined) {
      // Most recently used goes last; eviction takes the first.
      this.clients.delete(key);
    } else {
      client = this.build(apiKey, this.endpoint);
      if (this.clients.size >= this.maxClients) this.clients.delete(this.clients.keys().next().value as string);
    }
    this.clients.set(key, client);
    this.lastKey = key;
    this.lastClient = client;
    return client;
  }

  get size(): number {
    return this.clients.size;
  }
}
