/**
 * @module Which of a profile's own provider keys serves a candidate (CONTRACTS.md §6.14):
 * `gemini_api_key` → providers of type google; `deepseek_api_key` / `qwen_api_key` → providers whose
 * id or endpoint names DeepSeek / Qwen (DashScope); `chatgpt_api_key` → type openai on OpenAI's own
 * endpoint. Candidates are grouped in order by the key they take, so each group runs through the one
 * attempt loop with that key as its `providerKey` (which wins over the configured key).
 */
import type { Candidate } from '../routing/candidate.js';
import type { ApiKeyName, ProfileApiKeys } from './glasses-data.js';

function isOpenAIEndpoint(endpoint: string | undefined): boolean {
  if (!endpoint) return true;
  try {
    return new URL(endpoint).hostname === 'api.openai.com';
  } catch {
    return false;
  }
}

export function profileKeyName(c: Candidate): ApiKeyName | undefined {
  const p = c.provider;
  const id = c.providerId.toLowerCase();
  const endpoint = (p.endpoint ?? '').toLowerCase();
  if (p.type === 'google') return 'gemini_api_key';
  if (id.includes('deepseek') || endpoint.includes('deepseek')) return 'deepseek_api_key';
  if (id.includes('qwen') || endpoint.includes('qwen') || endpoint.includes('dashscope')) return 'qwen_api_key';
  if (p.type === 'openai' && isOpenAIEndpoint(p.endpoint)) return 'chatgpt_api_key';
  return undefined;
}

export interface KeyGroup {
  candidates: Candidate[];
  /** The profile's key for these candidates, if it has one. */
  key: string | undefined;
}

/** Splits candidates, keeping their order, into runs that take the same profile key. */
export function groupByProfileKey(candidates: readonly Candidate[], keys: ProfileApiKeys): KeyGroup[] {
  const groups: KeyGroup[] = [];
  for (const c of candidates) {
    const name = profileKeyName(c);
    const key = name ? keys[name] || undefined : undefined;
    const last = groups[groups.length - 1];
    if (last && last.key === key) last.candidates.push(c);
    else groups.push({ candidates: [c], key });
  }
  return groups;
}
