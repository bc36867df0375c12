/**
 * @module The adapter for OpenAI and any OpenAI-compatible endpoint (vLLM, LM Studio, DeepSeek, Groq,
 * Qwen …), on the official `openai` SDK. Requests and responses pass through unchanged: fields we do
 * not model reach the upstream, and its response fields reach the client.
 */
import OpenAI from 'openai';
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
import { guardStream, withDeadline } from '../deadline.js';
import { mapOpenAIError } from './map-openai-error.js';

export const OPENAI_DEFAULT_ENDPOINT = 'https://api.openai.com/v1';

/**
 * One SDK client per key, built once: client construction is not free, and a per-request client
 * would also lose connection reuse.
 */
export class OpenAIClientPool {
  private readonly clients = new Map<string, OpenAI>();
  constructor(private readonly baseURL: string) {}

  get(apiKey: string | undefined): OpenAI {
    // An explicit placeholder: the SDK would otherwise read OPENAI_API_KEY from the environment and
    // send OpenAI's key to whatever compatible endpoint this provider points at.
    const key = apiKey ?? 'no-key';
    let client = this.clients.get(key);
    if (!client) {
      client = new OpenAI({ apiKey: key, baseURL: this.baseURL, maxRetries: 0, timeout: 24 * 3600_000 });
      if (this.clients.size >= 64) this.clients.delete(this.clients.keys().next().value as string);
      this.clients.set(key, client);
    }
    return client;
  }
}

/** Splits an upstream chunk's usage out into a `usage` part, so the SSE writer alone places usage. */
export async function* openAIChunksToParts(chunks: AsyncIterable<ChatCompletionChunk>): AsyncGenerator<ChatStreamPart> {
  for await (const chunk of chunks) {
    const usage = chunk.usage;
    if (usage) {
      if (chunk.choices.length > 0) {
        const { usage: _omit, ...rest } = chunk;
        yield { type: 'chunk', chunk: rest as ChatCompletionChunk };
      }
      yield { type: 'usage', usage };
    } else if (chunk.choices.length > 0) {
      yield { type: 'chunk', chunk };
    }
  }
}

export class OpenAIAdapter implements ProviderAdapter {
  readonly pool: OpenAIClientPool;

  constructor(
    readonly id: string,
    readonly config: Pick<ProviderConfig, 'endpoint'>,
  ) {
    this.pool = new OpenAIClientPool(config.endpoint ?? OPENAI_DEFAULT_ENDPOINT);
  }

  chat(req: ChatRequest, ctx: CallContext): Promise<ChatCompletion> {
    const body = { ...req, model: ctx.model, stream: false };
    delete (body as { stream_options?: unknown }).stream_options;
    const client = this.pool.get(ctx.apiKey);
    return withDeadline(
      ctx.signal,
      ctx.timeoutMs,
      this.id,
      ctx.model,
      (signal) => client.chat.completions.create(body as never, { signal }) as unknown as Promise<ChatCompletion>,
      mapOpenAIError(this.id, ctx.model),
    );
  }

  streamChat(req: ChatRequest, ctx: CallContext): AsyncIterable<ChatStreamPart> {
    // Usage is always requested upstream: effective_context comes from it without counting tokens
    // here; the SSE writer shows the usage chunk only to clients that asked for it.
    const body = { ...req, model: ctx.model, stream: true, stream_options: { ...req.stream_options, include_usage: true } };
    const client = this.pool.get(ctx.apiKey);
    return guardStream(
      ctx.signal,
      ctx.timeoutMs,
      this.id,
      ctx.model,
      async (signal) => (await client.chat.completions.create(body as never, { signal })) as unknown as AsyncIterable<ChatCompletionChunk>,
      openAIChunksToParts,
      mapOpenAIError(this.id, ctx.model),
    );
  }

  async listModels(ctx: CallContext): Promise<ModelInfo[]> {
    const client = this.pool.get(ctx.apiKey);
    return withDeadline(
      ctx.signal,
      ctx.timeoutMs,
      this.id,
      '*',
      async (signal) => {
        const page = await client.models.list({ signal });
        return page.data as unknown as ModelInfo[];
      },
      mapOpenAIError(this.id, '*'),
    );
  }
}
