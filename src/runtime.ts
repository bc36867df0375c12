/**
 * @module Everything derived from one loaded config, built once at start-up (and again on reload):
 * adapters, per-model settings, rotation candidate lists. Requests read it; nothing per request
 * rebuilds it.
 */
import type { Config } from './config/load-config.js';
import type { ProviderConfig } from './config/schema.js';
import { createAdapter } from './providers/create-adapter.js';
import type { ProviderAdapter } from './providers/provider-adapter.js';
import type { Candidate, ModelSettings } from './routing/candidate.js';
import { warmEncoders } from './context/warm-encoders.js';

export interface Runtime {
  readonly config: Config;
  readonly adapters: ReadonlyMap<string, ProviderAdapter>;
  /** Rotation id → its candidates in config order. */
  readonly rotations: ReadonlyMap<string, Candidate[]>;
  /** A direct provider/model candidate (settings from providers.json, if the model is listed). */
  candidate(providerId: string, model: string): Candidate | undefined;
  /** Human-readable readiness of a provider, without calling it. */
  providerStatus(id: string): ProviderStatus;
  /** Upstream timeout for a candidate, in ms. */
  timeoutMs(c: Candidate): number;
  /** How adapters may fetch http(s) image URLs (CallContext.imagePolicy). */
  readonly imagePolicy: { allowPrivate: boolean; maxBytes: number; timeoutMs: number };
}

export interface ProviderStatus {
  ready: boolean;
  status: string;
}

function stripName<T extends { name: string }>(m: T): ModelSettings {
  const { name: _n, ...rest } = m;
  return rest as ModelSettings;
}

export function buildRuntime(config: Config): Runtime {
  // Tokenizer encoders are slow to build: build the ones condensation/splitting will use now, not on
  // the first request that needs them.
  warmEncoders(config);
  const adapters = new Map<string, ProviderAdapter>();
  const settings = new Map<string, Map<string, ModelSettings>>();
  for (const [id, p] of Object.entries(config.providers.providers)) {
    const adapter = createAdapter(id, p);
    if (adapter) adapters.set(id, adapter);
    settings.set(id, new Map(p.models.map((m) => [m.name, stripName(m)])));
  }

  const make = (providerId: string, provider: ProviderConfig, adapter: ProviderAdapter, model: string, extra?: ModelSettings, weight = 1, rotationKey?: string): Candidate => ({
    providerId,
    model,
    provider,
    adapter,
    settings: { ...settings.get(providerId)?.get(model), ...extra },
    weight,
    rotationKey,
    key: `${providerId}/${model}`,
  });

  const rotations = new Map<string, Candidate[]>();
  for (const [rid, rot] of Object.entries(config.rotations.rotations)) {
    const list: Candidate[] = [];
    for (const rp of rot.providers) {
      const provider = config.providers.providers[rp.provider_id];
      const adapter = adapters.get(rp.provider_id);
      if (!provider || !adapter) continue;
      for (const m of rp.models) list.push(make(rp.provider_id, provider, adapter, m.name, stripName(m), m.weight, rp.api_key));
    }
    rotations.set(rid, list);
  }

  const defaultTimeout = config.aisbf.defaults.timeout_seconds;
  const img = config.aisbf.images;
  return {
    config,
    imagePolicy: { allowPrivate: img.allow_private_addresses, maxBytes: Math.round(img.max_mb * 1024 * 1024), timeoutMs: img.fetch_timeout_seconds * 1000 },
    adapters,
    rotations,
    candidate(providerId, model) {
      const provider = config.providers.providers[providerId];
      const adapter = adapters.get(providerId);
      return provider && adapter ? make(providerId, provider, adapter, model) : undefined;
    },
    providerStatus(id) {
      const p = config.providers.providers[id];
      if (!p) return { ready: false, status: 'unknown provider' };
      if (!p.enabled) return { ready: false, status: 'disabled' };
      if (!adapters.has(id)) return { ready: false, status: `unsupported type ${p.type}` };
      if (p.api_key_required && p.type !== 'ollama' && !p.api_key) {
        const env = config.missingKeyEnv.get(id);
        return { ready: false, status: env ? `no key (set ${env})` : 'no key (set api_key in providers.json)' };
      }
      return { ready: true, status: 'ready' };
    },
    timeoutMs(c) {
      return 1000 * Number(c.settings.timeout_seconds ?? c.provider.timeout_seconds ?? defaultTimeout);
    },
  };
}
