/**
 * @module Chat `file` parts for every provider. Wraps an adapter so that a request carrying a file
 * part reaches it in a shape the model reads: natively (OpenAI passes it through, Anthropic makes
 * `document` blocks, Gemini `inlineData` — their converters), rendered to page images for a model
 * that only sees images, or refused with a 400 naming the missing capability. Requests without a
 * file part cost one scan of their content parts.
 */
import { OCR_DEFAULTS } from '../config/ocr-config.js';
import type { CAPABILITIES, ProviderConfig } from '../config/schema.js';
import type { CallContext, ChatCompletion, ChatRequest, ChatStreamPart, ModelInfo, ProviderAdapter } from './provider-adapter.js';
import { ProviderError } from './provider-error.js';
import { ClientGoneError } from './deadline.js';
import { CHAT_PAGE_LONG_SIDE, hasFileParts, renderFileParts } from './render-file-parts.js';

export type DocumentMode = 'native' | 'render' | 'refuse';

/** Provider types whose every vision model reads PDFs itself (Claude, Gemini). */
const ALWAYS_NATIVE: ReadonlySet<ProviderConfig['type']> = new Set(['anthropic', 'google']);
/** OpenAI's API reads PDFs, but an OpenAI-compatible server (vLLM, LM Studio…) may not. */
const NATIVE_WHEN_DECLARED: ReadonlySet<ProviderConfig['type']> = new Set(['openai']);

/**
 * How a model gets a file part. A model declaring neither `documents` nor `vision` is refused.
 * Anthropic and Google models read PDFs natively; an OpenAI-type model does when it declares
 * `documents` or declares nothing, and gets rendered pages when it declares `vision` only (a local
 * OpenAI-compatible server); Ollama and Hugging Face always get rendered pages.
 */
export function documentMode(type: ProviderConfig['type'], capabilities: readonly string[] | undefined | null): DocumentMode {
  if (capabilities && !capabilities.includes('documents') && !capabilities.includes('vision')) return 'refuse';
  if (ALWAYS_NATIVE.has(type)) return 'native';
  if (NATIVE_WHEN_DECLARED.has(type)) return !capabilities || capabilities.includes('documents') ? 'native' : 'render';
  return 'render';
}

const DOCUMENTS: (typeof CAPABILITIES)[number] = 'documents';

class DocumentsAdapter implements ProviderAdapter {
  readonly id: string;
  /** Upstream model name → its declared capabilities (providers.json). */
  private readonly caps = new Map<string, readonly string[] | undefined>();

  constructor(
    private readonly inner: ProviderAdapter,
    private readonly config: ProviderConfig,
    optionalMethods: readonly string[],
  ) {
    this.id = inner.id;
    for (const m of config.models) this.caps.set(m.name, m.capabilities ?? undefined);
    // Optional capability methods stay exactly as present (routing tests typeof adapter[method]).
    for (const name of optionalMethods) {
      const fn = (inner as unknown as Record<string, unknown>)[name] as ((...a: unknown[]) => unknown) | undefined;
      if (typeof fn === 'function') (this as unknown as Record<string, unknown>)[name] = fn.bind(inner);
    }
  }

  private async prepare(req: ChatRequest, ctx: CallContext): Promise<ChatRequest> {
    const mode = documentMode(this.config.type, this.caps.get(ctx.model));
    if (mode === 'native') return req;
    if (mode === 'refuse') {
      throw new ProviderError(
        `Model '${this.id}/${ctx.model}' cannot read file parts: it declares neither the '${DOCUMENTS}' nor the 'vision' capability. ` +
          `Add "documents" (native PDF input) or "vision" (pages sent as images) to its capabilities in providers.json, or choose another model.`,
        { kind: 'bad_request', status: 400, provider: this.id, model: ctx.model, code: 'unsupported_capability', param: 'messages' },
      );
    }
    return renderFileParts(req, { maxPages: OCR_DEFAULTS.max_pages, maxPixels: OCR_DEFAULTS.max_pixels, longSide: CHAT_PAGE_LONG_SIDE, signal: ctx.signal }).catch((err: unknown) => {
      // A render stopped because the client left (or the call timed out) is not a bad document.
      throw ctx.signal.aborted ? new ClientGoneError() : err;
    });
  }

  chat(req: ChatRequest, ctx: CallContext): Promise<ChatCompletion> {
    if (!hasFileParts(req)) return this.inner.chat(req, ctx);
    return this.prepare(req, ctx).then((r) => this.inner.chat(r, ctx));
  }

  streamChat(req: ChatRequest, ctx: CallContext): AsyncIterable<ChatStreamPart> {
    if (!hasFileParts(req)) return this.inner.streamChat(req, ctx);
    const self = this;
    return (async function* streamWithDocuments() {
      yield* self.inner.streamChat(await self.prepare(req, ctx), ctx);
    })();
  }

  listModels(ctx: CallContext): Promise<ModelInfo[]> {
    return this.inner.listModels(ctx);
  }
}

/** The adapter, made to take chat `file` parts (see documentMode). */
export function withDocuments(adapter: ProviderAdapter, config: ProviderConfig, optionalMethods: readonly string[]): ProviderAdapter {
  return new DocumentsAdapter(adapter, config, optionalMethods);
}
