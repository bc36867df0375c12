/**
 * @module Chat `file` parts for every provider. Wraps an adapter so that a request carrying a file
 * part reaches it in a shape the model reads: natively (OpenAI passes it through, Anthropic makes
 * `document` blocks, Gemini `inlineData` — their converters), rendered to page images for a model
 * that only sees images, or refused with a 400 naming the missing capability. Every file is checked
 * first (render-file-parts.ts). Requests without a file part cost one scan of their content parts.
 */
import { OCR_DEFAULTS } from '../config/ocr-config.js';
import type { ProviderConfig } from '../config/schema.js';
import { HttpError } from '../errors/http-error.js';
import type { CallContext, ChatCompletion, ChatRequest, ChatStreamPart, ModelInfo, ProviderAdapter } from './provider-adapter.js';
import { ClientGoneError } from './deadline.js';
import { CHAT_PAGE_LONG_SIDE, hasFileParts, prepareFileParts } from './render-file-parts.js';
import { toAbortSignal } from './lite-abort.js';

export type DocumentMode = 'native' | 'render' | 'refuse';

/** Provider types whose API takes a PDF itself: OpenAI (`file` parts), Anthropic (`document`), Gemini (inline data). */
const PDF_APIS: ReadonlySet<ProviderConfig['type']> = new Set(['openai', 'anthropic', 'google']);
/** Provider types whose converters take a text file as a document (Anthropic's text source, Gemini's inline text). */
const TEXT_DOCUMENT_APIS: ReadonlySet<ProviderConfig['type']> = new Set(['anthropic', 'google']);

/**
 * How a model gets a file part, from its declared capabilities — the same rule as autoselect's
 * filter (routing/autoselect-capable.ts), which keeps a model that declares `documents` or `vision`,
 * or declares nothing:
 * - declares `documents`, on a provider type whose API takes PDFs: native;
 * - declares `vision` (or `documents` on Ollama / Hugging Face, whose APIs take only images): the
 *   pages rendered as images;
 * - declares a list with neither: refused (400 naming both capabilities);
 * - declares nothing: native where the API takes PDFs, rendered elsewhere.
 */
export function documentMode(type: ProviderConfig['type'], capabilities: readonly string[] | undefined | null): DocumentMode {
  if (!capabilities) return PDF_APIS.has(type) ? 'native' : 'render';
  const documents = capabilities.includes('documents');
  if (documents && PDF_APIS.has(type)) return 'native';
  if (documents || capabilities.includes('vision')) return 'render';
  return 'refuse';
}

/**
 * One conversion per request and mode: a failover to another candidate of the same mode reuses the
 * checked (or rendered) request instead of rendering the PDF again.
 */
const prepared = new WeakMap<ChatRequest, Map<string, Promise<ChatRequest>>>();

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

  private prepare(req: ChatRequest, ctx: CallContext): Promise<ChatRequest> {
    const type = this.config.type;
    const mode = documentMode(type, ctx.capabilities ?? this.caps.get(ctx.model));
    if (mode === 'refuse') {
      return Promise.reject(
        new HttpError(
          400,
          `Model '${this.id}/${ctx.model}' cannot read file parts: it declares neither the 'documents' nor the 'vision' capability. ` +
            `Add "documents" (native PDF input) or "vision" (pages sent as images) to its capabilities in providers.json, or choose another model.`,
          { code: 'unsupported_capability', param: 'messages' },
        ),
      );
    }
    const textAsDocument = mode === 'native' && TEXT_DOCUMENT_APIS.has(type);
    const keepUnknownFileIds = mode === 'native' && type === 'openai';
    const key = `${mode}:${textAsDocument}:${keepUnknownFileIds}`;
    let byMode = prepared.get(req);
    const done = byMode?.get(key);
    if (done) return done;
    const limits = ctx.documents ?? OCR_DEFAULTS;
    const p = prepareFileParts(req, {
      mode,
      maxBytes: Math.round(limits.max_mb * 1024 * 1024),
      maxPages: limits.max_pages,
      maxPixels: limits.max_pixels,
      longSide: CHAT_PAGE_LONG_SIDE,
      signal: toAbortSignal(ctx.signal),
      resolveFile: ctx.resolveFile,
      textAsDocument,
      keepUnknownFileIds,
    }).catch((err: unknown) => {
      // A render stopped because the client left (or the call timed out) is not a bad document.
      throw ctx.signal.aborted ? new ClientGoneError() : err;
    });
    if (!byMode) prepared.set(req, (byMode = new Map()));
    byMode.set(key, p);
    return p;
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
