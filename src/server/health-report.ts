/**
 * @module What `GET /health` says about each provider, without calling any upstream: its config state
 * (disabled, no key), live cooldowns with their end time, and the newest active probe (`?probe=1`).
 * The overall status is `degraded` when an enabled provider cannot serve; the server itself is up
 * either way (HTTP 200).
 */
import type { RoutingState } from '../routing/routing-state.js';
import type { Runtime } from '../runtime.js';
import type { ProbeResult } from './health-probe.js';
import { splitModelRef } from '../config/model-ref.js';

export interface ProviderHealth {
  type: string;
  ready: boolean;
  /** One line for people: `ready`, `no key (set X)`, `cooling down until T (gpt-4o)`, `unreachable: …`. */
  status: string;
  /** Models cooling down after failures, each with the ISO time it becomes available again. */
  cooldowns?: Array<{ model: string; until: string; failures: number; last_error: string | null }>;
  /** The newest active probe (TCP connect to the endpoint), when one has run. */
  probe?: ProbeResult;
}

export interface HealthSummary {
  status: 'healthy' | 'degraded';
  providers: Record<string, ProviderHealth>;
  /** `provider: why` for each enabled provider that cannot serve. */
  problems: string[];
  /** storage.redis: the shared store's state; `degraded` while this instance runs on local state. */
  storage?: { backend: string; state: 'connected' | 'degraded'; url: string; instance: string; since: string };
}

/** Where the shared store's state comes from (store/redis/redis-state.ts). */
export interface SharedStoreReport {
  status(): NonNullable<HealthSummary['storage']>;
}

export function healthSummary(rt: Runtime, routing: RoutingState, probes: ReadonlyMap<string, ProbeResult>, now = routing.clock(), shared?: SharedStoreReport): HealthSummary {
  // One pass over the health records: the cooldowns, grouped by provider.
  const cooling = new Map<string, NonNullable<ProviderHealth['cooldowns']>>();
  for (const r of routing.health.all()) {
    if (r.cooldownUntil <= now) continue;
    const ref = splitModelRef(r.key);
    if (!ref) continue;
    const id = ref.providerId;
    const list = cooling.get(id) ?? [];
    list.push({ model: ref.model, until: new Date(r.cooldownUntil).toISOString(), failures: r.failures, last_error: r.lastError });
    cooling.set(id, list);
  }
  const providers: Record<string, ProviderHealth> = {};
  const problems: string[] = [];
  for (const [id, p] of Object.entries(rt.config.providers.providers)) {
    const base = rt.providerStatus(id);
    const entry: ProviderHealth = { type: p.type, ready: base.ready, status: base.status };
    const cooldowns = cooling.get(id);
    const probe = probes.get(id);
    if (cooldowns?.length) entry.cooldowns = cooldowns;
    if (probe && p.enabled) entry.probe = probe;
    if (base.ready) {
      if (probe && !probe.ok) {
        entry.ready = false;
        entry.status = `unreachable: ${probe.error ?? 'no connection'} (${probe.target}, probed ${probe.at})`;
      } else if (cooldowns?.length) {
        const first = cooldowns.reduce((a, b) => (a.until <= b.until ? a : b));
        entry.ready = false;
        entry.status = `cooling down until ${first.until} (${cooldowns.map((c) => c.model).join(', ')})`;
      }
    }
    if (p.enabled && !entry.ready) problems.push(`${id}: ${entry.status}`);
    providers[id] = entry;
  }
  const storage = shared?.status();
  if (storage?.state === 'degraded') problems.push(`storage: ${storage.backend} at ${storage.url} unreachable since ${storage.since}; limits, cooldowns and the cache hold for this instance only until it is back`);
  return { status: problems.length ? 'degraded' : 'healthy', providers, problems, ...(storage ? { storage } : {}) };
}
