/**
 * @module The platform app's request bodies with FastAPI/pydantic semantics: defaults, ranges, and
 * 422 items for what fails (`loc: ["body", field]`, pydantic's type names and wording); JSON and
 * multipart readers with the app's limits and words.
 */
import type { Context } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../../server/app-env.js';
import type { Runtime } from '../../runtime.js';
import { HttpError } from '../../errors/http-error.js';
import { readBodyBytes } from '../../server/multipart.js';
import { checkJsonDepth, checkModel } from '../../inbound/json-body.js';
import { ValidationError, type ValidationItem } from './platform-errors.js';

export const MiB = 1024 * 1024;

const str = (min: number, max?: number) => (max === undefined ? z.string().min(min) : z.string().min(min).max(max));
const int = (def: number, min: number, max: number) => z.number().int().min(min).max(max).default(def);
const num = (def: number, min: number, max: number) => z.number().min(min).max(max).default(def);

export const imageSchema = z.object({
  prompt: str(1, 1000),
  model: z.string().nullish(),
  negative_prompt: str(0, 1000).nullish(),
  height: int(512, 256, 1024),
  width: int(512, 256, 1024),
  num_inference_steps: int(50, 1, 100),
  guidance_scale: num(7.5, 1, 20),
});

export const editSchema = z.object({
  image: str(100),
  prompt: str(1, 1000),
  mask: z.string().nullish(),
  model: z.string().nullish(),
  negative_prompt: str(0, 1000).nullish(),
  strength: num(0.75, 0, 1),
  num_inference_steps: int(50, 1, 100),
});

export const llmSchema = z.object({
  messages: z.array(z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() })).min(1),
  model: z.string().nullish(),
  max_tokens: int(256, 1, 2048),
  temperature: num(0.7, 0, 2),
  top_p: num(0.9, 0, 1),
  top_k: int(50, 1, 100),
});

export const ttsSchema = z.object({
  text: str(1, 5000),
  model: z.string().nullish(),
  speaker_id: int(0, 0, 100),
  speed: num(1.0, 0.5, 2),
});

export const embeddingSchema = z.object({ text: str(1, 5000), model: z.string().nullish() });

export const t2vSchema = z.object({
  prompt: str(1, 1000),
  model: z.string().nullish(),
  negative_prompt: str(0, 500).nullish(),
  duration: int(6, 1, 30),
  fps: int(8, 1, 60),
  num_inference_steps: int(50, 1, 100),
});

export const i2vSchema = z.object({
  prompt: z.string().max(1000).nullish(),
  model: z.string().nullish(),
  duration: int(6, 1, 30),
  fps: int(8, 1, 60),
  num_inference_steps: int(50, 1, 100),
});

/** zod issues → FastAPI's 422 items (`loc: ["body", field]`, pydantic's type names and wording). */
function toValidationItems(error: z.ZodError, body: Record<string, unknown>): ValidationItem[] {
  return error.issues.map((i) => {
    const loc: Array<string | number> = ['body', ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
    const field = i.path[0];
    const input = typeof field === 'string' ? body[field] : body;
    if (input === undefined && i.code === 'invalid_type') return { type: 'missing', loc, msg: 'Field required', input: null };
    if (i.code === 'too_small' || i.code === 'too_big') {
      const small = i.code === 'too_small';
      const limit = Number(small ? (i as { minimum: unknown }).minimum : (i as { maximum: unknown }).maximum);
      if (i.origin === 'string') {
        return small
          ? { type: 'string_too_short', loc, msg: `String should have at least ${limit} character${limit === 1 ? '' : 's'}`, input, ctx: { min_length: limit } }
          : { type: 'string_too_long', loc, msg: `String should have at most ${limit} characters`, input, ctx: { max_length: limit } };
      }
      if (i.origin === 'array') return { type: 'too_short', loc, msg: `List should have at least ${limit} item${limit === 1 ? '' : 's'} after validation, not 0`, input, ctx: { min_length: limit } };
      return small
        ? { type: 'greater_than_equal', loc, msg: `Input should be greater than or equal to ${limit}`, input, ctx: { ge: limit } }
        : { type: 'less_than_equal', loc, msg: `Input should be less than or equal to ${limit}`, input, ctx: { le: limit } };
    }
    if (i.code === 'invalid_type') {
      const expected = String((i as { expected: unknown }).expected);
      const type = expected === 'string' ? 'string_type' : expected === 'int' ? 'int_parsing' : expected === 'number' ? 'float_parsing' : expected === 'array' ? 'list_type' : 'model_type';
      const msg = expected === 'string' ? 'Input should be a valid string' : expected === 'int' ? 'Input should be a valid integer' : expected === 'number' ? 'Input should be a valid number' : expected === 'array' ? 'Input should be a valid list' : `Input should be a valid ${expected}`;
      return { type, loc, msg, input };
    }
    if (i.code === 'invalid_value') {
      const values = ((i as { values?: unknown[] }).values ?? []).map((v) => `'${String(v)}'`);
      return { type: 'literal_error', loc, msg: `Input should be ${values.join(' or ')}`, input };
    }
    return { type: 'value_error', loc, msg: i.message, input };
  });
}

/** Validates a body; its `model` is checked at the edge like every route's (400 naming `model`). */
export function validate<S extends z.ZodType>(schema: S, body: Record<string, unknown>): z.infer<S> {
  const r = schema.safeParse(body);
  if (!r.success) throw new ValidationError(toValidationItems(r.error, body));
  checkModel((r.data as { model?: unknown }).model);
  return r.data;
}

export async function readJson(c: Context<AppEnv>, rt: Runtime): Promise<Record<string, unknown>> {
  const bytes = await readBodyBytes(c.req.raw, rt.config.aisbf.server.body_limit_mb * MiB, (limit) => new HttpError(413, `Request body is larger than ${Math.round(limit / MiB)} MB`));
  const text = Buffer.from(bytes).toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new ValidationError([{ type: 'json_invalid', loc: ['body', 0], msg: 'JSON decode error', input: {}, ctx: { error: (err as Error).message } }]);
  }
  // Depth first: the validation error below echoes the body, and serializing a 10,000-deep array overflows the stack.
  checkJsonDepth(body);
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new ValidationError([{ type: 'model_attributes_type', loc: ['body'], msg: 'Input should be a valid dictionary or object to extract fields from', input: body }]);
  }
  return body as Record<string, unknown>;
}

/** Reads a multipart body under `limit` (413 in the app's words beyond it). */
export async function readForm(c: Context<AppEnv>, limit: number, what: string): Promise<FormData> {
  const type = c.req.header('content-type') ?? '';
  if (!type.toLowerCase().startsWith('multipart/form-data')) {
    throw new ValidationError([{ type: 'missing', loc: ['body', what], msg: 'Field required', input: null }]);
  }
  const bytes = await readBodyBytes(c.req.raw, limit, () => new HttpError(413, `File too large. Maximum size is ${Math.round(limit / MiB)}MB`));
  try {
    return await new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-type': type } }).formData();
  } catch (err) {
    throw new HttpError(400, `Could not parse the multipart body: ${(err as Error).message}`);
  }
}

/** Form text fields as a body object; numeric strings become numbers (pydantic's lax mode). */
export function formFields(form: FormData, numeric: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of form.entries()) {
    if (typeof v !== 'string') continue;
    out[k] = numeric.includes(k) && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
  }
  return out;
}
