/**
 * @module Which candidates can serve a capability. A candidate serves one when its model declares it
 * (`capabilities` in providers.json or in the rotation entry) and its adapter implements the method.
 *
 * Defaults (docs/capabilities.md): a model entry without a `capabilities` list counts as `chat` only;
 * a direct `provider/model` request is allowed whatever the config lists (the user named the model), so
 * it only needs the adapter method. Rotation and autoselect-fallback candidates must declare it.
 */
import { CAPABILITIES } from '../config/schema.js';
import type { ProviderAdapter } from '../providers/provider-adapter.js';
import type { Runtime } from '../runtime.js';
import { HttpError } from '../errors/http-error.js';
import type { Candidate } from './candidate.js';
import { listOr } from './list-or.js';

export type Capability = (typeof CAPABILITIES)[number];

/** The adapter methods a request may need. */
export type CapabilityMethod = 'chat' | 'embed' | 'generateImage' | 'editImage' | 'speak' | 'transcribe' | 'startVideo';

/** What a request needs: the declared capability and the adapter method that serves it. */
export interface CapabilityNeed {
  capability: Capability;
  method: CapabilityMethod;
  /** Words for messages: "image generation". */
  label: string;
}

export const NEEDS = {
  embeddings: { capability: 'embeddings', method: 'embed', label: 'embeddings' },
  imageGeneration: { capability: 'image', method: 'generateImage', label: 'image generation' },
  imageEdit: { capability: 'image', method: 'editImage', label: 'image edits' },
  speech: { capability: 'speech', method: 'speak', label: 'text-to-speech' },
  transcription: { capability: 'transcription', method: 'transcribe', label: 'transcription' },
  video: { capability: 'video', method: 'startVideo', label: 'video generation' },
} as const satisfies Record<string, CapabilityNeed>;

const CHAT_ONLY: readonly Capability[] = ['chat'];

/** A candidate's declared capabilities; no list means chat only. */
export function declaredCapabilities(c: Pick<Candidate, 'settings'>): readonly Capability[] {
  return c.settings.capabilities ?? CHAT_ONLY;
}

export function declares(c: Pick<Candidate, 'settings'>, capability: Capability): boolean {
  return declaredCapabilities(c).includes(capability);
}

export function adapterCan(adapter: ProviderAdapter, method: CapabilityMethod): boolean {
  return typeof adapter[method] === 'function';
}

/** Keeps the candidates that declare `capability` (order kept). For chat/vision/tools filters too. */
export function filterByCapability(candidates: readonly Candidate[], capability: Capability): Candidate[] {
  return candidates.filter((c) => declares(c, capability));
}

/** `provider/model` entries in providers.json that declare the capability and whose adapter can serve it. */
export function modelsDeclaring(rt: Runtime, need: CapabilityNeed): string[] {
  const out: string[] = [];
  for (const [id, p] of Object.entries(rt.config.providers.providers)) {
    const adapter = rt.adapters.get(id);
    if (!adapter || !adapterCan(adapter, need.method)) continue;
    for (const m of p.models) if (m.capabilities?.includes(need.capability)) out.push(`${id}/${m.name}`);
  }
  return out;
}

/** Provider ids whose adapter implements the method. */
export function providersWith(rt: Runtime, method: CapabilityMethod): string[] {
  return [...rt.adapters].filter(([, a]) => adapterCan(a, method)).map(([id]) => id);
}

/**
 * The candidates that can serve `need`. `direct` is a provider/model the client named: only the
 * adapter method is required. Otherwise candidates must declare the capability; one whose adapter
 * lacks the method is skipped. Nothing left → 400 naming the capability and what could serve it.
 */
export function capableCandidates(rt: Runtime, candidates: readonly Candidate[], need: CapabilityNeed, opts: { direct: boolean; targetName: string }): Candidate[] {
  if (opts.direct) {
    const c = candidates[0]!;
    if (adapterCan(c.adapter, need.method)) return [c];
    throw new HttpError(
      400,
      `Provider '${c.providerId}' (type ${c.provider.type}) does not support ${need.label}. Providers that do: ${listOr(providersWith(rt, need.method), '(none configured)')}.`,
      { param: 'model', code: 'unsupported_capability' },
    );
  }
  const able = candidates.filter((c) => declares(c, need.capability) && adapterCan(c.adapter, need.method));
  if (able.length) return able;
  const checked = candidates.map((c) => `${c.key} [${declaredCapabilities(c).join(', ')}${adapterCan(c.adapter, need.method) ? '' : `; ${c.provider.type} adapter has no ${need.label}`}]`);
  throw new HttpError(
    400,
    `No candidate of '${opts.targetName}' can serve ${need.label} (capability '${need.capability}'). Checked: ${listOr(checked, '(no candidates)')}. ` +
      `Models that declare '${need.capability}': ${listOr(modelsDeclaring(rt, need), '(none)')}. ` +
      `Add "capabilities": ["${need.capability}"] to a model entry in providers.json or rotations.json, or name a provider/model directly.`,
    { param: 'model', code: 'unsupported_capability' },
  );
}
