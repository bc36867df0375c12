/**
 * @module The adapter for `"type": "huggingface"`. Chat goes to Hugging Face's inference router, which
 * is OpenAI-compatible (`https://router.huggingface.co/v1/chat/completions`, Bearer HF token), so it
 * reuses the OpenAI adapter unchanged, with one difference in its clients: a fetch that rewrites HF's
 * error bodies into OpenAI's shape (map-huggingface-error.ts), and HF-specific re-classification of
 * what comes out.
 *
 * Composition rather than inheritance: only chat, streaming and model listing are the router's
 * OpenAI-compatible surface; Hugging Face's other tasks (images, speech, embeddings …) have their own
 * wire formats and are added to this class as methods of their own.
 */
import OpenAI from 'openai';
import type { ProviderConfig } from '../../config/schema.js';
import type { CallContext, ChatCompletion, ChatRequest, ChatStreamPart, ModelInfo, ProviderAdapter } from '../provider-adapter.js';
import { OpenAIAdapter, OpenAIClientPool } from '../openai/openai-adapter.js';
import { createHuggingFaceFetch, refineHuggingFaceError } from './map-huggingface-error.js';
import { createNodeHttpFetch } from '../node-http-fetch.js';
import { HuggingFaceTasks } from './huggingface-tasks.js';
import type { AudioResult, EmbedRequest, EmbedResult, ImageEditRequest, ImageRequest, ImageResult, SpeechRequest, TranscriptionRequest, TranscriptionResult, VideoContentVariant, VideoJob, VideoRequest } from '../provider-adapter.js';

export const HUGGINGFACE_DEFAULT_ENDPOINT = 'https://router.huggingface.co/v1';

/** OpenAI SDK clients for the HF router, one per token, built once, with HF's error normalization. */
export class HuggingFaceClientPool extends OpenAIClientPool {
  constructor(endpoint: string) {
    super(endpoint, { fetch: createHuggingFaceFetch(createNodeHttpFetch()) });
  }
}

/** The OpenAI adapter on HF clients. */
class HuggingFaceRouterChat extends OpenAIAdapter {
  override readonly pool: OpenAIClientPool = new HuggingFaceClientPool(this.config.endpoint ?? HUGGINGFACE_DEFAULT_ENDPOINT);
}

/**
 * What the models behind the router understand: their chat templates know system/user/assistant/tool
 * but not OpenAI's newer `developer` role, and several serving stacks read only `max_tokens`.
 */
function forRouter(req: ChatRequest): ChatRequest {
  const hasDeveloper = req.messages.some((m) => m.role === 'developer');
  const maxCompletion = req.max_completion_tokens;
  if (!hasDeveloper && (maxCompletion == null || req.max_tokens != null)) return req;
  const out: ChatRequest = { ...req };
  if (hasDeveloper) out.messages = req.messages.map((m) => (m.role === 'developer' ? { ...m, role: 'system' } : m));
  if (maxCompletion != null && req.max_tokens == null) {
    out.max_tokens = maxCompletion;
    delete out.max_completion_tokens;
  }
  return out;
}

export class HuggingFaceAdapter implements ProviderAdapter {
  /** The router's OpenAI-compatible base URL (…/v1). */
  readonly endpoint: string;
  protected readonly router: OpenAIAdapter;

  constructor(
    readonly id: string,
    readonly config: Pick<ProviderConfig, 'endpoint'>,
  ) {
    this.endpoint = config.endpoint ?? HUGGINGFACE_DEFAULT_ENDPOINT;
    this.router = new HuggingFaceRouterChat(id, { endpoint: this.endpoint });
    this.tasks = new HuggingFaceTasks(id, this.endpoint);
  }

  /** HF's task endpoints (`…/hf-inference/models/{model}`): huggingface-tasks.ts. */
  protected readonly tasks: HuggingFaceTasks;

  embed(req: EmbedRequest, ctx: CallContext): Promise<EmbedResult> {
    return this.tasks.embed(req, ctx);
  }

  generateImage(req: ImageRequest, ctx: CallContext): Promise<ImageResult> {
    return this.tasks.generateImage(req, ctx);
  }

  editImage(req: ImageEditRequest, ctx: CallContext): Promise<ImageResult> {
    return this.tasks.editImage(req, ctx);
  }

  speak(req: SpeechRequest, ctx: CallContext): Promise<AudioResult> {
    return this.tasks.speak(req, ctx);
  }

  transcribe(req: TranscriptionRequest, ctx: CallContext): Promise<TranscriptionResult> {
    return this.tasks.transcribe(req, ctx);
  }

  startVideo(req: VideoRequest, ctx: CallContext): Promise<VideoJob> {
    return this.tasks.startVideo(req, ctx);
  }

  getVideo(id: string, ctx: CallContext): Promise<VideoJob> {
    return this.tasks.getVideo(id, ctx);
  }

  getVideoContent(id: string, ctx: CallContext, opts?: { variant?: VideoContentVariant }): Promise<Response> {
    return this.tasks.getVideoContent(id, ctx, opts);
  }

  async chat(req: ChatRequest, ctx: CallContext): Promise<ChatCompletion> {
    try {
      return await this.router.chat(forRouter(req), ctx);
    } catch (err) {
      throw refineHuggingFaceError(err, ctx.keySource);
    }
  }

  async *streamChat(req: ChatRequest, ctx: CallContext): AsyncGenerator<ChatStreamPart> {
    try {
      yield* this.router.streamChat(forRouter(req), ctx);
    } catch (err) {
      throw refineHuggingFaceError(err, ctx.keySource);
    }
  }

  async listModels(ctx: CallContext): Promise<ModelInfo[]> {
    try {
      return await this.router.listModels(ctx);
    } catch (err) {
      throw refineHuggingFaceError(err, ctx.keySource);
    }
  }
}
