/**
 * @module A fake Gemini API (Google AI, `v1beta`) that speaks the wire format faithfully, checked
 * against the `@google/genai` 2.32 SDK source (paths, `x-goog-api-key`, SSE parsing) and Gemini's
 * docs and published error bodies:
 * - `POST /v1beta/models/{model}:generateContent` → a `GenerateContentResponse` JSON
 *   (`candidates[0].content.parts`, `finishReason`, `usageMetadata`, `modelVersion`, `responseId`);
 * - `POST /v1beta/models/{model}:streamGenerateContent?alt=sse` → `data: {GenerateContentResponse}\r\n\r\n`
 *   frames with only the new parts in each (text is incremental), `usageMetadata` as a running total
 *   on every frame, a functionCall whole in one frame, `finishReason` on the last frame; without
 *   `alt=sse` it answers a JSON array, as the real API does;
 * - `GET /v1beta/models` → `{models:[…], nextPageToken}` paged by `pageSize`/`pageToken`;
 * - `POST /v1beta/models/{model}:batchEmbedContents` → `{embeddings:[{values}]}` (what the SDK's
 *   embedContent calls on the Gemini API; at most 100 requests, each naming the same model);
 * - errors as `{"error":{code,message,status,details}}`: a wrong key is 400 INVALID_ARGUMENT with
 *   ErrorInfo reason API_KEY_INVALID, a missing key 403 PERMISSION_DENIED, an unknown model 404
 *   NOT_FOUND, and requests the real API refuses are refused with its wording (unknown JSON fields
 *   such as `additionalProperties` in a schema, empty OBJECT properties, empty contents/parts, bad
 *   roles, non-alternating turns, functionResponse that is not an object, and — for Gemini 3 models —
 *   a replayed functionCall without a thoughtSignature).
 * Thought parts (`thought: true`) are sent only when `thinkingConfig.includeThoughts` is set, as the
 * real API does. Behaviour is scripted per request with `enqueue`; with nothing queued it echoes.
 */
