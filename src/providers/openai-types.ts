/**
 * @module The OpenAI-shaped internal types that travel through routing: OpenAI's wire format is our
 * internal format (chat, chunks, usage, parts, and the other capabilities' requests and results).
 * A provider's own wire types never leave its folder; the adapter contract is provider-adapter.ts.
 */

// ---------------------------------------------------------------------------------------------
// Chat: OpenAI's wire format is our internal format. Objects are "loose": fields we do not model
// are kept and reach OpenAI-type upstreams unchanged.
// ---------------------------------------------------------------------------------------------

export type Role = 'system' | 'developer' | 'user' | 'assistant' | 'tool' | 'function';

export interface TextPart { type: 'text'; text: string; [extra: string]: unknown }
export interface ImagePart {
  type: 'image_url';
  image_url: { url: string; detail?: 'auto' | 'low' | 'high' };
  [extra: string]: unknown;
}
export interface OtherPart { type: string; [extra: string]: unknown }
export type ContentPart = TextPart | ImagePart | OtherPart;

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
  [extra: string]: unknown;
}

export interface ChatMessage {
  role: Role;
  content?: string | ContentPart[] | null;
  name?: string;
  tool_calls?: ToolCall[];
  tool_call_id?: string;
  reasoning_content?: string;
  [extra: string]: unknown;
}

export interface ToolDefinition {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
  [extra: string]: unknown;
}

export type ToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean; [extra: string]: unknown } | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  stop?: string | string[] | null;
  seed?: number | null;
  tools?: ToolDefinition[];
  tool_choice?: ToolChoice;
  parallel_tool_calls?: boolean;
  response_format?:
    | { type: 'text' }
    | { type: 'json_object' }
    | { type: 'json_schema'; json_schema: { name: string; schema?: Record<string, unknown>; strict?: boolean; description?: string } };
  [extra: string]: unknown;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** Tokens of the messages actually sent upstream, after any condensation (CONTRACTS §6.6). */
  effective_context?: number;
  [extra: string]: unknown;
}

export interface ChatCompletionChoice {
  index: number;
  message: ChatMessage & { role: 'assistant' };
  finish_reason: FinishReason | null;
  logprobs?: unknown;
  [extra: string]: unknown;
}

/** A `chat.completion` object. Upstream OpenAI responses are kept as they came. */
export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: ChatCompletionChoice[];
  usage?: Usage;
  system_fingerprint?: string | null;
  [extra: string]: unknown;
}

/** A `chat.completion.chunk` object as OpenAI sends it. */
export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    delta: Record<string, unknown>;
    finish_reason: FinishReason | null;
    logprobs?: unknown;
    [extra: string]: unknown;
  }>;
  usage?: Usage | null;
  [extra: string]: unknown;
}

/**
 * What a streaming adapter yields. Every adapter turns its provider's events into these parts in one
 * place; `server/openai-sse.ts` is the only code that turns them into `chat.completion.chunk` frames.
 *
 * `chunk` carries an OpenAI-type upstream's chunk verbatim, so fields we do not model (logprobs,
 * system_fingerprint, …) reach the client unchanged. Its usage, if any, is lifted into a `usage` part
 * by the adapter so the writer alone decides where usage goes.
 */
export type ChatStreamPart =
  | { type: 'text-delta'; text: string }
  | { type: 'reasoning-delta'; text: string }
  | { type: 'tool-call-delta'; index: number; id?: string; name?: string; arguments?: string }
  | { type: 'finish'; finishReason: FinishReason }
  | { type: 'usage'; usage: Usage }
  | ChunkPart;

/**
 * An OpenAI-type upstream's chunk, verbatim. `raw` (when set) is its JSON text exactly as received:
 * the SSE writer forwards it without a parse/serialize round trip, and `chunk` is parsed only if
 * something reads it. `frame` (when set) is the whole SSE event as the upstream's bytes, exactly
 * `data: <raw>\n\n`: the writer sends those bytes. `final` says whether it carries a finish_reason
 * (the writer holds those back to attach usage).
 */
export interface ChunkPart {
  type: 'chunk';
  readonly chunk: ChatCompletionChunk;
  readonly raw?: string;
  readonly frame?: Uint8Array;
  final?: boolean;
}

/** An upstream event's data: its own bytes when they can go on as they came, its text when asked (openai/sse-data-reader.ts). */
export interface EventData {
  readonly frame: Buffer | undefined;
  text(): string;
}

