/**
 * @module The one Redis connection of an instance (two sockets: commands, and pub/sub), behind a
 * circuit breaker. Requests never wait on Redis: the offline queue is off (a command while
 * disconnected fails at once), a slow command times out after `command_timeout_ms` and opens the
 * breaker for a second, and every caller passes a local fallback that answers immediately while
 * Redis is away. Reconnection backs off up to `max_reconnect_delay_ms`. One log line when Redis
 * goes away, one when it is back — never one per request. ioredis is loaded only here, on start.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis as RedisClient } from 'ioredis';
import type { Logger } from 'pino';
import { redactRedisUrl, type RedisSettings } from '../../config/storage-config.js';

export type { RedisClient };

/** What /health and `aisbf status` say about the shared store. */
export interface SharedStoreStatus {
  backend: 'redis';
  /** `connected`, or `degraded`: serving on this instance's local state until Redis is back. */
  state: 'connected' | 'degraded';
  url: string;
  /** This instance's id (usage and key records stay per instance). */
  instance: string;
  /** ISO time of the last change of state. */
  since: string;
}

/** After a failed command the breaker stays open this long before one is tried again. */
const BREAKER_OPEN_MS = 1000;
/**
 * Writes after a request (slot releases, spend, tokens, cache entries) wait this long, so those of
 * every request that ends meanwhile leave together: one syscall and one reply read instead of one each.
 */
const FIRE_DELAY_MS = 2;

export class RedisLink {
  readonly instanceId: string;
  private client: RedisClient | undefined;
  private sub: RedisClient | undefined;
  private healthy = false;
  private everUp = false;
  private downLogged = false;
  private openUntil = 0;
  private deferred: Array<(c: RedisClient) => Promise<unknown>> = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private since = Date.now();
  private closed = false;
  private readonly upHooks: Array<() => void> = [];
  private readonly channels = new Map<string, Array<(msg: Record<string, unknown>) => void>>();

  constructor(
    readonly settings: RedisSettings,
    private readonly log: Logger,
    instanceId?: string,
  ) {
    // hostname:pid names the process (as /admin/usage does); the suffix tells apart servers in one process (tests).
    this.instanceId = instanceId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  }

  /** Loads ioredis and connects; resolves once connected or after the connect timeout (never rejects). */
  async start(): Promise<void> {
    const { Redis } = await import('ioredis');
    const s = this.settings;
    const common = {
      lazyConnect: true,
      connectTimeout: s.connectTimeoutMs,
      connectionName: `aisbf-${this.instanceId}`,
      // Back off 100 ms, 200 ms, … up to the configured ceiling, with jitter so instances spread out.
      retryStrategy: (times: number) => Math.min(s.maxReconnectDelayMs, 100 * 2 ** Math.min(times - 1, 10)) + Math.floor(Math.random() * 100),
    };
    // Auto-pipelining: commands issued in the same tick (many requests at once) share one write.
    this.client = new Redis(s.url, { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: s.commandTimeoutMs, autoResendUnfulfilledCommands: false, enableAutoPipelining: true });
    this.sub = new Redis(s.url, { ...common, enableOfflineQueue: true, autoResubscribe: true });
    // ioredis emits an 'error' per failed reconnect: the state change below is what we report.
    this.client.on('error', () => {});
    this.sub.on('error', () => {});
    this.client.on('ready', () => this.markUp());
    this.client.on('close', () => this.markDown('connection closed'));
    this.sub.on('message', (channel: string, text: string) => this.deliver(channel, text));
    // On every connection of the subscriber (the first may come after Redis was down at start).
    this.sub.on('ready', () => {
      const channels = [...this.channels.keys()];
      if (channels.length) this.sub!.subscribe(...channels).catch(() => {});
    });
    const first = Promise.all([this.client.connect(), this.sub.connect()]).then(
      () => undefined,
      () => this.markDown('no connection'),
    );
    const timeout = new Promise<void>((r) => setTimeout(r, s.connectTimeoutMs + 200).unref());
    await Promise.race([first, timeout]);
  }

  /** True when commands may be sent now (connected, breaker closed). */
  get available(): boolean {
    return !this.closed && this.client?.status === 'ready' && Date.now() >= this.openUntil;
  }

  /** A key (or channel) under the configured prefix. */
  key(name: string): string {
    return this.settings.keyPrefix + name;
  }

  /** The command connection; only call when `available`. */
  get redis(): RedisClient {
    return this.client!;
  }