import type { ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { startFakeServer, sendJson, type FakeServer, type RecordedRequest } from './fake-server.js';

export type GeminiFinishReason = 'STOP' | 'MAX_TOKENS' | 'SAFETY' | 'RECITATION' | 'PROHIBITED_CONTENT' | 'BLOCKLIST' | 'SPII' | 'OTHER' | 'MALFORMED_FUNCTION_CALL';

export type GeminiBehavior =
  | {
      type: 'reply';
      text?: string;
      /** Thought summary text (sent only when the request asked for includeThoughts). */
      reasoning?: string;
      /** Function calls; `id` is sent only when `withIds` is set (the API usually omits it). */
      toolCalls?: Array<{ id?: string; name: string; arguments: string }>;
      withIds?: boolean;
      /** A thoughtSignature on the first functionCall part (Gemini 3 sends one). */
      signature?: string;
      finishReason?: GeminiFinishReason;
      usage?: { prompt: number; candidates: number; thoughts?: number };
      /** Blocks the prompt: no candidates, `promptFeedback.blockReason`. */
      blockReason?: string;
    }
  | { type: 'error'; status: number; statusName: string; message: string; details?: unknown[] }
  /** 404 NOT_FOUND worded for the requested model. */
  | { type: 'not-found' }
  /** Streams one text frame ("partial") and never sends anything else. */
  | { type: 'stall' }
  /**
   * Streams one text frame ("partial"), then an error as a data frame and ends: how the API reports a
   * failure after the stream began (the SDK's throwIfStreamErrorChunk reads exactly this).
   */
  | { type: 'stream-error'; status: number; statusName: string; message: string };

export interface FakeModel {
  name: string;
  displayName?: string;
  inputTokenLimit?: number;
  outputTokenLimit?: number;
  supportedGenerationMethods?: string[];
  thinking?: boolean;
}

export interface FakeGemini extends FakeServer {
  /** The providers.json `endpoint` (the SDK appends /v1beta/…). */
  endpoint: string;
  apiKey: string;
  models: FakeModel[];
  enqueue(...b: GeminiBehavior[]): void;
  chatRequests(): RecordedRequest[];
}

const DEFAULT_MODELS: FakeModel[] = [
  { name: 'gemini-2.5-flash', displayName: 'Gemini 2.5 Flash', inputTokenLimit: 1048576, outputTokenLimit: 65536, thinking: true },
  { name: 'gemini-2.5-pro', displayName: 'Gemini 2.5 Pro', inputTokenLimit: 1048576, outputTokenLimit: 65536, thinking: true },
  { name: 'gemini-2.0-flash', displayName: 'Gemini 2.0 Flash', inputTokenLimit: 1048576, outputTokenLimit: 8192 },
  { name: 'gemini-3-pro-preview', displayName: 'Gemini 3 Pro Preview', inputTokenLimit: 1048576, outputTokenLimit: 65536, thinking: true },
  { name: 'text-embedding-004', displayName: 'Text Embedding 004', inputTokenLimit: 2048, outputTokenLimit: 1, supportedGenerationMethods: ['embedContent'] },
];

/** The fields of Gemini's `Schema` message; any other key is an "Unknown name" 400. */
const SCHEMA_FIELDS = new Set([
  'type', 'format', 'title', 'description', 'nullable', 'enum', 'maxItems', 'minItems', 'properties', 'required', 'minProperties',
  'maxProperties', 'minLength', 'maxLength', 'pattern', 'example', 'anyOf', 'propertyOrdering', 'default', 'items', 'minimum', 'maximum',
]);
const REQUEST_FIELDS = new Set(['contents', 'tools', 'toolConfig', 'safetySettings', 'systemInstruction', 'generationConfig', 'cachedContent', 'serviceTier', 'store']);
const GENERATION_FIELDS = new Set([
  'stopSequences', 'responseMimeType', 'responseSchema', 'responseJsonSchema', 'responseModalities', 'candidateCount', 'maxOutputTokens', 'temperature',
  'topP', 'topK', 'seed', 'presencePenalty', 'frequencyPenalty', 'responseLogprobs', 'logprobs', 'enableEnhancedCivicAnswers', 'speechConfig',
  'thinkingConfig', 'mediaResolution', 'imageConfig',
]);

export function geminiError(code: number, status: string, message: string, details?: unknown[]) {
  return { error: { code, message, status, ...(details ? { details } : {}) } };
}

function sendError(res: ServerResponse, code: number, status: string, message: string, details?: unknown[]): void {
  const text = JSON.stringify(geminiError(code, status, message, details), null, 2);
  res.writeHead(code, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export const API_KEY_INVALID_DETAILS = [
  { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } },
  { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message: 'API key not valid. Please pass a valid API key.' },
];

export function rateLimitError(model: string, retrySeconds?: number): Extract<GeminiBehavior, { type: 'error' }> {
  const details: unknown[] = [
    {
      '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
      violations: [
        {
          quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
          quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
          quotaDimensions: { location: 'global', model },
          quotaValue: '10',
        },
      ],
    },
    { '@type': 'type.googleapis.com/google.rpc.Help', links: [{ description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }] },
  ];
  if (retrySeconds !== undefined) details.push({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${retrySeconds}s` });
  return {
    type: 'error',
    status: 429,
    statusName: 'RESOURCE_EXHAUSTED',
    message: `You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 10, model: ${model}${retrySeconds !== undefined ? `\nPlease retry in ${retrySeconds}.${randomBytes(1)[0]! % 10}s.` : ''}`,
    details,
  };
}

function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The first schema keyword Gemini has no field for, as the API reports it. */
function checkSchema(schema: unknown, at: string): string | undefined {
  if (!isObject(schema)) return undefined;
  for (const key of Object.keys(schema)) {
    if (!SCHEMA_FIELDS.has(key)) return `Invalid JSON payload received. Unknown name "${key}" at '${at}': Cannot find field.`;
  }
  if (Array.isArray(schema.type)) return `Invalid JSON payload received. Unknown name "type" at '${at}': Proto field is not repeating, cannot start list.`;
  if (String(schema.type ?? '').toUpperCase() === 'OBJECT' && isObject(schema.properties) && Object.keys(schema.properties).length === 0) {
    return `* GenerateContentRequest.${at}.properties: should be non-empty for OBJECT type`;
  }
  if (Array.isArray(schema.enum) && schema.enum.some((v: unknown) => typeof v !== 'string')) {
    return `Invalid value at '${at}.enum[0]' (TYPE_STRING), ${JSON.stringify(schema.enum.find((v: unknown) => typeof v !== 'string'))}`;
  }
  if (isObject(schema.properties)) {
    let i = 0;
    for (const sub of Object.values(schema.properties)) {
      const e = checkSchema(sub, `${at}.properties[${i++}].value`);
      if (e) return e;
    }
  }
  if (schema.items) return checkSchema(schema.items, `${at}.items`);
  if (Array.isArray(schema.anyOf)) {
    for (const [k, sub] of schema.anyOf.entries()) {
      const e = checkSchema(sub, `${at}.any_of[${k}]`);
      if (e) return e;
    }
  }
  return undefined;
}

/** What the real API refuses with 400 INVALID_ARGUMENT, in its words; undefined when the body is fine. */
function validate(body: any, model: string): string | undefined {
  if (!isObject(body)) return 'Invalid JSON payload received.';
  for (const key of Object.keys(body)) if (!REQUEST_FIELDS.has(key)) return `Invalid JSON payload received. Unknown name "${key}": Cannot find field.`;
  for (const key of Object.keys(body.generationConfig ?? {})) {
    if (!GENERATION_FIELDS.has(key)) return `Invalid JSON payload received. Unknown name "${key}" at 'generation_config': Cannot find field.`;
  }
  if (!Array.isArray(body.contents) || body.contents.length === 0) return '* GenerateContentRequest.contents: contents is not specified\n';
  let prevRole: string | undefined;
  for (const [i, c] of body.contents.entries()) {
    if (c.role !== undefined && c.role !== 'user' && c.role !== 'model') return 'Please use a valid role: user, model.';
    if (!Array.isArray(c.parts) || c.parts.length === 0) return `* GenerateContentRequest.contents[${i}].parts: contents.parts must not be empty.\n`;
    const role = c.role ?? 'user';
    if (role === prevRole) return 'Please ensure that multiturn requests alternate between user and model.';
    prevRole = role;
    let firstCall = true;
    for (const [j, p] of c.parts.entries()) {
      if (p.functionResponse && !isObject(p.functionResponse.response)) {
        return `Invalid value at 'contents[${i}].parts[${j}].function_response.response' (type.googleapis.com/google.protobuf.Struct), ${JSON.stringify(p.functionResponse.response)}`;
      }
      if (p.functionCall) {
        if (model.startsWith('gemini-3') && firstCall && !p.thoughtSignature) {
          return `Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call \`default_api:${p.functionCall.name}\` , position ${j + 1}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.`;
        }
        firstCall = false;
      }
    }
  }
  for (const [t, tool] of (body.tools ?? []).entries()) {
    for (const [d, decl] of (tool.functionDeclarations ?? []).entries()) {
      const e = checkSchema(decl.parameters, `tools[${t}].function_declarations[${d}].parameters`);
      if (e) return e;
    }
  }
  const mode = body.toolConfig?.functionCallingConfig?.mode;
  if (mode !== undefined && !['MODE_UNSPECIFIED', 'AUTO', 'ANY', 'NONE', 'VALIDATED'].includes(mode)) {
    return `Invalid value at 'tool_config.function_calling_config.mode' (type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCallingConfig.Mode), "${mode}"`;
  }
  return undefined;
}

