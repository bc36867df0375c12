/**
 * @module The adapter for Google Gemini (`"type": "google"`), on the official `@google/genai` SDK:
 * OpenAI chat requests translated to `generateContent` / `streamGenerateContent?alt=sse`, answers
 * translated back, errors mapped to the error-policy kinds, and `models.list` as OpenAI model entries.
 */
import { copyWith } from '../../copy-with.js';
import { GoogleGenAI } from '@google/genai';
import type { ProviderConfig } from '../../config/schema.js';
import { guardStream, withDeadline } from '../deadline.js';
import { ClientPool } from '../client-pool.js';
import { floatsToBase64 } from '../float32-base64.js';
import { fetchImage } from '../fetch-image.js';
import { createNodeHttpFetch } from '../node-http-fetch.js';
import { estimateTextsTokens } from '../../tokens/count-tokens.js';
import type { CallContext, ChatCompletion, ChatRequest, ChatStreamPart, EmbedRequest, EmbedResult, ModelInfo, ProviderAdapter } from '../provider-adapter.js';
import type { AudioResult, ImageEditRequest, ImageRequest, ImageResult, SpeechRequest, VideoContentVariant, VideoJob, VideoRequest } from '../provider-adapter.js';
import { ProviderError } from '../provider-error.js';
import { embeddingTexts } from '../embedding-input.js';
import { convertGeminiResponse } from './convert-gemini-response.js';
import { convertToGeminiRequest } from './convert-to-gemini-request.js';
import { GEMINI_DEFAULT_ENDPOINT, type GenerateContentParameters, type GenerateContentResponse, type Model } from './gemini-api.js';
import { geminiStreamToParts } from './gemini-stream.js';
import { mapGeminiError } from './map-gemini-error.js';
import type { GeminiMediaContext } from './gemini-media.js';
import { editGeminiImage, generateGeminiImage } from './gemini-image.js';
import { speakGemini } from './gemini-speech.js';
import { getGeminiVideo, getGeminiVideoContent, startGeminiVideo } from './gemini-video.js';

/**
 * What may stand in the `{model}` segment of `/v1beta/models/{model}:generateContent`. The SDK joins
 * it into the URL, so anything else (slashes, `..`, `?`) is refused before a request is built.
 */
