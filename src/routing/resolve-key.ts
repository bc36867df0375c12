/**
 * @module Which key a call uses (CONTRACTS.md §6.9): the client's explicit `x-aisbf-provider-key`,
 * else the providers.json key, else the rotation's key, else — only for a provider with
 * `forward_client_key: true` — the client's bearer (proxy auth off). Forwarding is opt-in so an SDK's
 * placeholder key never reaches a provider.
 */
import { ProviderError } from '../providers/provider-error.js';
import type { KeySource } from '../providers/provider-adapter.js';
import type { Candidate, ClientKeys } from './candidate.js';

export interface ResolvedKey {
  key: string | undefined;
  /** 'client' (forwarded bearer) or 'client-header' (x-aisbf-provider-key): a 401/403 then blames the client's key. */
  source: KeySource;
}

export function resolveKeyWithSource(c: Candidate, keys: ClientKeys, missingKeyEnv: ReadonlyMap<string, string>): ResolvedKey {
  if (keys.providerKey) return { key: keys.providerKey, source: 'client-header' };
  const configured = c.provider.api_key || c.rotationKey;
  if (configured) return { key: configured, source: 'config' };
  if (c.provider.forward_client_key && keys.bearer) return { key: keys.bearer, source: 'client' };
  if (!c.provider.api_key_required || c.provider.type === 'ollama') return { key: undefined, source: 'config' };
  const env = missingKeyEnv.get(c.providerId);
  const hint = env ? `set ${env}` : `set "api_key" for it in providers.json`;
  throw new ProviderError(
    `Provider '${c.providerId}' has no API key: ${hint}, or send one in the x-aisbf-provider-key header` +
      (keys.bearer ? ` (the bearer token is only forwarded to providers with "forward_client_key": true)` : ''),
    { kind: 'missing_key', status: 401, provider: c.providerId, model: c.model, code: 'missing_api_key' },
  );
}

export function resolveKey(c: Candidate, keys: ClientKeys, missingKeyEnv: ReadonlyMap<string, string>): string | undefined {
  return resolveKeyWithSource(c, keys, missingKeyEnv).key;
}
