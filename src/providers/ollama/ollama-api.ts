/**
 * @module Ollama's native wire format (`/api/chat`, `/api/tags`, `/api/embed`), holding only the fields
 * we use. The `ollama` SDK's own types lag the server (no tool-call `id`/`index`, no `tool_call_id`),
 * so the request shapes are declared here; responses are checked with zod because a streamed line we
 * cannot read must become a `malformed` error, not a crash.
 */
import { z } from 'zod';

export interface OllamaToolCall {
  /** Sent by Ollama ≥ 0.12 (`call_…`); older servers omit it. */
  id?: string;
  function: { index?: number; name: string; arguments: Record<string, unknown> };
}

export interface OllamaMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  /** Base64 without a data: prefix. */
  images?: string[];
  thinking?: string;
  tool_calls?: OllamaToolCall[];
  /** For `tool` messages: which function produced the result (Ollama matches results by name). */
  tool_name?: string;
  tool_call_id?: string;
}

export interface OllamaTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown> };
}

export interface OllamaOptions {
  num_predict?: number;
  temperature?: number;
  top_p?: number;
  stop?: string[];
  seed?: number;
  frequency_penalty?: number;
  presence_penalty?: number;
  /** Context window; Ollama's default is small and it truncates silently beyond it. */
  num_ctx?: number;
}

export type OllamaThink = boolean | 'low' | 'medium' | 'high';

export interface OllamaChatRequest {
  model: string;
  messages: OllamaMessage[];
  stream: boolean;
  tools?: OllamaTool[];
  /** `"json"` or a JSON schema. */
  format?: 'json' | Record<string, unknown>;
  options?: OllamaOptions;
  think?: OllamaThink;
  keep_alive?: string | number;
}

const toolCallSchema = z.looseObject({
  id: z.string().optional(),
  function: z.looseObject({
    index: z.number().optional(),
    name: z.string(),
    // Always an object on the wire; a string is tolerated (and passed on as JSON text).
    arguments: z.union([z.record(z.string(), z.unknown()), z.string()]).optional(),
  }),
});

/** One NDJSON line of a streamed `/api/chat`, or the whole non-streamed answer. */
export const ollamaChatResponseSchema = z.looseObject({
  model: z.string().optional(),
  created_at: z.string().optional(),
  message: z
    .looseObject({
      role: z.string().optional(),
      content: z.string().nullish(),
      thinking: z.string().nullish(),
      tool_calls: z.array(toolCallSchema).nullish(),
    })
    .optional(),
  done: z.boolean(),
  done_reason: z.string().optional(),
  prompt_eval_count: z.number().optional(),
  eval_count: z.number().optional(),
});
export type OllamaChatResponse = z.infer<typeof ollamaChatResponseSchema>;
export type OllamaResponseToolCall = z.infer<typeof toolCallSchema>;

export const ollamaTagsSchema = z.looseObject({
  models: z.array(z.looseObject({ name: z.string(), model: z.string().optional(), modified_at: z.string().optional() })),
});

export const ollamaEmbedResponseSchema = z.looseObject({
  model: z.string().optional(),
  embeddings: z.array(z.array(z.number())),
  prompt_eval_count: z.number().optional(),
});
