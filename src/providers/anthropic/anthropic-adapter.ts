/**
 * @module The adapter for `"type": "anthropic"` providers, on the official `@anthropic-ai/sdk`:
 * OpenAI chat requests are translated to the Messages API and its answers (JSON and SSE events) back
 * to OpenAI's shapes; models come from the Models API.
 */
import Anthropic from '@anthropic-ai/sdk';
import { createNodeHttpFetch } from '../node-http-fetch.js';
import type { ProviderConfig } from '../../config/schema.js';
import type { CallContext, ChatCompletion, ChatRequest, ChatStreamPart, ModelInfo, PassthroughRequest, PassthroughResponse, ProviderAdapter } from '../provider-adapter.js';
import { anthropicPassthrough } from './anthropic-passthrough.js';
import { guardStream, withDeadline } from '../deadline.js';
import { ClientPool } from '../client-pool.js';
import { ANTHROPIC_DEFAULT_ENDPOINT, type AnthropicModelInfo, type AnthropicStreamEvent } from './anthropic-api.js';
import { anthropicMessageToCompletion } from './anthropic-response.js';
import { anthropicEventsToParts } from './anthropic-stream.js';
import { convertToAnthropicRequest, type AnthropicModelSettings } from './convert-to-anthropic-request.js';
import { mapAnthropicError } from './map-anthropic-error.js';
import { copyWith } from '../../copy-with.js';

/** The SDK appends `/v1/...` itself; AISBF configs often carry the `/v1` already. */
export function anthropicBaseURL(endpoint: string | undefined): string {
  return (endpoint ?? ANTHROPIC_DEFAULT_ENDPOINT).replace(/\/+$/, '').replace(/\/v1$/, '');
}

/** The SDK clients of one Anthropic endpoint (client-pool.ts), one per key. */
export class AnthropicClientPool extends ClientPool<Anthropic> {
  constructor(baseURL: string) {
    // node:http keep-alive under the SDK: undici's fetch costs several times the CPU per call.
    const transport = createNodeHttpFetch();
    super(baseURL, (apiKey) => {
      // Always an explicit key: without one the SDK would read ANTHROPIC_API_KEY or local credential
      // files and send them to whatever endpoint this provider points at.
      const key = apiKey ?? 'no-key';
      return new Anthropic({
        apiKey: key,
        baseURL,
        maxRetries: 0, // the attempt loop decides about retries and failover
        timeout: 24 * 3600_000, // our deadline bounds each call; an explicit value also stops the SDK refusing large non-streamed max_tokens
        // SDK 1.x sends the key as `Authorization: Bearer`; Anthropic-compatible gateways (and older
        // API deployments) read the classic `x-api-key`, so it goes in both.
        defaultHeaders: { 'x-api-key': key },
        logLevel: 'off',
        openTelemetry: false,
        fetch: transport,
      });
    });
  }
}

function modelSettings(config: Pick<ProviderConfig, 'models'>): Map<string, AnthropicModelSettings> {
  const out = new Map<string, AnthropicModelSettings>();
  for (const m of config.models ?? []) {
    const raw = m as { max_tokens?: unknown; structured_outputs?: unknown };
    const s: AnthropicModelSettings = {};
    if (typeof raw.max_tokens === 'number' && raw.max_tokens > 0) s.max_tokens = raw.max_tokens;
    if (raw.structured_outputs === true) s.structured_outputs = true;
    out.set(m.name, s);
  }
  return out;
}

function toModelInfo(m: AnthropicModelInfo): ModelInfo {
  const created = Date.parse(m.created_at);
  const info: ModelInfo = { id: m.id, object: 'model', owned_by: 'anthropic', display_name: m.display_name };
  if (Number.isFinite(created)) info.created = Math.floor(created / 1000);
  if (typeof m.max_input_tokens === 'number') info.context_size = m.max_input_tokens;
  if (typeof m.max_tokens === 'number') info.max_output_tokens = m.max_tokens;
  return info;
}

export class AnthropicAdapter implements ProviderAdapter {
  readonly pool: AnthropicClientPool;
  private readonly baseURL: string;
  private readonly settings: Map<string, AnthropicModelSettings>;

  constructor(
    readonly id: string,
    config: Pick<ProviderConfig, 'endpoint' | 'models'>,
  ) {
    this.baseURL = anthropicBaseURL(config.endpoint);
    this.pool = new AnthropicClientPool(this.baseURL);
    this.settings = modelSettings(config);
  }

  /** Anthropic clients' Messages bodies, unchanged (issue 17). */
  passthrough(req: PassthroughRequest, ctx: CallContext): Promise<PassthroughResponse> {
    return anthropicPassthrough(this.id, this.baseURL, req, ctx);
  }

  private params(req: ChatRequest, ctx: CallContext) {
    return convertToAnthropicRequest(req, { provider: this.id, model: ctx.model }, this.settings.get(ctx.model));
  }

  chat(req: ChatRequest, ctx: CallContext): Promise<ChatCompletion> {
    const client = this.pool.get(ctx.apiKey);
    return withDeadline(ctx, { provider: this.id, mapError: mapAnthropicError(this.id, ctx.model) }, async (signal) => {
      const params = this.params(req, ctx);
      const msg = await client.messages.create(copyWith(params, { stream: false as const }), { signal });
      return anthropicMessageToCompletion(msg, req.model, `chatcmpl-${msg.id.replace(/^msg_/, '')}`, Math.floor(Date.now() / 1000));
    });
  }

  streamChat(req: ChatRequest, ctx: CallContext): AsyncIterable<ChatStreamPart> {
    const client = this.pool.get(ctx.apiKey);
    return guardStream(
      ctx,
      { provider: this.id, mapError: mapAnthropicError(this.id, ctx.model) },
      async (signal): Promise<AsyncIterable<AnthropicStreamEvent>> => {
        const params = this.params(req, ctx);
        return client.messages.create(copyWith(params, { stream: true as const }) as Anthropic.MessageCreateParamsStreaming, { signal });
      },
      (events) => anthropicEventsToParts(events, this.id, ctx.model),
    );
  }

  listModels(ctx: CallContext): Promise<ModelInfo[]> {
    const client = this.pool.get(ctx.apiKey);
    return withDeadline(ctx, { provider: this.id, model: '*', mapError: mapAnthropicError(this.id, '*') }, async (signal) => {
      const out: ModelInfo[] = [];
      // Auto-pagination follows `has_more` / `last_id`.
      for await (const m of client.models.list({ limit: 1000 }, { signal })) out.push(toModelInfo(m));
      return out;
    });
  }
}
