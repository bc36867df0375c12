/**
 * @module Zod schemas for inbound OpenAI bodies, and the translation of their failures into OpenAI's
 * own error wording (`Missing required parameter: 'messages'.`) with `param` naming the field.
 */
import { z } from 'zod';
import type { ChatRequest } from '../providers/provider-adapter.js';
import { HttpError } from './errors.js';

const ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'] as const;

const contentPart = z.looseObject({ type: z.string() });

const toolCall = z.looseObject({
  id: z.string(),
  type: z.literal('function').default('function'),
  function: z.looseObject({ name: z.string(), arguments: z.string() }),
});

const message = z.looseObject({
  role: z.enum(ROLES),
  content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
  name: z.string().optional(),
  tool_calls: z.array(toolCall).optional(),
  tool_call_id: z.string().optional(),
});

const nullableNumber = z.number().nullish();

export const chatRequestSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(message).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  n: z.number().int().positive().nullish(),
  seed: z.number().int().nullish(),
  presence_penalty: nullableNumber,
  frequency_penalty: nullableNumber,
  stop: z.union([z.string(), z.array(z.string()), z.null()]).optional(),
  tools: z
    .array(
      z.looseObject({
        type: z.literal('function'),
        function: z.looseObject({ name: z.string().min(1), description: z.string().optional(), parameters: z.record(z.string(), z.unknown()).optional() }),
      }),
    )
    .optional(),
  tool_choice: z
    .union([
      z.enum(['auto', 'none', 'required']),
      z.looseObject({ type: z.literal('function'), function: z.looseObject({ name: z.string() }) }),
    ])
    .optional(),
  response_format: z
    .union([
      z.looseObject({ type: z.literal('text') }),
      z.looseObject({ type: z.literal('json_object') }),
      z.looseObject({ type: z.literal('json_schema'), json_schema: z.looseObject({ name: z.string(), schema: z.record(z.string(), z.unknown()).optional() }) }),
    ])
    .optional(),
});

function paramName(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${String(p)}` : String(p);
  return s;
}

/** Turns the first zod issue into an OpenAI-style 400. */
/** zod 4 does not keep the offending input on issues: look it up in the body. */
function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = body;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

export function zodToHttpError(error: z.ZodError, body?: unknown): HttpError {
  const issue = error.issues[0]!;
  const param = paramName(issue.path);
  const input = valueAt(body, issue.path);
  if (issue.code === 'invalid_type' && input === undefined) {
    return new HttpError(400, `Missing required parameter: '${param}'.`, { param, code: 'missing_required_parameter' });
  }
  if (issue.code === 'invalid_type') {
    return new HttpError(400, `Invalid type for '${param}': expected ${issue.expected}, but got ${describe(input)}.`, { param, code: 'invalid_type' });
  }
  if (issue.code === 'too_small' && issue.origin === 'array') {
    return new HttpError(400, `Invalid '${param}': empty array. Expected an array with minimum length ${issue.minimum}, but got an empty array instead.`, { param, code: 'empty_array' });
  }
  return new HttpError(400, `Invalid value for '${param}': ${issue.message}.`, { param, code: 'invalid_value' });
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

/** Parses a body that must be a JSON object; a parse failure names the problem. */
export function parseJsonBody(text: string): Record<string, unknown> {
  if (!text.trim()) throw new HttpError(400, 'The request body is empty; expected a JSON object.', { code: 'invalid_json' });
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `We could not parse the JSON body of your request: ${(err as Error).message}`, { code: 'invalid_json' });
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'The request body must be a JSON object.', { code: 'invalid_json' });
  }
  return body as Record<string, unknown>;
}

export function parseChatRequest(body: unknown): ChatRequest {
  const r = chatRequestSchema.safeParse(body);
  if (!r.success) throw zodToHttpError(r.error, body);
  return r.data as unknown as ChatRequest;
}
