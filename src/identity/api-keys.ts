/**
 * @module Creating API keys, shared by `aisbf key create` and `POST /admin/keys`: one strict schema
 * for the request, the expiry parser (`30d`, `12h`, an ISO date), and the public view of a key
 * (never its hash).
 */
import { z } from 'zod';
import { BUDGET_PERIODS, type ApiKeyRecord, type ApiKeyStore } from '../store/api-keys.js';
import type { UserStore } from '../store/users.js';
import { KEY_RE, generateApiKey, hashApiKey, keyHint, newKeyId } from './api-key-format.js';
import { scopePatternProblem } from './model-scope.js';

const DURATION_RE = /^(\d{1,6})([mhdw])$/;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `30d`, `12h`, `90m`, `2w`, or an ISO date/time in the future → ms since epoch. */
export function parseExpiry(raw: string, now = Date.now()): number {
  const s = raw.trim();
  const m = DURATION_RE.exec(s);
  if (m) {
    const n = Number(m[1]);
    if (n === 0) throw new Error('expires must be longer than 0');
    return now + n * UNIT_MS[m[2]!]!;
  }
  const t = /^\d{4}-\d{2}-\d{2}/.test(s) ? Date.parse(s) : NaN;
  if (Number.isNaN(t)) throw new Error(`expires must be a duration like 30d, 12h, 90m, 2w or an ISO date (got ${JSON.stringify(raw)})`);
  if (t <= now) throw new Error(`expires ${s} is in the past`);
  return t;
}

const positiveInt = z.number().int().positive();

export const createKeySchema = z
  .strictObject({
    name: z.string().trim().min(1).max(128).regex(/^[\x21-\x7e][\x20-\x7e]*$/, { error: 'name must be printable ASCII' }),
    user: z.string().min(1).max(64).optional(),
    models: z
      .array(z.string())
      .min(1)
      .max(100)
      .superRefine((list, ctx) => {
        for (const p of list) {
          const problem = scopePatternProblem(p);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }
      })
      .optional(),
    rpm: positiveInt.optional(),
    tpm: positiveInt.optional(),
    max_parallel: positiveInt.optional(),
    budget_usd: z.number().positive().optional(),
    budget_period: z.enum(BUDGET_PERIODS).optional(),
    /** `30d`, `12h`, … or an ISO date. */
    expires: z.string().min(1).max(64).optional(),
    /** A key value chosen by the caller (migrating keys from elsewhere); generated otherwise. */
    key: z.string().regex(KEY_RE, { error: 'key must be sk-aisbf- followed by 16 to 200 letters, digits, _ or -' }).optional(),
  })
  .refine((k) => (k.budget_usd === undefined) === (k.budget_period === undefined), {
    error: 'budget_usd and budget_period go together (budget_period: day, week or month)',
    path: ['budget_period'],
  });
export type CreateKeyInput = z.infer<typeof createKeySchema>;

export class KeyInputError extends Error {
  override readonly name = 'KeyInputError';
}

/** Validates, stores the hash, and returns the record with the key itself (shown once). */
export function createApiKey(keys: ApiKeyStore, users: UserStore, input: CreateKeyInput, now = Date.now()): { record: ApiKeyRecord; key: string } {
  if (input.user !== undefined && !users.get(input.user)) throw new KeyInputError(`no user "${input.user}" (aisbf user list shows them)`);
  let expiresAt: number | null = null;
  if (input.expires !== undefined) {
    try {
      expiresAt = parseExpiry(input.expires, now);
    } catch (err) {
      throw new KeyInputError((err as Error).message);
    }
  }
  const key = input.key ?? generateApiKey();
  const record: ApiKeyRecord = {
    // A key given by value gets an id derived from it: the same key put on several instances
    // (storage.redis) has the same id everywhere, so its limits and spend are counted together.
    id: input.key !== undefined ? `key_${hashApiKey(key).slice(0, 16)}` : newKeyId(),
    name: input.name,
    user: input.user ?? null,
    keyHash: hashApiKey(key),
    keyHint: keyHint(key),
    models: input.models ?? null,
    rpm: input.rpm ?? null,
    tpm: input.tpm ?? null,
    maxParallel: input.max_parallel ?? null,
    budgetUsd: input.budget_usd ?? null,
    budgetPeriod: input.budget_period ?? null,
    expiresAt,
    createdAt: now,
    revokedAt: null,
  };
  try {
    keys.insert(record);
  } catch (err) {
    if (/UNIQUE/.test((err as Error).message)) throw new KeyInputError('that key value is already in use');
    throw err;
  }
  return { record, key };
}

/** What lists and the admin API show of a key: everything but the hash. */
export function publicKey(k: ApiKeyRecord, now = Date.now()) {
  return {
    id: k.id,
    object: 'api_key' as const,
    name: k.name,
    user: k.user,
    key_hint: k.keyHint,
    models: k.models,
    rpm: k.rpm,
    tpm: k.tpm,
    max_parallel: k.maxParallel,
    budget_usd: k.budgetUsd,
    budget_period: k.budgetPeriod,
    expires_at: k.expiresAt === null ? null : new Date(k.expiresAt).toISOString(),
    created_at: new Date(k.createdAt).toISOString(),
    revoked_at: k.revokedAt === null ? null : new Date(k.revokedAt).toISOString(),
    status: k.revokedAt !== null ? 'revoked' : k.expiresAt !== null && k.expiresAt <= now ? 'expired' : 'active',
  };
}
