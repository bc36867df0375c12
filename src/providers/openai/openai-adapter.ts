/**
 * @module The adapter for OpenAI and any OpenAI-compatible endpoint (vLLM, LM Studio, DeepSeek, Groq,
 * Qwen …), on the official `openai` SDK. Requests and responses pass through unchanged: fields we do
 * not model reach the upstream, and its response fields reach the client.
 */
import OpenAI, { toFile } from 'openai';
import type { ProviderConfig } from '../../config/schema.js';
import type {
  CallContext,
  ChatCompletion,
  ChatCompletionChunk,
  ChatRequest,
  ChatStreamPart,
  ModelInfo,
  ProviderAdapter,
} from '../provider-adapter.js';
import { SPEECH_CONTENT_TYPES } from '../provider-adapter.js';
import type {
  AudioResult,
  EmbedRequest,
  EmbedResult,
  ImageEditRequest,
  ImageRequest,
  ImageResult,
  SpeechRequest,
  TranscriptionRequest,
  TranscriptionResult,
  VideoContentVariant,
  VideoJob,
  VideoRequest,
} from '../provider-adapter.js';
import { guardOwnStream, withDeadline, withLiteDeadline, type DeadlineOptions } from '../deadline.js';
import { ClientPool } from '../client-pool.js';
import { floatsToBase64 } from '../float32-base64.js';
import { mapOpenAIError } from './map-openai-error.js';
import { createNodeHttpFetch, type NodeHttpFetch } from '../node-http-fetch.js';
import { postChatJson, postChatStream } from './openai-chat-http.js';
import { copyWith } from '../../copy-with.js';
import { openaiResponsesPassthrough } from './openai-responses-passthrough.js';
import type { PassthroughRequest, PassthroughResponse } from '../provider-adapter.js';
import { ProviderError } from '../provider-error.js';

export const OPENAI_DEFAULT_ENDPOINT = 'https://api.openai.com/v1';

export interface OpenAIClientOptions {
  /** The transport; default: node:http keep-alive (node-http-fetch.ts), or a wrapper of it (Hugging Face's). */
  fetch?: NodeHttpFetch;
}

/** The SDK clients of one OpenAI-compatible endpoint (client-pool.ts), and the transport they share. */
export class OpenAIClientPool extends ClientPool<OpenAI> {
  /** Shared by the SDK clients and the chat calls (openai-chat-http.ts). */
  readonly fetch: NodeHttpFetch;
  /** e.g. https://api.openai.com/v1 (no trailing slash). */
  readonly baseURL: string;
  /** The chat calls' URL, made once (openai-chat-http.ts). */
  readonly chatURL: string;

  constructor(baseURL: string, options: OpenAIClientOptions = {}) {
    const base = baseURL.replace(/\/+$/, '');
    const transport = options.fetch ?? createNodeHttpFetch();
    // An explicit placeholder key: the SDK would otherwise read OPENAI_API_KEY from the environment
    // and send OpenAI's key to whatever compatible endpoint this provider points at.
    super(base, (apiKey) => new OpenAI({ apiKey: apiKey ?? 'no-key', baseURL: base, maxRetries: 0, timeout: 24 * 3600_000, fetch: transport }));
    this.baseURL = base;
    this.chatURL = `${base}/chat/completions`;
    this.fetch = transport;
  }
}

/**
 * Transcription models that answer only `json`/`text` (OpenAI's gpt-4o transcribe family); for the
 * rest (whisper-1 and OpenAI-compatible whisper servers) `verbose_json` gives segments and duration.
 */
const JSON_ONLY_TRANSCRIBERS = /^gpt-4o(?:-mini)?-transcribe/;

type UploadedFile = { data: Uint8Array; filename: string; mimeType: string };

function asFile(f: UploadedFile): Promise<File> {
  return toFile(f.data, f.filename, { type: f.mimeType });
}

/** An upstream 400 that is about `response_format` (a compatible server without verbose_json). */
function rejectsResponseFormat(err: unknown): boolean {
  return err instanceof ProviderError && err.kind === 'bad_request' && (err.param === 'response_format' || /response_format/i.test(err.message));
}

export class OpenAIAdapter implements ProviderAdapter {
  readonly pool: OpenAIClientPool;
  /** The chat calls' deadline options, built once (the direct HTTP path throws ProviderErrors itself). */
  private readonly chatDeadline: DeadlineOptions;

  /** Responses API bodies, unchanged: only for providers that declare `responses_api` (issue 17). */
  readonly passthrough?: (req: PassthroughRequest, ctx: CallContext) => Promise<PassthroughResponse>;

  constructor(
    readonly id: string,
    readonly config: Pick<ProviderConfig, 'endpoint' | 'responses_api'>,
  ) {
    this.pool = new OpenAIClientPool(config.endpoint ?? OPENAI_DEFAULT_ENDPOINT);
    this.chatDeadline = { provider: id };
    if (config.responses_api) this.passthrough = (req, ctx) => openaiResponsesPassthrough(this.id, this.pool, req, ctx);
  }

  chat(req: ChatRequest, ctx: CallContext): Promise<ChatCompletion> {
    // stream_options is left out by JSON.stringify as undefined: a `delete` would turn the body into a
    // dictionary-mode object. copyWith, not a spread: see copy-with.ts.
    const body = copyWith(req, { model: ctx.model, stream: false, stream_options: undefined });
    return withLiteDeadline(ctx, this.chatDeadline, (signal) => postChatJson(this.pool, ctx.apiKey, body, signal, this.id, ctx.model));
  }

