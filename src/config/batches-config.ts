/**
 * @module aisbf.json `batches`: the OpenAI Files and Batch API (CONTRACTS §7.5 item 32) — where uploads
 * live, how large one may be, and how many batch lines run at once (so a batch never starves
 * interactive traffic: its lines also wait behind it at `low` priority in the admission queue).
 */
import { z } from 'zod';

/** OpenAI's own limit for a batch input file. */
export const MAX_BATCH_UPLOAD_MB = 200;

export const batchesConfigSchema = z
  .strictObject({
    /** Batch lines (and /api/chat jobs) running at once on this instance, over every batch. */
    max_concurrent_lines: z.number().int().positive().default(4),
    /** Largest upload to /v1/files, in MB (OpenAI's limit, 200, is the ceiling). */
    max_upload_mb: z.number().positive().max(MAX_BATCH_UPLOAD_MB).default(MAX_BATCH_UPLOAD_MB),
    /** Where uploaded and generated files are kept; relative to the config dir. */
    files_dir: z.string().min(1).default('files'),
    /** Attempts per line when the provider fails (429, 5xx); client errors are never retried. */
    max_attempts: z.number().int().min(1).max(10).default(3),
  })
  .prefault({});

export type BatchesConfig = z.infer<typeof batchesConfigSchema>;
