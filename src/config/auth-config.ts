/** @module aisbf.json `auth`: static tokens (0.1), users, JWTs and API keys (issue 14 owns this file). */
import { z } from 'zod';

export const authConfigSchema = z
  .looseObject({
    enabled: z.boolean().default(false),
    /** sha256 hex of accepted bearer tokens, or plain tokens (hashed at load). */
    tokens: z.array(z.string()).default([]),
  })
  .prefault({});
