/**
 * @module The one contract every provider adapter implements. The OpenAI-shaped types it speaks live
 * beside it in openai-types.ts and are re-exported here for existing importers; new code imports them
 * from openai-types.ts.
 */
import type { Logger } from 'pino';
import type { AbortLike } from './lite-abort.js';
import type {
  AudioResult,
  ChatCompletion,
  ChatRequest,
  ChatStreamPart,
  EmbedRequest,
  EmbedResult,
  ImageEditRequest,
  ImageRequest,
  ImageResult,
  ModelInfo,
  SpeechRequest,
  TranscriptionRequest,
  TranscriptionResult,
  VideoContentVariant,
  VideoJob,
  VideoRequest,
} from './openai-types.js';

export * from './openai-types.js';

// ---------------------------------------------------------------------------------------------
// The contract.
// ---------------------------------------------------------------------------------------------

export type KeySource = 'config' | 'client' | 'client-header';

export interface CallContext {
  /** The upstream model name (without the provider prefix). */
  model: string;
  /** The key to use for this call; undefined for keyless providers. */
  apiKey: string | undefined;
  /**
   * Where `apiKey` came from: providers.json / its env var ('config', the default), the client's
   * own bearer forwarded under `forward_client_key` ('client'), or the client's `x-aisbf-provider-key`
   * header ('client-header'). A 401/403 for a client's key is `client_auth` (deadline.ts): it blames
   * the client's key, answers 401 and is not a provider failure.
   */
  keySource?: KeySource;
  /**
   * Aborts when the client goes away. Adapters do not pass it upstream themselves: withDeadline /
   * guardStream give each call its own signal (client gone or timed out). An AbortLike (lite-abort.ts):
   * `toAbortSignal` where a real AbortSignal is needed.
   */
  signal: AbortLike;
  /** Bounds one upstream call; for streams, the wait for the first and each next chunk. */
  timeoutMs: number;
  log: Logger;
  /** How http(s) image URLs may be fetched (aisbf.json `images`); pass to `fetchImage`. */
  imagePolicy?: { allowPrivate?: boolean; maxBytes?: number; timeoutMs?: number };
  /**
   * The candidate's declared capabilities (providers.json, or its rotation entry): decide how chat
   * `file` parts reach the model (with-documents.ts), as autoselect's filter decided who may serve.
   */
  capabilities?: readonly string[];
  /** Limits of chat `file` parts: aisbf.json `ocr` (max_mb, max_pages, max_pixels); defaults when absent. */
  documents?: { max_mb: number; max_pages: number; max_pixels: number };
  /** Looks up an uploaded file for a `file_id` part (/v1/files), for this request's caller. */
  resolveFile?: FileResolver;
}

/** A file uploaded to aisbf, found by id for the caller; undefined when there is none (or not theirs). */
export type FileResolver = (fileId: string, signal: AbortSignal) => Promise<UploadedFile | undefined>;

/** An uploaded file: its size is known before its bytes are read (a file over the limit never is). */
export interface UploadedFile {
  filename: string;
  bytes: number;
  read(): Promise<Uint8Array>;
}

export interface ProviderAdapter {
  /** The providers.json key. */
  readonly id: string;
  chat(req: ChatRequest, ctx: CallContext): Promise<ChatCompletion>;
  streamChat(req: ChatRequest, ctx: CallContext): AsyncIterable<ChatStreamPart>;
  listModels(ctx: CallContext): Promise<ModelInfo[]>;
  embed?(req: EmbedRequest, ctx: CallContext): Promise<EmbedResult>;
  generateImage?(req: ImageRequest, ctx: CallContext): Promise<ImageResult>;
  editImage?(req: ImageEditRequest, ctx: CallContext): Promise<ImageResult>;
  speak?(req: SpeechRequest, ctx: CallContext): Promise<AudioResult>;
  transcribe?(req: TranscriptionRequest, ctx: CallContext): Promise<TranscriptionResult>;
  startVideo?(req: VideoRequest, ctx: CallContext): Promise<VideoJob>;
  getVideo?(id: string, ctx: CallContext): Promise<VideoJob>;
  /** Fetches a finished video's bytes (or a derived asset); the body is streamed, never buffered. */
  getVideoContent?(id: string, ctx: CallContext, opts?: { variant?: VideoContentVariant }): Promise<Response>;
  /**
   * The client's body sent unchanged (but for `model`) to the provider's own API and its answer relayed
   * (issue 17): Anthropic Messages to Anthropic-type providers, the Responses API to OpenAI-type ones
   * with `responses_api`. Throws ProviderError on a non-2xx answer (so the attempt loop fails over).
   */
  passthrough?(req: PassthroughRequest, ctx: CallContext): Promise<PassthroughResponse>;
}

export interface PassthroughRequest {
  api: 'anthropic-messages' | 'anthropic-count-tokens' | 'openai-responses';
  /** The client's parsed body; only `model` is replaced (by ctx.model). */
  body: Record<string, unknown>;
  stream: boolean;
  /** Headers to forward as they came (anthropic-version, anthropic-beta). */
  headers?: Record<string, string>;
}

export interface PassthroughResponse {
  status: number;
  /** The upstream's content-type and request id (streams: filled when the answer's head arrived). */
  headers: Record<string, string>;
  /** JSON answers: the body text. */
  text?: string;
  /** Streamed answers: the upstream's bytes; the request opens on the first pull (prime it to fail over). */
  bytes?: AsyncIterable<Uint8Array>;
}