function lastUserText(body: any): string {
  const contents: any[] = Array.isArray(body?.contents) ? body.contents : [];
  for (let i = contents.length - 1; i >= 0; i--) {
    const c = contents[i];
    if ((c.role ?? 'user') !== 'user') continue;
    const text = (c.parts ?? []).filter((p: any) => typeof p.text === 'string').map((p: any) => p.text).join(' ');
    if (text) return text;
  }
  return '';
}

/** A rough, deterministic prompt count (4 characters a token), as the API reports its own. */
function promptTokens(body: any): number {
  return Math.max(1, Math.ceil(JSON.stringify([body?.systemInstruction ?? '', body?.contents ?? '', body?.tools ?? '']).length / 4));
}

function splitText(text: string): string[] {
  const out = text.match(/\S+\s*|\s+/g) ?? [];
  return out.length ? out : [''];
}

export async function startFakeGemini(opts: { apiKey?: string; models?: FakeModel[]; pageSize?: number } = {}): Promise<FakeGemini> {
  const apiKey = opts.apiKey ?? `AIzaSy${randomBytes(16).toString('hex')}`;
  const models = opts.models ?? DEFAULT_MODELS;
  const queue: GeminiBehavior[] = [];

  const server = await startFakeServer(async (req, res) => {
    // The API takes the key from x-goog-api-key (what the SDK sends) or ?key=.
    const key = (req.headers['x-goog-api-key'] as string | undefined) ?? req.query.get('key') ?? undefined;
    const isChat = req.method === 'POST' && /^\/v1beta\/models\/[^/]+:(generateContent|streamGenerateContent)$/.test(req.path);
    const behavior = isChat ? queue.shift() : undefined;

    if (!key) {
      return sendError(res, 403, 'PERMISSION_DENIED', 'Method doesn\'t allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.');
    }
    if (key !== apiKey) return sendError(res, 400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', API_KEY_INVALID_DETAILS);

    if (req.method === 'GET' && req.path === '/v1beta/models') {
      const size = Math.min(1000, Number(req.query.get('pageSize') ?? opts.pageSize ?? 50) || 50);
      const token = req.query.get('pageToken');
      const start = token ? Number(Buffer.from(token, 'base64').toString('utf8')) : 0;
      const page = models.slice(start, start + size).map((m) => ({
        name: `models/${m.name}`,
        version: '001',
        displayName: m.displayName ?? m.name,
        description: `${m.displayName ?? m.name} (fake)`,
        inputTokenLimit: m.inputTokenLimit ?? 32768,
        outputTokenLimit: m.outputTokenLimit ?? 8192,
        supportedGenerationMethods: m.supportedGenerationMethods ?? ['generateContent', 'countTokens', 'createCachedContent', 'batchGenerateContent'],
        temperature: 1,
        topP: 0.95,
        topK: 64,
        maxTemperature: 2,
        ...(m.thinking ? { thinking: true } : {}),
      }));
      const next = start + size < models.length ? Buffer.from(String(start + size)).toString('base64') : undefined;
      return sendJson(res, 200, { models: page, ...(next ? { nextPageToken: next } : {}) });
    }

    const e = /^\/v1beta\/models\/([^/:]+):batchEmbedContents$/.exec(req.path);
    if (req.method === 'POST' && e) return embed(res, e[1]!, req.body);

    const m = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/.exec(req.path);
    if (req.method !== 'POST' || !m) {
      return sendError(res, 404, 'NOT_FOUND', `Requested entity was not found.`);
    }
    const [, model, method] = m as unknown as [string, string, string];
    if (behavior?.type === 'not-found' || !models.some((x) => x.name === model)) {
      return sendError(res, 404, 'NOT_FOUND', `models/${model} is not found for API version v1beta, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`);
    }
    const invalid = validate(req.body, model);
    if (invalid) return sendError(res, 400, 'INVALID_ARGUMENT', invalid);
    if (behavior?.type === 'error') return sendError(res, behavior.status, behavior.statusName, behavior.message, behavior.details);

    const b = behavior ?? { type: 'reply' as const };
    if (method === 'generateContent') return sendJson(res, 200, buildFrames(req.body, model, b, false)[0]);
    const sse = req.query.get('alt') === 'sse';
    if (!sse) return sendJson(res, 200, buildFrames(req.body, model, b, true));
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
    const frames = buildFrames(req.body, model, b, true);
    for (const f of frames) {
      if (res.destroyed) return;
      res.write(`data: ${JSON.stringify(f)}\r\n\r\n`);
      // A tick between frames, so they reach the client as separate network reads.
      await new Promise<void>((r) => setImmediate(r));
    }
    if (b.type === 'stall') return; // keeps the connection open, sending nothing more
    if (b.type === 'stream-error') res.write(`data: ${JSON.stringify(geminiError(b.status, b.statusName, b.message))}\r\n\r\n`);
    res.end();
  });

  /** batchEmbedContents: one deterministic vector per request (`outputDimensionality`, else 8 values). */
  function embed(res: ServerResponse, model: string, body: any): void {
    const entry = models.find((x) => x.name === model);
    if (!entry || !(entry.supportedGenerationMethods ?? []).includes('embedContent')) {
      return sendError(res, 404, 'NOT_FOUND', `models/${model} is not found for API version v1beta, or is not supported for batchEmbedContents. Call ListModels to see the list of available models and their supported methods.`);
    }
    const requests: any[] = Array.isArray(body?.requests) ? body.requests : [];
    if (requests.length === 0) return sendError(res, 400, 'INVALID_ARGUMENT', '* BatchEmbedContentsRequest.requests: requests is not specified\n');
    if (requests.length > 100) return sendError(res, 400, 'INVALID_ARGUMENT', '* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch\n');
    for (const [i, r] of requests.entries()) {
      if (r.model !== `models/${model}`) {
        return sendError(res, 400, 'INVALID_ARGUMENT', `Model names should be the same in the batch request and the embed content requests; found models/${model} and ${r.model} at requests[${i}].`);
      }
      if (!Array.isArray(r.content?.parts) || r.content.parts.length === 0) return sendError(res, 400, 'INVALID_ARGUMENT', `* BatchEmbedContentsRequest.requests[${i}].content.parts: contents.parts must not be empty.\n`);
    }
    const embeddings = requests.map((r) => {
      const text = r.content.parts.map((p: any) => p.text ?? '').join(' ');
      const dims = typeof r.outputDimensionality === 'number' ? r.outputDimensionality : 8;
      return { values: Array.from({ length: dims }, (_, k) => Number((((text.length + 1) * (k + 1)) % 97 / 97).toFixed(6))) };
    });
    sendJson(res, 200, { embeddings });
  }

  return Object.assign(server, {
    endpoint: server.origin,
    apiKey,
    models,
    enqueue: (...b: GeminiBehavior[]) => void queue.push(...b),
    chatRequests: () => server.requests.filter((r) => /:(generateContent|streamGenerateContent)$/.test(r.path)),
  });
}

/** The response (one frame) or the stream's frames for a scripted behaviour. */
function buildFrames(body: any, model: string, b: GeminiBehavior, stream: boolean): Array<Record<string, unknown>> {
  const responseId = randomBytes(12).toString('base64url');
  const head = { modelVersion: model, responseId };
  const prompt = promptTokens(body);
  if (b.type === 'stall' || b.type === 'stream-error') {
    return [{ candidates: [{ content: { parts: [{ text: 'partial' }], role: 'model' }, index: 0 }], usageMetadata: { promptTokenCount: prompt, totalTokenCount: prompt }, ...head }];
  }
  if (b.type !== 'reply') return [];
  const usage = (candidates: number, thoughts: number) => {
    const p = b.usage?.prompt ?? prompt;
    const u: Record<string, unknown> = {
      promptTokenCount: p,
      candidatesTokenCount: candidates,
      totalTokenCount: p + candidates + thoughts,
      promptTokensDetails: [{ modality: 'TEXT', tokenCount: p }],
    };
    if (thoughts) u.thoughtsTokenCount = thoughts;
    return u;
  };
  if (b.blockReason) {
    return [{ promptFeedback: { blockReason: b.blockReason, safetyRatings: [] }, usageMetadata: { promptTokenCount: b.usage?.prompt ?? prompt, totalTokenCount: b.usage?.prompt ?? prompt }, ...head }];
  }

  const includeThoughts = body?.generationConfig?.thinkingConfig?.includeThoughts === true;
  const thought = includeThoughts && b.reasoning ? b.reasoning : undefined;
  const calls = b.toolCalls ?? [];
  const text = b.text ?? (calls.length ? '' : `echo: ${lastUserText(body)}`);
  const finishReason = b.finishReason ?? 'STOP';
  const totalCandidates = b.usage?.candidates ?? Math.max(1, Math.ceil((text.length + JSON.stringify(calls).length) / 4));
  const totalThoughts = b.usage?.thoughts ?? (b.reasoning ? Math.max(1, Math.ceil(b.reasoning.length / 4)) : 0);
  const callParts = calls.map((c, i) => {
    const part: Record<string, unknown> = { functionCall: { name: c.name, args: JSON.parse(c.arguments || '{}'), ...(b.withIds && c.id ? { id: c.id } : {}) } };
    if (i === 0 && b.signature) part.thoughtSignature = b.signature;
    return part;
  });
  const safety = finishReason === 'SAFETY' ? { safetyRatings: [{ category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', blocked: true }] } : {};

  if (!stream) {
    const parts: Array<Record<string, unknown>> = [];
    if (thought) parts.push({ text: thought, thought: true });
    if (text) parts.push({ text });
    parts.push(...callParts);
    const candidate: Record<string, unknown> = { finishReason, index: 0, ...safety };
    // A candidate stopped by a filter before any output has no content at all.
    if (parts.length) candidate.content = { parts, role: 'model' };
    return [{ candidates: [candidate], usageMetadata: usage(totalCandidates, totalThoughts), ...head }];
  }

  // Streamed: one frame per thought, per text piece, one for all function calls; usage is a running total.
  const frames: Array<Array<Record<string, unknown>>> = [];
  if (thought) frames.push([{ text: thought, thought: true }]);
  if (text) for (const piece of splitText(text)) frames.push([{ text: piece }]);
  if (callParts.length) frames.push(callParts);
  if (frames.length === 0) frames.push([]);
  let sentCandidates = 0;
  return frames.map((parts, i) => {
    const lastFrame = i === frames.length - 1;
    sentCandidates = lastFrame ? totalCandidates : Math.min(totalCandidates, sentCandidates + 1);
    const candidate: Record<string, unknown> = { index: 0 };
    if (parts.length) candidate.content = { parts, role: 'model' };
    if (lastFrame) Object.assign(candidate, { finishReason }, safety);
    return { candidates: [candidate], usageMetadata: usage(sentCandidates, totalThoughts), ...head };
  });
}
