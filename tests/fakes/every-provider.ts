/**
 * Fakes of all five provider types at once, and the providers.json entries that point at them
 * (ids oa, an, ge, ol, hf): for tests that run one daemon against every wire format.
 */
import { startFakeAnthropic, type FakeAnthropic } from './anthropic-upstream.js';
import { startFakeGemini, type FakeGemini } from './gemini-upstream.js';
import { startFakeHuggingFace, type FakeHuggingFace } from './huggingface-upstream.js';
import { startFakeOllama, type FakeOllama } from './ollama-upstream.js';
import { startFakeOpenAI, type FakeOpenAI } from './openai-upstream.js';

export interface EveryProvider {
  openai: FakeOpenAI;
  anthropic: FakeAnthropic;
  gemini: FakeGemini;
  ollama: FakeOllama;
  hf: FakeHuggingFace;
  /** providers.json's `providers`, one model each: oa/gpt-4o-mini, an/claude-haiku-4-5, ge/gemini-2.5-flash, ol/llama3.2:latest, hf/meta-llama/Llama-3.1-8B-Instruct. */
  providers: Record<string, Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startEveryProvider(): Promise<EveryProvider> {
  const [openai, anthropic, gemini, ollama, hf] = await Promise.all([startFakeOpenAI(), startFakeAnthropic(), startFakeGemini(), startFakeOllama(), startFakeHuggingFace()]);
  return {
    openai,
    anthropic,
    gemini,
    ollama,
    hf,
    providers: {
      oa: { type: 'openai', endpoint: openai.baseURL, api_key: 'sk-upstream-test-1234567890', models: [{ name: 'gpt-4o-mini' }] },
      an: { type: 'anthropic', endpoint: anthropic.endpoint, api_key: anthropic.apiKey, models: [{ name: 'claude-haiku-4-5' }] },
      ge: { type: 'google', endpoint: gemini.endpoint, api_key: gemini.apiKey, models: [{ name: 'gemini-2.5-flash' }] },
      ol: { type: 'ollama', endpoint: ollama.origin, api_key_required: false, models: [{ name: 'llama3.2:latest' }] },
      hf: { type: 'huggingface', endpoint: hf.baseURL, api_key: 'hf_test000000000000000000', models: [{ name: 'meta-llama/Llama-3.1-8B-Instruct' }] },
    },
    close: async () => {
      await Promise.all([openai, anthropic, gemini, ollama, hf].map((f) => f.close()));
    },
  };
}