/**
 * A chunk part over raw JSON text, or over an upstream event: its text is decoded only if something
 * reads `raw` (the response cache, a translating writer), and `chunk` is parsed on first use.
 */
export class RawChunkPart implements ChunkPart {
  readonly type = 'chunk' as const;
  readonly final = false;
  private parsed: ChatCompletionChunk | undefined;
  private decoded: string | undefined;
  constructor(
    private readonly source: string | EventData,
    /** What a chunk that is not JSON throws when parsed: the upstream's fault, named (the stream's one function). */
    private readonly malformed?: (err: unknown) => Error,
  ) {}
  get frame(): Buffer | undefined {
    return typeof this.source === 'string' ? undefined : this.source.frame;
  }
  get raw(): string {
    return (this.decoded ??= typeof this.source === 'string' ? this.source : this.source.text());
  }
  get chunk(): ChatCompletionChunk {
    if (this.parsed !== undefined) return this.parsed;
    try {
      return (this.parsed = JSON.parse(this.raw) as ChatCompletionChunk);
    } catch (err) {
      throw this.malformed ? this.malformed(err) : err;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Other capabilities (OpenAI-shaped as well).
// ---------------------------------------------------------------------------------------------

export interface ModelInfo {
  id: string;
  object: 'model';
  created?: number;
  owned_by: string;
  [extra: string]: unknown;
}

export interface EmbedRequest {
  model: string;
  input: string | string[] | number[] | number[][];
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
  [extra: string]: unknown;
}
export interface EmbedResult {
  object: 'list';
  data: Array<{ object: 'embedding'; index: number; embedding: number[] | string }>;
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
  [extra: string]: unknown;
}

export interface ImageRequest {
  model: string;
  prompt: string;
  n?: number;
  size?: string;
  quality?: string;
  response_format?: 'url' | 'b64_json';
  [extra: string]: unknown;
}
export interface ImageEditRequest extends ImageRequest {
  image: Array<{ data: Uint8Array; filename: string; mimeType: string }>;
  mask?: { data: Uint8Array; filename: string; mimeType: string };
}
export interface ImageResult {
  created: number;
  data: Array<{ b64_json?: string; url?: string; revised_prompt?: string }>;
  [extra: string]: unknown;
}

export interface SpeechRequest {
  model: string;
  input: string;
  voice: string;
  response_format?: 'mp3' | 'opus' | 'aac' | 'flac' | 'wav' | 'pcm';
  speed?: number;
  instructions?: string;
  [extra: string]: unknown;
}
export interface AudioResult { data: Uint8Array; contentType: string }
/** The content type of each speech `response_format`, as OpenAI labels them. */
export const SPEECH_CONTENT_TYPES: Readonly<Record<NonNullable<SpeechRequest['response_format']>, string>> = {
  mp3: 'audio/mpeg',
  opus: 'audio/opus',
  aac: 'audio/aac',
  flac: 'audio/flac',
  wav: 'audio/wav',
  pcm: 'audio/pcm',
};

export interface TranscriptionRequest {
  model: string;
  file: { data: Uint8Array; filename: string; mimeType: string };
  language?: string;
  prompt?: string;
  response_format?: 'json' | 'text' | 'srt' | 'verbose_json' | 'vtt';
  temperature?: number;
  [extra: string]: unknown;
}
/** Always verbose internally; routes render the requested `response_format`. */
export interface TranscriptionResult {
  text: string;
  language?: string;
  duration?: number;
  segments?: Array<{ id: number; start: number; end: number; text: string }>;
  [extra: string]: unknown;
}

export interface VideoRequest {
  model: string;
  prompt: string;
  seconds?: string;
  size?: string;
  /** An uploaded image/video, or a reference OpenAI accepts as `{image_url}` / `{file_id}`. */
  input_reference?: { data: Uint8Array; filename: string; mimeType: string } | { image_url?: string; file_id?: string };
  [extra: string]: unknown;
}
export type VideoContentVariant = 'video' | 'thumbnail' | 'spritesheet';
export interface VideoJob {
  id: string;
  object: 'video';
  model: string;
  status: 'queued' | 'in_progress' | 'completed' | 'failed';
  progress?: number;
  created_at: number;
  completed_at?: number | null;
  error?: { code: string; message: string } | null;
  prompt?: string | null;
  seconds?: string;
  size?: string;
  expires_at?: number | null;
  /** Where the finished bytes can be fetched upstream (never shown to clients). */
  contentUrl?: string;
  [extra: string]: unknown;
}
