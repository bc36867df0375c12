/**
 * @module aisbf.json `storage.redis` (CONTRACTS §7.7 item 35): the Redis that several aisbf instances
 * share their live state through (cooldowns, rate-limit windows, key limits and spend, admission
 * slots, stopped models, revoked keys, the response cache, batch line leases). Absent, and no
 * `REDIS_URL`: everything stays in this process (and its SQLite), and no Redis client is loaded.
 */
import { z } from 'zod';

export const redisConfigSchema = z
  .strictObject({
    /** `redis://[user:pass@]host:port[/db]` or `rediss://…` (TLS). Falls back to REDIS_URL. */
    url: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional(),
    /** Prefix of every key and channel, so several deployments can share one Redis. */
    key_prefix: z.string().min(1).max(64).default('aisbf:'),
    /** A command slower than this counts as a failure and opens the circuit breaker. */
    command_timeout_ms: z.number().int().positive().max(60_000).default(250),
    /** How long a connection attempt may take. */
    connect_timeout_ms: z.number().int().positive().max(60_000).default(2000),
    /** The longest wait between two reconnection attempts (they back off up to it). */
    max_reconnect_delay_ms: z.number().int().positive().max(300_000).default(5000),
  })
  .optional();

export type RedisConfig = NonNullable<z.infer<typeof redisConfigSchema>>;

/** What the Redis state layer needs, once the URL is known. */
export interface RedisSettings {
  url: string;
  keyPrefix: string;
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  maxReconnectDelayMs: number;
}

interface StorageSection {
  type?: 'sqlite' | 'redis';
  redis_url?: string;
  redis?: Partial<RedisConfig>;
}

/**
 * The Redis settings in force, or undefined when no Redis is configured: `storage.redis.url`, then
 * the older `storage.redis_url`, then the REDIS_URL environment variable. `storage.redis: {}` with
 * REDIS_URL unset is a config without Redis (the env var is meant to fill it in).
 */
export function redisSettingsOf(storage: StorageSection | undefined, env: NodeJS.ProcessEnv = process.env): RedisSettings | undefined {
  const r = storage?.redis;
  const url = r?.url ?? storage?.redis_url ?? (env.REDIS_URL?.trim() || undefined);
  if (!url) return undefined;
  return {
    url,
    keyPrefix: r?.key_prefix ?? 'aisbf:',
    commandTimeoutMs: r?.command_timeout_ms ?? 250,
    connectTimeoutMs: r?.connect_timeout_ms ?? 2000,
    maxReconnectDelayMs: r?.max_reconnect_delay_ms ?? 5000,
  };
}

/** `redis://user:secret@host:6379/0` → `redis://host:6379/0`: what a log line or /health may show. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return 'redis://(unparsable url)';
  }
}
