import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { AisbfMetrics } from '../../src/accounting/metrics.js';
import { loadConfig } from '../../src/config/load-config.js';
import { buildRuntime } from '../../src/runtime.js';
import { ANONYMOUS, type RequestMeta } from '../../src/pipeline/request-meta.js';
import type { SettledRequest } from '../../src/pipeline/stages.js';
import { makeConfigDir } from '../helpers/aisbf-server.js';

const dir = makeConfigDir({
  providers: {
    openai: { type: 'openai', endpoint: 'http://127.0.0.1:9/v1', api_key: 'sk-x', models: [{ name: 'gpt-4o' }] },
    open: { type: 'openai', endpoint: 'http://127.0.0.1:9/v1', api_key_required: false, models: [] },
  },
  rotations: { fast: { providers: [{ provider_id: 'open', models: [{ name: 'llama3', weight: 1 }] }] } },
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const runtime = buildRuntime(loadConfig({ dir, env: {} }));

function meta(route = 'chat'): RequestMeta {
  return { route, requestId: 'r1', clientId: 'anonymous', priority: 'normal', identity: ANONYMOUS, keys: {}, signal: new AbortController().signal, startedAt: Date.now() - 100 };
}

function settled(over: Partial<SettledRequest>): SettledRequest {
  return { meta: meta(), attempts: 1, status: 200, latencyMs: 100, upstreamMs: 80, stream: false, cacheHit: false, failovers: 0, ...over };
}

async function seriesCount(m: AisbfMetrics): Promise<number> {
  const all = await m.registry.getMetricsAsJSON();
  return all.filter((x) => x.name.startsWith('aisbf_')).reduce((n, x) => n + x.values.length, 0);
}

describe('metrics labels', () => {
  it('does not grow the registry with 10,000 distinct client-sent model names', async () => {
    const m = new AisbfMetrics(() => runtime);
    const usage = { prompt: 1, completion: 1, cached: 0, reasoning: 0 };
    // One request of each kind first: a free-text model on an open provider, an unknown provider, an unknown route.
    m.record(settled({ providerId: 'open', model: 'first-free-text', usage }), 0.001);
    m.record(settled({ providerId: 'not-configured', model: 'x', status: 502 }), undefined);
    m.record(settled({ meta: meta('route-x'), providerId: 'open', model: 'y' }), undefined);
    const before = await seriesCount(m);
    for (let i = 0; i < 10_000; i++) {
      m.record(settled({ providerId: 'open', model: `client-model-${i}`, usage }), 0.001);
      m.record(settled({ providerId: `not-configured-${i}`, model: `x${i}`, status: 502 }), undefined);
      m.record(settled({ meta: meta(`route-${i}`), providerId: 'open', model: `y${i}` }), undefined);
    }
    expect(await seriesCount(m)).toBe(before);
    const text = await m.registry.metrics();
    expect(text).not.toContain('client-model-');
    expect(text).not.toContain('not-configured-');
    expect(text).toContain('aisbf_requests_total{route="chat",provider="open",model="other",status_class="2xx"} 10001');
    expect(text).toContain('aisbf_requests_total{route="chat",provider="other",model="other",status_class="5xx"} 10001');
    expect(text).toContain('aisbf_requests_total{route="other",provider="open",model="other",status_class="2xx"} 10001');
  });

  it('keeps configured provider/model names, rotation members included, and counts tokens by type', async () => {
    const m = new AisbfMetrics(() => runtime);
    m.record(settled({ providerId: 'openai', model: 'gpt-4o', usage: { prompt: 100, completion: 20, cached: 40, reasoning: 5 } }), 0.25);
    m.record(settled({ providerId: 'open', model: 'llama3', stream: true, ttftMs: 30, failovers: 2 }), 0);
    m.record(settled({ providerId: 'openai', model: 'gpt-4o', cacheHit: true }), 0);
    const text = await m.registry.metrics();
    expect(text).toContain('aisbf_requests_total{route="chat",provider="openai",model="gpt-4o",status_class="2xx"} 2');
    expect(text).toContain('aisbf_tokens_total{provider="openai",model="gpt-4o",type="prompt"} 100');
    expect(text).toContain('aisbf_tokens_total{provider="openai",model="gpt-4o",type="completion"} 20');
    expect(text).toContain('aisbf_tokens_total{provider="openai",model="gpt-4o",type="cached"} 40');
    expect(text).toContain('aisbf_tokens_total{provider="openai",model="gpt-4o",type="reasoning"} 5');
    expect(text).toContain('aisbf_cost_usd_total{provider="openai",model="gpt-4o"} 0.25');
    expect(text).toContain('aisbf_time_to_first_token_seconds_count{provider="open",model="llama3"} 1');
    expect(text).toContain('aisbf_failovers_total{route="chat"} 2');
    expect(text).toContain('aisbf_cache_hits_total{route="chat"} 1');
    // Cache hits never count as upstream time.
    expect(text).toContain('aisbf_upstream_duration_seconds_count{provider="openai",model="gpt-4o"} 1');
    // Upstream time is the upstream's own (80 ms), not the request's (100 ms).
    expect(text).toContain('aisbf_upstream_duration_seconds_sum{provider="openai",model="gpt-4o"} 0.08');
    expect(text).toContain('aisbf_request_duration_seconds_count{route="chat",provider="openai",model="gpt-4o"} 2');
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('reads cooldowns and queue gauges on scrape', async () => {
    const m = new AisbfMetrics(() => runtime);
    m.setSources({
      coolingDown: (key) => key === 'openai/gpt-4o',
      queue: () => [{ model: 'openai/gpt-4o', processing: 2, waiting: 3 }, { model: 'open', processing: 1, waiting: 0 }],
    });
    const text = await m.registry.metrics();
    expect(text).toContain('aisbf_cooldown_active{provider="openai",model="gpt-4o"} 1');
    expect(text).toContain('aisbf_cooldown_active{provider="open",model="llama3"} 0');
    expect(text).toContain('aisbf_queue_processing{provider="openai",model="gpt-4o"} 2');
    expect(text).toContain('aisbf_queue_waiting{provider="openai",model="gpt-4o"} 3');
    expect(text).toContain('aisbf_queue_processing{provider="open",model="*"} 1');
  });
});
