/**
 * @module The OpenAI chat request at the edge: zod schema (loose: unknown fields travel on), OpenAI's
 * own error wording, `model` validated, and the nesting of each tool call's `arguments` string bounded
 * (converters parse it). `model` is optional here: on `/api/{rotation or autoselect id}` the id chooses.
 */
import { z } from 'zod';
import type { ChatRequest } from '../../providers/openai-types.js';
import { checkJsonTextDepth, checkModel, checkToolContentDepth, zodToHttpError } from '../json-body.js';

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
  model: z.string().min(1).optional(),
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

/**
 * A parsed chat body → ChatRequest. The body's own nesting was bounded by parseJsonBody; `model` may
 * be missing (the route decides). `model` is the client's: it never goes into a header unencoded.
 */
export function parseChatRequest(body: Record<string, unknown>): ChatRequest {
  checkModel(body.model);
  const r = chatRequestSchema.safeParse(body);
  if (!r.success) throw zodToHttpError(r.error, body);
  const req = r.data as unknown as ChatRequest;
  const messages = req.messages;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    const calls = m.tool_calls;
    if (calls) for (let j = 0; j < calls.length; j++) checkJsonTextDepth(calls[j]!.function.arguments, `messages[${i}].tool_calls[${j}].function.arguments`);
    // A tool's output is JSON-parsed by converters that need an object (Gemini's functionResponse).
    if (m.role === 'tool') checkToolContentDepth(m.content, `messages[${i}].content`);
  }
  return req;
}
