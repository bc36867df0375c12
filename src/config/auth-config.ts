/** @module aisbf.json `auth`: static tokens (0.1), users, JWTs and API keys (issue 14 owns this file). */
import { z } from 'zod';

export const authConfigSchema = z
  .strictObject({
    /** Off (the localhost default): nothing needs a token, and /admin/* answers loopback clients only. */
    enabled: z.boolean().default(false),
    /** sha256 hex of accepted bearer tokens, or plain tokens (hashed at load). Role admin. */
    tokens: z.array(z.string()).default([]),
    /** HS256 secret of the JWTs (`${ENV}` allowed); unset: a random one kept in <config dir>/jwt.secret (0600). */
    jwt_secret: z.string().min(32, { error: 'jwt_secret must be at least 32 characters' }).optional(),
    access_token_minutes: z.number().positive().max(60 * 24 * 31).default(60),
    refresh_token_days: z.number().positive().max(366).default(7),
    /** Failed logins per username and per client IP per minute before /auth/token answers 429. */
    max_login_failures_per_minute: z.number().int().positive().default(10),
  })
  .prefault({});
export type AuthConfig = z.infer<typeof authConfigSchema>;
