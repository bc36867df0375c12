/**
 * @module Builds the adapter for a providers.json entry, by its `type`. Each type's module (and the
 * SDK it wraps, 10–25 MB of memory each) is loaded the first time a provider of that type is called,
 * not at start-up: a daemon with five provider types configured pays only for the ones it uses.
 * Which optional capability methods a type has is declared here, because routing decides what a
 * candidate can serve before its module is loaded (tests/providers/adapter-registry.test.ts keeps
 * these lists equal to the classes).
 */
import type { ProviderConfig } from '../config/schema.js';
import { withDocuments } from './with-documents.js';
import type { CallContext, ChatCompletion, ChatRequest, ChatStreamPart, ModelInfo, ProviderAdapter } from './provider-adapter.js';

export const OPTIONAL_METHODS = ['embed', 'generateImage', 'editImage', 'speak', 'transcribe', 'startVideo', 'getVideo', 'getVideoContent', 'passthrough'] as const;
export type OptionalMethod = (typeof OPTIONAL_METHODS)[number];

export type AdapterFactory = (id: string, config: ProviderConfig) => ProviderAdapter;

export interface AdapterType {
  load(): Promise<AdapterFactory>;
  methods: readonly OptionalMethod[];
}

const ALL_MEDIA = ['generateImage', 'editImage', 'speak', 'transcribe', 'startVideo', 'getVideo', 'getVideoContent'] as const;

/** Provider type → how to load its adapter, and what it can do besides chat. */
export const ADAPTER_TYPES: Record<ProviderConfig['type'], AdapterType> = {
  openai: {
    load: async () => {
      const { OpenAIAdapter } = await import('./openai/openai-adapter.js');
      return (id, config) => new OpenAIAdapter(id, config);
    },
    methods: ['embed', ...ALL_MEDIA],
  },
  anthropic: {
    load: async () => {
      const { AnthropicAdapter } = await import('./anthropic/anthropic-adapter.js');
      return (id, config) => new AnthropicAdapter(id, config);
    },
    methods: ['passthrough'],
  },
  google: {
    load: async () => {
      const { GeminiAdapter } = await import('./gemini/gemini-adapter.js');
      return (id, config) => new GeminiAdapter(id, config);
    },
    methods: ['embed', 'generateImage', 'editImage', 'speak', 'startVideo', 'getVideo', 'getVideoContent'],
  },
  ollama: {
    load: async () => {
      const { OllamaAdapter } = await import('./ollama/ollama-adapter.js');
      return (id, config) => new OllamaAdapter(id, config);
    },
    methods: ['embed'],
  },
  huggingface: {
    load: async () => {
      const { HuggingFaceAdapter } = await import('./huggingface/huggingface-adapter.js');
      return (id, config) => new HuggingFaceAdapter(id, config);
    },
    methods: ['embed', ...ALL_MEDIA],
  },
};

/** Loading is shared by every provider of a type (and across config reloads). */
const factories = new Map<ProviderConfig['type'], Promise<AdapterFactory>>();
function factoryFor(type: ProviderConfig['type']): Promise<AdapterFactory> {
  let f = factories.get(type);
  if (!f) {
    f = ADAPTER_TYPES[type].load();
    factories.set(type, f);
    f.catch(() => factories.delete(type));
  }
  return f;
}

/** Stands in for a provider's adapter until its first call, then hands every call to the real one. */
class LazyAdapter implements ProviderAdapter {
  private real: ProviderAdapter | undefined;
  private loading: Promise<ProviderAdapter> | undefined;

  constructor(
    readonly id: string,
    private readonly config: ProviderConfig,
    methods: readonly OptionalMethod[],
  ) {
    for (const m of methods) {
      (this as unknown as Record<OptionalMethod, unknown>)[m] = async (...args: unknown[]) => {
        const a = this.real ?? (await this.load());
        return (a[m] as (...x: unknown[]) => Promise<unknown>).apply(a, args);
      };
    }
  }

  private load(): Promise<ProviderAdapter> {
    return (this.loading ??= factoryFor(this.config.type).then((f) => (this.real = f(this.id, this.config))));
  }

  chat(req: ChatRequest, ctx: CallContext): Promise<ChatCompletion> {
    if (this.real) return this.real.chat(req, ctx);
    return this.load().then((a) => a.chat(req, ctx));
  }

  streamChat(req: ChatRequest, ctx: CallContext): AsyncIterable<ChatStreamPart> {
    if (this.real) return this.real.streamChat(req, ctx);
    const load = () => this.load();
    return (async function* firstStream() {
      yield* (await load()).streamChat(req, ctx);
    })();
  }

  listModels(ctx: CallContext): Promise<ModelInfo[]> {
    if (this.real) return this.real.listModels(ctx);
    return this.load().then((a) => a.listModels(ctx));
  }
}

export function createAdapter(id: string, config: ProviderConfig): ProviderAdapter | undefined {
  const type = ADAPTER_TYPES[config.type];
  if (!type) return undefined;
  // An OpenAI-type provider passes Responses bodies through only when it declares responses_api (issue 17).
  const methods: readonly OptionalMethod[] = config.type === 'openai' && config.responses_api ? [...type.methods, 'passthrough'] : type.methods;
  // withDocuments: chat `file` parts reach each model in a shape it reads (issue 19).
  return withDocuments(new LazyAdapter(id, config, methods), config, methods);
}
