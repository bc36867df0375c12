/**
 * @module aisbf.json `cache`: the response cache (CONTRACTS §7.8 item 36). Off by default: an exact
 * repeat of a prompt is answered from memory (or Redis, with storage.redis) only when asked for.
 */
import { z } from 'zod';

export const cacheConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    /** How long an answer stays cached. */
    ttl_seconds: z.number().positive().default(3600),
    /** Memory bound of the in-process cache (least recently used entries go first). */
    max_mb: z.number().positive().default(64),
  })
  .optional();
