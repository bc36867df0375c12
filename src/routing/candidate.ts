/**
 * @module A candidate is one provider/model that may serve a request, with its settings merged
 * (providers.json model entry, overlaid by the rotation's entry) and its configured key.
 */
import type { ProviderConfig, ProviderModelConfig, RotationModelConfig } from '../config/schema.js';
import type { ProviderAdapter } from '../providers/provider-adapter.js';

/** The declared fields of a loose (passthrough) schema type, without its `[k: string]: unknown` index. */
type KnownFields<T> = { [K in keyof T as string extends K ? never : number extends K ? never : K]: T[K] };

// Omit over the loose types directly would keep only their index signature (every field unknown).
export type ModelSettings = Partial<Omit<KnownFields<ProviderModelConfig> & KnownFields<RotationModelConfig>, 'name'>>;

export interface Candidate {
  providerId: string;
  model: string;
  provider: ProviderConfig;
  adapter: ProviderAdapter;
  settings: ModelSettings;
  /** Relative weight in a rotation (1 for a direct target). */
  weight: number;
  /** The rotation entry's own key (used after the providers.json key). */
  rotationKey?: string;
  /** `provider/model`, also the key of health state. */
  key: string;
}

/** Keys a client brought with its request (CONTRACTS.md §6.9). */
export interface ClientKeys {
  /** `x-aisbf-provider-key`: an explicit override. */
  providerKey?: string;
  /** `Authorization: Bearer` when proxy auth is off: forwarded when no key is configured. */
  bearer?: string;
}
