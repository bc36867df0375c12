/**
 * @module aisbf.json `queue`: admission defaults for every provider/model (CONTRACTS §7.3 item 26).
 * Absent means no limit; a model or provider entry's own `max_concurrent` / `max_waiting` win.
 */
import { z } from 'zod';

export const queueConfigSchema = z
  .strictObject({
    /** Default per provider/model: requests running at once. */
    max_concurrent: z.number().int().positive().optional(),
    /** Default per provider/model: requests waiting for a slot; over it, 429 queue_full. */
    max_waiting: z.number().int().nonnegative().optional(),
    /** How long a request may wait for a slot before 503 queue_timeout (the seed's 300 s). */
    timeout_seconds: z.number().positive().default(300),
  })
  .optional();
