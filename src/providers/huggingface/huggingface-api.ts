/**
 * @module The error bodies Hugging Face's inference router (and the providers behind it) send, holding
 * only the fields we read. The router's own errors use OpenAI's envelope; errors relayed from
 * providers and from HF's serverless inference come as `{"error": "…"}` (503 while a model loads adds
 * `estimated_time` in seconds), `{"error": ["…"]}`, `{"message": "…"}` (e.g. SambaNova) or FastAPI's
 * `{"detail": "…" | [{msg}]}` (the same shapes huggingface.js reads in its `innerRequest`).
 */
import { z } from 'zod';

export const huggingFaceErrorBodySchema = z.looseObject({
  error: z
    .union([
      z.string(),
      z.array(z.string()),
      z.looseObject({ message: z.unknown().optional(), type: z.unknown().optional(), code: z.unknown().optional(), param: z.unknown().optional() }),
    ])
    .optional(),
  error_type: z.string().optional(),
  estimated_time: z.number().optional(),
  message: z.string().optional(),
  detail: z.union([z.string(), z.array(z.looseObject({ msg: z.string().optional() }))]).optional(),
});
export type HuggingFaceErrorBody = z.infer<typeof huggingFaceErrorBodySchema>;

/** OpenAI's error envelope, which the openai SDK reads message/type/code/param from. */
export interface OpenAIErrorEnvelope {
  error: { message: string; type: string; param: string | null; code: string | null; [extra: string]: unknown };
}
