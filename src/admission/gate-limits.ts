/**
 * @module Where the admission limits of a candidate come from, computed once per config load:
 * a model entry's `max_concurrent` / `max_waiting`, else aisbf.json `queue` defaults; a provider
 * entry's own limits cap the provider as a whole. Ollama models default to one at a time (Ollama's
 * own OLLAMA_NUM_PARALLEL default) unless configured.
 */
import type { Candidate } from '../routing/candidate.js';
import type { Runtime } from '../runtime.js';
import { providerModelRef } from '../config/model-ref.js';

export interface GateLimits {
  maxConcurrent?: number;
  maxWaiting?: number;
}

/** The seed's timeout (CONTRACTS §3): 300 s. */
export const DEFAULT_QUEUE_TIMEOUT_SECONDS = 300;
/** Ollama's own default parallelism per model. */
export const OLLAMA_DEFAULT_CONCURRENCY = 1;

export interface LimitsOfConfig {
  /** True when any gate can ever limit: otherwise the stage is inactive. */
  anyLimit: boolean;
  /** Limits of a gate id (`provider` or `provider/model`). */
  of(id: string): GateLimits;
  forCandidate(c: Candidate): GateLimits;
  /** Whether the candidate's model is listed in the config (its chain may be cached). */
  isConfigured(c: Candidate): boolean;
}

/** What the admission queue reads: gate limits and the queue timeout (a Runtime provides both). */
export interface AdmissionLimits {
  limits: LimitsOfConfig;
  timeoutMs: number;
}

const cache = new WeakMap<Runtime, LimitsOfConfig>();

const num = (v: unknown): number | undefined => (typeof v === 'number' && v > 0 ? v : undefined);
const waiting = (v: unknown): number | undefined => (typeof v === 'number' && v >= 0 ? v : undefined);

export function gateLimitsFor(rt: Runtime): LimitsOfConfig {
  let l = cache.get(rt);
  if (l) return l;
  const q = (rt.config.aisbf as { queue?: { max_concurrent?: number; max_waiting?: number } }).queue ?? {};
  const byId = new Map<string, GateLimits>();
  let anyLimit = num(q.max_concurrent) !== undefined || waiting(q.max_waiting) !== undefined;
  const providers = rt.config.providers.providers;
  const modelLimits = (providerId: string, settings: Record<string, unknown>): GateLimits => {
    const type = providers[providerId]?.type;
    return {
      maxConcurrent: num(settings.max_concurrent) ?? num(q.max_concurrent) ?? (type === 'ollama' ? OLLAMA_DEFAULT_CONCURRENCY : undefined),
      maxWaiting: waiting(settings.max_waiting) ?? waiting(q.max_waiting),
    };
  };
  for (const [id, p] of Object.entries(providers)) {
    const pl = p as Record<string, unknown>;
    const own: GateLimits = { maxConcurrent: num(pl.max_concurrent), maxWaiting: waiting(pl.max_waiting) };
    if (own.maxConcurrent !== undefined || own.maxWaiting !== undefined) anyLimit = true;
    byId.set(id, own);
    if (p.type === 'ollama' && p.enabled) anyLimit = true;
    for (const m of p.models) {
      const ml = modelLimits(id, m as Record<string, unknown>);
      if (ml.maxConcurrent !== undefined || ml.maxWaiting !== undefined) anyLimit = true;
      byId.set(`${id}/${m.name}`, ml);
    }
  }
  for (const list of rt.rotations.values()) {
    for (const c of list) {
      const ml = modelLimits(c.providerId, c.settings as Record<string, unknown>);
      if (ml.maxConcurrent !== undefined || ml.maxWaiting !== undefined) anyLimit = true;
      if (!byId.has(c.key) || (c.settings as Record<string, unknown>).max_concurrent !== undefined) byId.set(c.key, ml);
    }
  }
  l = {
    anyLimit,
    of: (id) => {
      const known = byId.get(id);
      if (known) return known;
      // A client-named model of a configured provider: the queue defaults (and Ollama's) apply.
      const ref = providerModelRef(providers, id);
      return ref ? modelLimits(ref.providerId, {}) : {};
    },
    forCandidate: (c) => byId.get(c.key) ?? modelLimits(c.providerId, c.settings as Record<string, unknown>),
    isConfigured: (c) => byId.has(c.key),
  };
  cache.set(rt, l);
  return l;
}

export function queueTimeoutMs(rt: Runtime): number {
  const q = (rt.config.aisbf as { queue?: { timeout_seconds?: number } }).queue;
  return 1000 * (q?.timeout_seconds ?? DEFAULT_QUEUE_TIMEOUT_SECONDS);
}
