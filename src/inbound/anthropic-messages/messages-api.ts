/**
 * @module Zod schemas of the Anthropic Messages request fields aisbf reads (everything else is kept
 * for pass-through and ignored by the translation). Content blocks are checked one by one in
 * parse-messages-request.ts, so an unknown block type gets its own 400 naming it.
 */
import { z } from 'zod';
import { HttpError } from '../../errors/http-error.js';

export const block = z.looseObject({ type: z.string() });
export type WireBlock = z.infer<typeof block>;

const content = z.union([z.string(), z.array(block)]);

export const messagesRequestSchema = z.looseObject({
  model: z.string().min(1),
  max_tokens: z.number().int().positive(),
  messages: z.array(z.looseObject({ role: z.enum(['user', 'assistant', 'system']), content })),
  system: z.union([z.string(), z.array(block)]).optional(),
  stream: z.boolean().optional(),
  stop_sequences: z.array(z.string()).optional(),
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().optional(),
  tools: z.array(z.looseObject({ name: z.string().optional(), type: z.string().optional() })).optional(),
  tool_choice: z
    .looseObject({ type: z.enum(['auto', 'any', 'tool', 'none']), name: z.string().optional(), disable_parallel_tool_use: z.boolean().optional() })
    .optional(),
  thinking: z.looseObject({ type: z.string(), budget_tokens: z.number().optional() }).optional(),
  metadata: z.looseObject({ user_id: z.string().nullish() }).optional(),
});
export type MessagesRequest = z.infer<typeof messagesRequestSchema>;

/** count_tokens takes the same body without max_tokens. */
export const countTokensSchema = messagesRequestSchema.extend({ max_tokens: z.number().int().positive().optional() });

export const textBlock = z.looseObject({ type: z.literal('text'), text: z.string() });
export const imageBlock = z.looseObject({
  type: z.literal('image'),
  source: z.union([
    z.looseObject({ type: z.literal('base64'), media_type: z.string(), data: z.string() }),
    z.looseObject({ type: z.literal('url'), url: z.string() }),
  ]),
});
export const documentBlock = z.looseObject({
  type: z.literal('document'),
  title: z.string().nullish(),
  source: z.union([
    z.looseObject({ type: z.literal('base64'), media_type: z.string(), data: z.string() }),
    z.looseObject({ type: z.literal('text'), data: z.string() }),
    z.looseObject({ type: z.literal('url'), url: z.string() }),
    z.looseObject({ type: z.literal('content'), content: content }),
  ]),
});
export const toolUseBlock = z.looseObject({ type: z.literal('tool_use'), id: z.string(), name: z.string(), input: z.unknown() });
export const toolResultBlock = z.looseObject({
  type: z.literal('tool_result'),
  tool_use_id: z.string(),
  content: content.optional(),
  is_error: z.boolean().optional(),
});
export const thinkingBlock = z.looseObject({ type: z.literal('thinking'), thinking: z.string() });
export const customTool = z.looseObject({
  type: z.literal('custom').optional(),
  name: z.string().min(1),
  description: z.string().optional(),
  input_schema: z.record(z.string(), z.unknown()),
  defer_loading: z.boolean().optional(),
});

function pathText(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

/** Parses `value` with `schema`, or throws a 400 naming where it went wrong (Anthropic's wording style). */
export function parseOr400<T>(schema: z.ZodType<T>, value: unknown, at: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const where = [at, pathText(issue.path)].filter(Boolean).join('.');
  const msg = issue.code === 'invalid_type' && /received undefined/.test(issue.message) ? 'Field required' : issue.message;
  throw new HttpError(400, `${where}: ${msg}`, { param: where });
}
