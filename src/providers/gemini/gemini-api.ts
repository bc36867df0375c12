/**
 * @module The Gemini wire types this folder uses (the `@google/genai` SDK's own request/response
 * types, re-exported under one roof) and zod schemas of the only upstream shapes we parse ourselves:
 * the error body `{"error":{code,message,status,details}}` that the SDK folds into `ApiError.message`.
 * None of this leaves the gemini folder.
 */
import { z } from 'zod';

export type {
  Content,
  FunctionDeclaration,
  GenerateContentConfig,
  GenerateContentParameters,
  GenerateContentResponse,
  GenerateContentResponseUsageMetadata,
  Model,
  Part,
  Schema,
  ToolConfig,
} from '@google/genai';

/** The API's own default host; the SDK appends `/v1beta/…`. */
export const GEMINI_DEFAULT_ENDPOINT = 'https://generativelanguage.googleapis.com';

/** google.rpc.Status detail entries we read (ErrorInfo reason, RetryInfo delay); others are kept loose. */
const errorDetailSchema = z.looseObject({
  '@type': z.string().optional(),
  reason: z.string().optional(),
  retryDelay: z.string().optional(),
});

export const geminiErrorBodySchema = z.looseObject({
  error: z.looseObject({
    code: z.number().optional(),
    message: z.string().optional(),
    status: z.string().optional(),
    details: z.array(errorDetailSchema).optional(),
  }),
});
export type GeminiErrorBody = z.infer<typeof geminiErrorBodySchema>;