  streamChat(req: ChatRequest, ctx: CallContext): AsyncIterable<ChatStreamPart> {
    // Usage is always requested upstream: effective_context comes from it without counting tokens
    // here; the SSE writer shows the usage chunk only to clients that asked for it.
    const body = copyWith(req, { model: ctx.model, stream: true, stream_options: copyWith(req.stream_options ?? {}, { include_usage: true }) });
    return guardOwnStream(ctx, this.chatDeadline, (signal, guard) => postChatStream(this.pool, ctx.apiKey, body, signal, guard, this.id, ctx.model));
  }

  async listModels(ctx: CallContext): Promise<ModelInfo[]> {
    const client = this.pool.get(ctx.apiKey);
    return withDeadline(ctx, { provider: this.id, model: '*', mapError: mapOpenAIError(this.id, '*', this.pool.baseURL) }, async (signal) => {
      const page = await client.models.list({ signal });
      return page.data as unknown as ModelInfo[];
    });
  }

  /** Runs one SDK call under the call's deadline with OpenAI error mapping. */
  private call<T>(ctx: CallContext, run: (client: OpenAI, signal: AbortSignal) => Promise<T>): Promise<T> {
    const client = this.pool.get(ctx.apiKey);
    return withDeadline(ctx, { provider: this.id, mapError: mapOpenAIError(this.id, ctx.model, this.pool.baseURL) }, (signal) => run(client, signal));
  }

  async embed(req: EmbedRequest, ctx: CallContext): Promise<EmbedResult> {
    // The format is always explicit: without one the SDK asks for base64 and decodes it blindly, which
    // breaks on compatible servers that ignore encoding_format and answer floats.
    const body = copyWith(req, { model: ctx.model, encoding_format: req.encoding_format ?? 'float' });
    const result = await this.call(ctx, (client, signal) => client.embeddings.create(body as never, { signal }) as unknown as Promise<EmbedResult>);
    if (req.encoding_format === 'base64') {
      // Such a server answered floats to a base64 request: encode them as OpenAI would (float32 LE).
      for (const d of result.data) if (Array.isArray(d.embedding)) d.embedding = floatsToBase64(d.embedding);
    }
    return result;
  }

  generateImage(req: ImageRequest, ctx: CallContext): Promise<ImageResult> {
    const body = { ...req, model: ctx.model };
    return this.call(ctx, (client, signal) => client.images.generate(body as never, { signal }) as unknown as Promise<ImageResult>);
  }

  editImage(req: ImageEditRequest, ctx: CallContext): Promise<ImageResult> {
    const { image, mask, ...rest } = req;
    return this.call(ctx, async (client, signal) => {
      const files = await Promise.all(image.map(asFile));
      // One image goes as `image` (dall-e-2 and most compatible servers read only that field);
      // several as `image[]`, as the SDK encodes arrays.
      const body = { ...rest, model: ctx.model, image: files.length === 1 ? files[0]! : files, ...(mask ? { mask: await asFile(mask) } : {}) };
      return client.images.edit(body as never, { signal }) as unknown as Promise<ImageResult>;
    });
  }

  speak(req: SpeechRequest, ctx: CallContext): Promise<AudioResult> {
    const format = req.response_format ?? 'mp3';
    const body = { ...req, model: ctx.model };
    return this.call(ctx, async (client, signal) => {
      const res = await client.audio.speech.create(body as never, { signal });
      const data = new Uint8Array(await res.arrayBuffer());
      return { data, contentType: res.headers.get('content-type') || SPEECH_CONTENT_TYPES[format] };
    });
  }

  async transcribe(req: TranscriptionRequest, ctx: CallContext): Promise<TranscriptionResult> {
    const { file, response_format: _asked, ...rest } = req;
    const ask = async (format: 'verbose_json' | 'json'): Promise<TranscriptionResult> =>
      this.call(ctx, async (client, signal) => {
        const body = { ...rest, model: ctx.model, file: await asFile(file), response_format: format };
        return (await client.audio.transcriptions.create(body as never, { signal })) as unknown as TranscriptionResult;
      });
    if (JSON_ONLY_TRANSCRIBERS.test(ctx.model)) return ask('json');
    try {
      return await ask('verbose_json');
    } catch (err) {
      // A compatible server that knows only json: ask again in the format it has.
      if (rejectsResponseFormat(err)) return ask('json');
      throw err;
    }
  }

  startVideo(req: VideoRequest, ctx: CallContext): Promise<VideoJob> {
    const { input_reference: ref, ...rest } = req;
    return this.call(ctx, async (client, signal) => {
      const body: Record<string, unknown> = { ...rest, model: ctx.model };
      if (ref) body.input_reference = 'data' in ref ? await asFile(ref) : ref;
      return (await client.videos.create(body as never, { signal })) as unknown as VideoJob;
    });
  }

  getVideo(id: string, ctx: CallContext): Promise<VideoJob> {
    return this.call(ctx, (client, signal) => client.videos.retrieve(id, { signal }) as unknown as Promise<VideoJob>);
  }

  getVideoContent(id: string, ctx: CallContext, opts: { variant?: VideoContentVariant } = {}): Promise<Response> {
    // The deadline bounds the wait for the response head; the body is then streamed by the caller.
    return this.call(ctx, (client, signal) => client.videos.downloadContent(id, opts.variant ? { variant: opts.variant } : {}, { signal }) as unknown as Promise<Response>);
  }
}
