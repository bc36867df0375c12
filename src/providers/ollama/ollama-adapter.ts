/**
 * @module The adapter for `"type": "ollama"`: Ollama's native `/api/chat` (real NDJSON streaming,
 * images, tools, thinking, JSON format), `/api/tags` for models and `/api/embed` for embeddings, on
 * the official `ollama` SDK (see ollama-client.ts for how calls are cancelled one by one).
 */
import { copyWith } from '../../copy-with.js';
import type { ProviderConfig } from '../../config/schema.js';
import type {
  CallContext,
  ChatCompletion,
  ChatRequest,
  ChatStreamPart,
  EmbedRequest,
  EmbedResult,
  ModelInfo,
  ProviderAdapter,
} from '../provider-adapter.js';
import { ProviderError } from '../provider-error.js';
import { embeddingTexts } from '../embedding-input.js';
import { guardStream, withDeadline } from '../deadline.js';
import { floatsToBase64 } from '../float32-base64.js';
import { convertToOllamaRequest } from './convert-to-ollama-request.js';
import { ollamaEmbedResponseSchema, ollamaTagsSchema } from './ollama-api.js';
import { OLLAMA_DEFAULT_ENDPOINT, OllamaClientPool, type OllamaCall } from './ollama-client.js';
import { ollamaLinesToParts } from './ollama-stream.js';
import { toChatCompletion } from './ollama-response.js';
import { mapOllamaError } from './map-ollama-error.js';

function malformed(what: string, provider: string, model: string): ProviderError {
  return new ProviderError(`Ollama answered ${what} in an unexpected shape`, { kind: 'malformed', provider, model });
}

export class OllamaAdapter implements ProviderAdapter {
  readonly pool: OllamaClientPool;
  /** Per-model Ollama `options` from providers.json (e.g. `{"num_ctx": 16384}`), by model name. */
  private readonly modelOptions = new Map<string, Record<string, unknown>>();

  constructor(
    readonly id: string,
    readonly config: Pick<ProviderConfig, 'endpoint'> & Partial<Pick<ProviderConfig, 'models'>>,
  ) {
    this.pool = new OllamaClientPool(config.endpoint ?? OLLAMA_DEFAULT_ENDPOINT);
    for (const m of config.models ?? []) {
      const options = (m as { options?: unknown }).options;
      if (typeof options === 'object' && options !== null && !Array.isArray(options)) this.modelOptions.set(m.name, options as Record<string, unknown>);
    }
  }

  async chat(req: ChatRequest, ctx: CallContext): Promise<ChatCompletion> {
    const client = this.pool.get(ctx.apiKey);
    const call: OllamaCall = {};
    return withDeadline(ctx, { provider: this.id, mapError: mapOllamaError(this.id, ctx.model, call) }, async (signal) => {
      call.signal = signal;
      const body = await convertToOllamaRequest(req, false, { provider: this.id, ctx: copyWith(ctx, { signal }) }, this.modelOptions.get(ctx.model));
      const raw = await client.chatOnce(call, body);
      return toChatCompletion(raw, req.model, this.id, ctx.model);
    });
  }

  streamChat(req: ChatRequest, ctx: CallContext): AsyncIterable<ChatStreamPart> {
    const client = this.pool.get(ctx.apiKey);
    const call: OllamaCall = {};
    return guardStream(
      ctx,
      { provider: this.id, mapError: mapOllamaError(this.id, ctx.model, call) },
      async (signal) => {
        call.signal = signal;
        const body = await convertToOllamaRequest(req, true, { provider: this.id, ctx: copyWith(ctx, { signal }) }, this.modelOptions.get(ctx.model));
        return client.chatStream(call, body);
      },
      (lines) => ollamaLinesToParts(lines, this.id, ctx.model),
    );
  }

  async listModels(ctx: CallContext): Promise<ModelInfo[]> {
    const client = this.pool.get(ctx.apiKey);
    const call: OllamaCall = {};
    return withDeadline(ctx, { provider: this.id, model: '*', mapError: mapOllamaError(this.id, '*', call) }, async (signal) => {
      call.signal = signal;
      const parsed = ollamaTagsSchema.safeParse(await client.run(call, () => client.list()));
      if (!parsed.success) throw malformed('/api/tags', this.id, '*');
      return parsed.data.models.map((m): ModelInfo => {
        const modified = m.modified_at ? Math.floor(Date.parse(m.modified_at) / 1000) : NaN;
        return { id: m.name, object: 'model', created: Number.isFinite(modified) ? modified : 0, owned_by: this.id };
      });
    });
  }

  async embed(req: EmbedRequest, ctx: CallContext): Promise<EmbedResult> {
    const texts = embeddingTexts(req.input, this.id, ctx.model, 'Ollama');
    const client = this.pool.get(ctx.apiKey);
    const call: OllamaCall = {};
    return withDeadline(ctx, { provider: this.id, mapError: mapOllamaError(this.id, ctx.model, call) }, async (signal) => {
      call.signal = signal;
      const raw = await client.run(call, () =>
        client.embed({ model: ctx.model, input: texts, ...(typeof req.dimensions === 'number' ? { dimensions: req.dimensions } : {}) }),
      );
      const parsed = ollamaEmbedResponseSchema.safeParse(raw);
      if (!parsed.success || parsed.data.embeddings.length !== texts.length) throw malformed('/api/embed', this.id, ctx.model);
      const base64 = req.encoding_format === 'base64';
      const tokens = parsed.data.prompt_eval_count ?? 0;
      return {
        object: 'list',
        data: parsed.data.embeddings.map((embedding, index) => ({ object: 'embedding', index, embedding: base64 ? floatsToBase64(embedding) : embedding })),
        model: req.model,
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      };
    });
  }
}
