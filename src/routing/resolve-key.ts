/**
 * @module Which key a call uses (CONTRACTS.md §6.9): the client's explicit `x-aisbf-provider-key`,
 * else the providers.json key, else the rotation's key, else the client's bearer (proxy auth off).
 */
import { ProviderError } from '../providers/provider-error.js';
import type { Candidate, ClientKeys } from './candidate.js';

export function resolveKey(c: Candidate, keys: ClientKeys, missingKeyEnv: ReadonlyMap<string, string>): string | undefined {
  const key = keys.providerKey ?? c.provider.api_key ?? c.rotationKey ?? keys.bearer;
  if (key || !c.provider.api_key_required || c.provider.type === 'ollama') return key || undefined;
  const env = missingKeyEnv.get(c.providerId);
  const hint = env ? `set ${env}` : `set "api_key" for it in providers.json`;
  throw new ProviderError(
    `Provider '${c.providerId}' has no API key: ${hint}, or send one in the x-aisbf-provider-key header`,
    { kind: 'missing_key', status: 401, provider: c.providerId, model: c.model, code: 'missing_api_key' },
  );
}
