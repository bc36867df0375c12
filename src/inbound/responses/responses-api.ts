/**
 * @module Zod schemas of the Responses API request fields aisbf reads. Items, content parts and
 * tools are checked one by one in parse-responses-request.ts, so an unknown type gets its own 400 (or
 * a logged drop) naming it.
 */
import { z } from 'zod';

export const typed = z.looseObject({ type: z.string() });
export type WireTyped = z.infer<typeof typed>;

/** An input item: `{role, content}` (type optional: EasyInputMessage) or any typed item. */
export const inputItem = z.looseObject({ type: z.string().optional(), role: z.string().optional() });
export type WireItem = z.infer<typeof inputItem>;

export const responsesRequestSchema = z.looseObject({
  model: z.string().min(1).optional(),
  input: z.union([z.string(), z.array(inputItem)]).optional(),
  instructions: z.string().nullish(),
  previous_response_id: z.string().nullish(),
  store: z.boolean().nullish(),
  stream: z.boolean().nullish(),
  tools: z.array(typed).optional(),
  tool_choice: z.union([z.enum(['auto', 'none', 'required']), z.looseObject({ type: z.string(), name: z.string().optional() })]).optional(),
  parallel_tool_calls: z.boolean().nullish(),
  text: z
    .looseObject({
      format: z
        .looseObject({ type: z.string(), name: z.string().optional(), schema: z.record(z.string(), z.unknown()).optional(), strict: z.boolean().nullish(), description: z.string().optional() })
        .optional(),
    })
    .nullish(),
  reasoning: z.looseObject({ effort: z.string().nullish(), summary: z.string().nullish() }).nullish(),
  max_output_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  user: z.string().nullish(),
});
export type ResponsesRequest = z.infer<typeof responsesRequestSchema>;

export const messageItem = z.looseObject({
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content: z.union([z.string(), z.array(typed)]),
});
export const functionCallItem = z.looseObject({ type: z.literal('function_call'), call_id: z.string(), name: z.string(), arguments: z.string() });
export const functionCallOutputItem = z.looseObject({
  type: z.literal('function_call_output'),
  call_id: z.string(),
  output: z.union([z.string(), z.array(typed)]),
});
export const inputText = z.looseObject({ type: z.string(), text: z.string() });
export const inputImage = z.looseObject({
  type: z.literal('input_image'),
  image_url: z.string().nullish(),
  file_id: z.string().nullish(),
  detail: z.enum(['auto', 'low', 'high']).optional(),
});
export const inputFile = z.looseObject({
  type: z.literal('input_file'),
  file_data: z.string().nullish(),
  filename: z.string().nullish(),
  file_url: z.string().nullish(),
  file_id: z.string().nullish(),
});
export const functionTool = z.looseObject({
  type: z.literal('function'),
  name: z.string().min(1),
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
});
