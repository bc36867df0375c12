/**
 * @module The config files' format version: the `version` field each of aisbf.json, providers.json,
 * rotations.json and autoselect.json may carry. No field means a file from before versioning (it
 * loads as it is); a version newer than this aisbf reads is refused with what to do about it.
 * `aisbf config migrate` (migrate-config.ts) rewrites files to CONFIG_VERSION.
 */
import { z } from 'zod';

/** Raise this, and add a step to migrate-config.ts, whenever a file's format changes incompatibly. */
export const CONFIG_VERSION = 1;

export const configVersionField = z
  .number({ error: `version must be a whole number (this aisbf writes ${CONFIG_VERSION})` })
  .int({ error: `version must be a whole number (this aisbf writes ${CONFIG_VERSION})` })
  .min(1, { error: `version must be 1 or more; remove it, or run "aisbf config migrate"` })
  .max(CONFIG_VERSION, {
    error: (iss) =>
      `version ${String(iss.input)} was written by a newer aisbf; this one reads up to version ${CONFIG_VERSION}: upgrade aisbf (npm install -g aisbf), or restore the .bak copy "aisbf config migrate" kept`,
  })
  .optional();
