/**
 * @module One scripted upstream per provider type (each a faithful fake of its own wire format), in
 * the one shape the inbound API suites need: a providers.json entry, a scripted reply (text, tool
 * calls, reasoning) and the requests the fake received.
 */
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic-upstream.js';
import { startFakeGemini, type FakeGemini } from '../fakes/gemini-upstream.js';
import { startFakeOllama, type FakeOllama } from '../fakes/ollama-upstream.js';
import type { RecordedRequest } from '../fakes/fake-server.js';

export interface Reply {
  text?: string;
  reasoning?: string;
  toolCalls?: Array<{ id: string; name: string; arguments: string }>;
}

export interface Upstream {
  /** providers.json id and provider type. */
  id: string;
  type: 'openai' | 'anthropic' | 'google' | 'ollama';
  model: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  providerConfig(extra?: Record<string, unknown>): Record<string, unknown>;
  reply(r: Reply): void;
  requests(): RecordedRequest[];
}

export function openaiUpstream(): Upstream & { fake(): FakeOpenAI } {
  let fake: FakeOpenAI;
  return {
    id: 'oai',
    type: 'openai',
    model: 'gpt-4o-mini',
    fake: () => fake,
    start: async () => {
      fake = await startFakeOpenAI({ models: ['gpt-4o-mini'] });
    },
    stop: () => fake.close(),
    providerConfig: (extra = {}) => ({ type: 'openai', endpoint: fake.baseURL, api_key: 'sk-fake-openai', models: [{ name: 'gpt-4o-mini', capabilities: ['chat', 'vision', 'tools', 'documents'] }], ...extra }),
    reply: (r) => fake.enqueue({ type: 'reply', text: r.text ?? '', reasoning: r.reasoning, toolCalls: r.toolCalls }),
    requests: () => fake.chatRequests(),
  };
}

const ANTHROPIC_KEY = 'sk-ant-inbound-0123456789abcdef';

export function anthropicUpstream(): Upstream & { fake(): FakeAnthropic } {
  let fake: FakeAnthropic;
  return {
    id: 'ant',
    type: 'anthropic',
    model: 'claude-sonnet-4-6',
    fake: () => fake,
    start: async () => {
      fake = await startFakeAnthropic({ apiKey: ANTHROPIC_KEY });
    },
    stop: () => fake.close(),
    providerConfig: (extra = {}) => ({ type: 'anthropic', endpoint: fake.endpoint, api_key: ANTHROPIC_KEY, models: [{ name: 'claude-sonnet-4-6', capabilities: ['chat', 'vision', 'tools'] }], ...extra }),
    reply: (r) => fake.enqueue({ type: 'reply', text: r.text ?? '', reasoning: r.reasoning, toolCalls: r.toolCalls }),
    requests: () => fake.chatRequests(),
  };
}

const GEMINI_KEY = 'AIzaSyFakeInboundKey_0123456789abcdef';

export function geminiUpstream(): Upstream {
  let fake: FakeGemini;
  return {
    id: 'gem',
    type: 'google',
    model: 'gemini-2.5-flash',
    start: async () => {
      fake = await startFakeGemini({ apiKey: GEMINI_KEY });
    },
    stop: () => fake.close(),
    providerConfig: (extra = {}) => ({ type: 'google', endpoint: fake.endpoint, api_key: GEMINI_KEY, models: [{ name: 'gemini-2.5-flash', capabilities: ['chat', 'vision', 'tools'] }], ...extra }),
    reply: (r) => fake.enqueue({ type: 'reply', text: r.text ?? '', reasoning: r.reasoning, toolCalls: r.toolCalls, withIds: true }),
    requests: () => fake.chatRequests(),
  };
}

export function ollamaUpstream(): Upstream {
  let fake: FakeOllama;
  const model = 'llama3.2:latest';
  return {
    id: 'oll',
    type: 'ollama',
    model,
    start: async () => {
      fake = await startFakeOllama({ models: [model] });
    },
    stop: () => fake.close(),
    providerConfig: (extra = {}) => ({ type: 'ollama', endpoint: fake.origin, api_key_required: false, models: [{ name: model, capabilities: ['chat', 'vision', 'tools'] }], ...extra }),
    reply: (r) =>
      fake.enqueue({ type: 'reply', text: r.text, thinking: r.reasoning, toolCalls: r.toolCalls?.map((t) => ({ id: t.id, name: t.name, arguments: JSON.parse(t.arguments) })), doneReason: 'stop' }),
    requests: () => fake.chatRequests(),
  };
}