  /**
   * Runs `fn` on Redis; when Redis is unavailable, or the command fails or times out, answers
   * `fallback()` instead (and opens the breaker). Never throws what Redis threw.
   */
  async run<T>(fn: (c: RedisClient) => Promise<T>, fallback: () => T | Promise<T>): Promise<T> {
    if (!this.available) return fallback();
    let v: T;
    try {
      v = await fn(this.client!);
    } catch (err) {
      this.trip(err);
      return fallback();
    }
    if (!this.healthy) this.markUp();
    return v;
  }

  /** Fire and forget (background sync, what other instances must see at once); failures only open the breaker. */
  fire(fn: (c: RedisClient) => Promise<unknown>): void {
    this.send([fn]);
  }

  /**
   * Fire and forget, held for FIRE_DELAY_MS: for a request's counting writes (tokens, spend, cache
   * entries, permits given back), so those of every request that ends meanwhile share one write.
   * Never for what a client's next request depends on (a slot release): that goes through `fire`.
   */
  fireBatched(fn: (c: RedisClient) => Promise<unknown>): void {
    if (!this.available) return;
    this.deferred.push(fn);
    this.flushTimer ??= setTimeout(() => this.flush(), FIRE_DELAY_MS);
  }

  /**
   * Sends what `fireBatched` queued, all in one tick: auto-pipelining makes that one write and one
   * read, however many requests finished meanwhile.
   */
  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const fns = this.deferred;
    this.deferred = [];
    this.send(fns);
  }

  private send(fns: ReadonlyArray<(c: RedisClient) => Promise<unknown>>): void {
    if (fns.length === 0 || !this.available) return;
    for (const fn of fns)
      fn(this.client!).then(
        () => {
          if (!this.healthy) this.markUp();
        },
        (err: unknown) => this.trip(err),
      );
  }

  /** Publishes `msg` (with this instance's id) to the prefixed channel. */
  publish(channel: string, msg: Record<string, unknown>): void {
    this.fire((c) => c.publish(this.key(channel), JSON.stringify({ ...msg, from: this.instanceId })));
  }

  /** Messages other instances publish on `channel` (never our own). */
  subscribe(channel: string, handler: (msg: Record<string, unknown>) => void): void {
    const full = this.key(channel);
    const list = this.channels.get(full);
    if (list) return void list.push(handler);
    this.channels.set(full, [handler]);
    if (this.sub?.status === 'ready') void this.sub.subscribe(full).catch(() => {});
  }

  /** Called on every (re)connection: the shared-state modules push and pull what they hold. */
  onUp(hook: () => void): void {
    this.upHooks.push(hook);
    if (this.healthy) hook();
  }

  status(): SharedStoreStatus {
    return {
      backend: 'redis',
      state: this.healthy && this.available ? 'connected' : 'degraded',
      url: redactRedisUrl(this.settings.url),
      instance: this.instanceId,
      since: new Date(this.since).toISOString(),
    };
  }

  async close(): Promise<void> {
    this.flush();
    this.closed = true;
    const quit = (c: RedisClient | undefined) => (c ? c.quit().catch(() => c.disconnect()) : undefined);
    await Promise.all([quit(this.client), quit(this.sub)]);
  }

  private deliver(channel: string, text: string): void {
    const handlers = this.channels.get(channel);
    if (!handlers) return;
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    if (msg.from === this.instanceId) return;
    for (const h of handlers) {
      try {
        h(msg);
      } catch {
        // A bad message from another instance must not break this one.
      }
    }
  }

  private trip(err: unknown): void {
    this.openUntil = Date.now() + BREAKER_OPEN_MS;
    this.markDown((err as Error)?.message ?? 'command failed');
  }

  private markDown(reason: string): void {
    if (this.closed) return;
    if (this.healthy || !this.downLogged) {
      this.since = Date.now();
      // Once per outage: the reason is Redis's own text (no secrets: the URL is not in it).
      this.log.warn({ redis: redactRedisUrl(this.settings.url), reason: reason.slice(0, 200) }, 'redis unreachable: limits, cooldowns and the cache fall back to this instance until it is back');
      this.downLogged = true;
    }
    this.healthy = false;
  }

  private markUp(): void {
    if (this.closed || this.healthy) return;
    this.healthy = true;
    this.since = Date.now();
    if (this.everUp || this.downLogged) this.log.info({ redis: redactRedisUrl(this.settings.url) }, 'redis reachable again: shared state restored');
    this.everUp = true;
    this.downLogged = false;
    for (const h of this.upHooks) {
      try {
        h();
      } catch {
        // Resync is best effort; the next change or reconnection tries again.
      }
    }
  }
}
