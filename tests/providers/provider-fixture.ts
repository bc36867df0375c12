/**
 * @module What one provider type's fake must offer so that the same client test suite
 * (`provider-suite.ts`, driven through the openai SDK against aisbf) runs unchanged against every
 * provider type. Each provider's test file builds a fixture around its own faithful fake upstream
 * and calls `runProviderSuite(fixture)`.
 */
import type { RecordedRequest } from '../fakes/fake-server.js';

export interface ScriptedToolCall {
  id: string;
  name: string;
  /** JSON text of the arguments. */
  arguments: string;
}

export interface ScriptedReply {
  text?: string;
  toolCalls?: ScriptedToolCall[];
  /** Thinking/reasoning text, for providers that have it (mapped to `reasoning_content`). */
  reasoning?: string;
  /** The provider's own token counts, as its wire format reports them. */
  usage?: { input: number; output: number };
  /** Why the model stopped, in OpenAI's terms; the fake sends the provider's own equivalent. */
  finish?: 'stop' | 'length' | 'tool_calls' | 'content_filter';
}

export type ScriptedFailure =
  /** 429 in the provider's own error body (Gemini: RESOURCE_EXHAUSTED). */
  | 'rate_limit'
  /** 500/503 in the provider's own error body. */
  | 'server'
  /** 401/403: the configured key is wrong. */
  | 'bad_key'
  /** The model does not exist (404, or Ollama's "model not found"). */
  | 'unknown_model';

export interface ImageSeen {
  mediaType?: string;
  base64?: string;
  url?: string;
}

export interface ProviderFixture {
  /** Provider id used in providers.json, and a label for the suite. */
  id: string;
  /** providers.json entry (type, endpoint pointing at the fake, key, models with capabilities). */
  providerConfig(): Record<string, unknown>;
  /** A chat model (with vision and tools). */
  model: string;
  /** Whether the provider reports a thinking/reasoning stream the fake can script. */
  supportsReasoning: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The next chat call, streamed or not, answers with this. */
  reply(r: ScriptedReply): void;
  /** The next chat call fails this way. `retryAfterSeconds` adds a Retry-After header where the provider sends one. */
  fail(f: ScriptedFailure, opts?: { retryAfterSeconds?: number }): void;
  /** The next streamed call sends one text chunk ("partial") and then stalls without ending. */
  stallAfterFirstChunk(): void;
  /** The chat requests the fake received, in the provider's own wire format, oldest first. */
  chatRequests(): RecordedRequest[];
  /** Connections to the fake that aisbf closed before the fake finished answering. */
  clientAborts(): number;
  nextAbort(): Promise<void>;
  /** Where the system prompt landed in a translated request (Anthropic `system`, Gemini `systemInstruction` …). */
  systemPromptOf(req: RecordedRequest): string | undefined;
  /** The images a translated request carries, in order. */
  imagesOf(req: RecordedRequest): ImageSeen[];
  /**
   * Tool results a translated request carries: the call id they answer (where the wire format has
   * ids) or the function name (where it has none, e.g. Gemini), and the result text.
   */
  toolResultsOf(req: RecordedRequest): Array<{ callId?: string; name?: string; content: string }>;
  /** Names of the tools declared to the upstream. */
  toolNamesOf(req: RecordedRequest): string[];
  /** Whether the upstream was asked for JSON output. */
  jsonModeOf(req: RecordedRequest): boolean;
  /** The sampling settings as the upstream received them. */
  samplingOf(req: RecordedRequest): { maxTokens?: number; temperature?: number; topP?: number; stop?: string[] };
}
