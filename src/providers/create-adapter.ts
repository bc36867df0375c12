/**
 * @module Builds the adapter for a providers.json entry, by its `type`. Adapters are built once per
 * config load and reused for every request.
 */
import type { ProviderConfig } from '../config/schema.js';
import type { ProviderAdapter } from './provider-adapter.js';
import { OpenAIAdapter } from './openai/openai-adapter.js';
import { AnthropicAdapter } from './anthropic/anthropic-adapter.js';
import { GeminiAdapter } from './gemini/gemini-adapter.js';
import { OllamaAdapter } from './ollama/ollama-adapter.js';
import { HuggingFaceAdapter } from './huggingface/huggingface-adapter.js';

export type AdapterFactory = (id: string, config: ProviderConfig) => ProviderAdapter;

/** Provider type → factory. Each provider folder registers itself here. */
export const ADAPTER_FACTORIES: Partial<Record<ProviderConfig['type'], AdapterFactory>> = {
  openai: (id, config) => new OpenAIAdapter(id, config),
  anthropic: (id, config) => new AnthropicAdapter(id, config),
  google: (id, config) => new GeminiAdapter(id, config),
  ollama: (id, config) => new OllamaAdapter(id, config),
  huggingface: (id, config) => new HuggingFaceAdapter(id, config),
};

export function createAdapter(id: string, config: ProviderConfig): ProviderAdapter | undefined {
  return ADAPTER_FACTORIES[config.type]?.(id, config);
}