const MODEL_NAME_RE = /^(?:models\/|tunedModels\/)?[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** batchEmbedContents takes at most 100 requests per call. */
const EMBED_BATCH = 100;

/** Upper bound on models.list pages (50 models each), in case an upstream keeps handing out tokens. */
const MAX_MODEL_PAGES = 20;

/** The SDK clients of one Gemini API host (client-pool.ts), one per key. */
export class GeminiClientPool extends ClientPool<GoogleGenAI> {
  constructor(baseUrl: string) {
    // '' rather than undefined: the SDK would otherwise read GOOGLE_API_KEY / GEMINI_API_KEY from the
    // environment and send that key to whatever endpoint this provider points at. vertexai: false pins
    // the Gemini API even when GOOGLE_GENAI_USE_VERTEXAI is set in the environment. No retryOptions:
    // retries and failover are the attempt loop's job.
    // Our node:http transport, not the global fetch (undici: ~1,100 against ~300 µs of CPU a call,
    // and new hidden classes per request on Node 20); the SDK reads streams with getReader().
    const fetch = createNodeHttpFetch({ byteReader: true });
    super(baseUrl, (apiKey) => new GoogleGenAI({ apiKey: apiKey ?? '', vertexai: false, httpOptions: { baseUrl, fetch } }));
  }
}

/** The SDK's ListModels entry → an OpenAI model entry (Gemini names are `models/<id>`). */
function toModelInfo(m: Model): ModelInfo {
  const info: ModelInfo = { id: (m.name ?? '').replace(/^models\//, ''), object: 'model', owned_by: 'google' };
  if (m.displayName) info.display_name = m.displayName;
  if (m.description) info.description = m.description;
  if (m.inputTokenLimit) info.context_size = m.inputTokenLimit;
  if (m.outputTokenLimit) info.max_output_tokens = m.outputTokenLimit;
  if (m.supportedActions) info.supported_generation_methods = m.supportedActions;
  return info;
}

export class GeminiAdapter implements ProviderAdapter {
  readonly pool: GeminiClientPool;

  constructor(
    readonly id: string,
    config: Pick<ProviderConfig, 'endpoint'>,
  ) {
    this.pool = new GeminiClientPool(config.endpoint ?? GEMINI_DEFAULT_ENDPOINT);
    this.media = { id, pool: this.pool, baseUrl: config.endpoint ?? GEMINI_DEFAULT_ENDPOINT };
  }

  /** Images, speech and video (gemini-image.ts, gemini-speech.ts, gemini-video.ts) share the pool. */
  private readonly media: GeminiMediaContext;

  generateImage(req: ImageRequest, ctx: CallContext): Promise<ImageResult> {
    return generateGeminiImage(this.media, req, ctx);
  }

  editImage(req: ImageEditRequest, ctx: CallContext): Promise<ImageResult> {
    return editGeminiImage(this.media, req, ctx);
  }

  speak(req: SpeechRequest, ctx: CallContext): Promise<AudioResult> {
    return speakGemini(this.media, req, ctx);
  }

  startVideo(req: VideoRequest, ctx: CallContext): Promise<VideoJob> {
    return startGeminiVideo(this.media, req, ctx);
  }

  getVideo(id: string, ctx: CallContext): Promise<VideoJob> {
    return getGeminiVideo(this.media, id, ctx);
  }

  getVideoContent(id: string, ctx: CallContext, opts?: { variant?: VideoContentVariant }): Promise<Response> {
    return getGeminiVideoContent(this.media, id, ctx, opts);
  }

  private checkModel(model: string): void {
    if (!MODEL_NAME_RE.test(model) || model.includes('..')) {
      throw new ProviderError(`'${model}' is not a valid Gemini model name`, { kind: 'not_found', status: 404, provider: this.id, model });
    }
  }

  /** Translates the request; image URLs are fetched under the call's signal. */
  private buildParams(req: ChatRequest, ctx: CallContext, signal: AbortSignal): Promise<GenerateContentParameters> {
    const policy = ctx.imagePolicy;
    return convertToGeminiRequest(req, {
      provider: this.id,
      model: ctx.model,
      loadImage: (url) =>
        fetchImage(url, { signal, allowPrivate: policy?.allowPrivate, maxBytes: policy?.maxBytes, timeoutMs: policy?.timeoutMs, provider: this.id, model: ctx.model }),
    });
  }

  chat(req: ChatRequest, ctx: CallContext): Promise<ChatCompletion> {
    const client = this.pool.get(ctx.apiKey);
    return withDeadline(ctx, { provider: this.id, mapError: mapGeminiError(this.id, ctx.model) }, async (signal) => {
      this.checkModel(ctx.model);
      const params = await this.buildParams(req, ctx, signal);
      // automaticContinuation off: one request per call; retries are the attempt loop's decision.
      const res = await client.models.generateContent({ ...params, config: copyWith(params.config ?? {}, { abortSignal: signal, automaticContinuation: false }) });
      return convertGeminiResponse(res, req.model);
    });
  }

  streamChat(req: ChatRequest, ctx: CallContext): AsyncIterable<ChatStreamPart> {
    const client = this.pool.get(ctx.apiKey);
    return guardStream(
      ctx,
      { provider: this.id, mapError: mapGeminiError(this.id, ctx.model) },
      async (signal): Promise<AsyncIterable<GenerateContentResponse>> => {
        this.checkModel(ctx.model);
        const params = await this.buildParams(req, ctx, signal);
        // automaticContinuation off: the SDK would otherwise reconnect a dropped stream on its own,
        // hiding the failure from the attempt loop and replaying text the client already has.
        return client.models.generateContentStream({ ...params, config: copyWith(params.config ?? {}, { abortSignal: signal, automaticContinuation: false }) });
      },
      geminiStreamToParts(this.id, ctx.model),
    );
  }

  listModels(ctx: CallContext): Promise<ModelInfo[]> {
    const client = this.pool.get(ctx.apiKey);
    return withDeadline(ctx, { provider: this.id, model: '*', mapError: mapGeminiError(this.id, '*') }, async (signal) => {
      const pager = await client.models.list({ config: { abortSignal: signal } });
      const out: ModelInfo[] = pager.page.map(toModelInfo);
      for (let pages = 1; pager.hasNextPage() && pages < MAX_MODEL_PAGES; pages++) {
        out.push(...(await pager.nextPage()).map(toModelInfo));
      }
      return out;
    });
  }

  /**
   * OpenAI embeddings via `batchEmbedContents` (what the SDK's embedContent calls on the Gemini API).
   * Gemini reports no token counts for embeddings, so usage is our estimate of the input (estimateTextsTokens).
   */
  embed(req: EmbedRequest, ctx: CallContext): Promise<EmbedResult> {
    const texts = embeddingTexts(req.input, this.id, ctx.model, 'Gemini');
    const client = this.pool.get(ctx.apiKey);
    return withDeadline(ctx, { provider: this.id, mapError: mapGeminiError(this.id, ctx.model) }, async (signal) => {
      this.checkModel(ctx.model);
      const vectors: number[][] = [];
      for (let i = 0; i < texts.length; i += EMBED_BATCH) {
        const batch = texts.slice(i, i + EMBED_BATCH);
        const res = await client.models.embedContent({
          model: ctx.model,
          contents: batch,
          config: { abortSignal: signal, ...(typeof req.dimensions === 'number' ? { outputDimensionality: req.dimensions } : {}) },
        });
        const got = res.embeddings ?? [];
        if (got.length !== batch.length || got.some((e) => !Array.isArray(e.values))) {
          throw new ProviderError(`batchEmbedContents returned ${got.length} embeddings for ${batch.length} inputs`, { kind: 'malformed', provider: this.id, model: ctx.model });
        }
        for (const e of got) vectors.push(e.values!);
      }
      const base64 = req.encoding_format === 'base64';
      const tokens = estimateTextsTokens(texts);
      return {
        object: 'list',
        data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding: base64 ? floatsToBase64(embedding) : embedding })),
        model: req.model,
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      };
    });
  }
}
