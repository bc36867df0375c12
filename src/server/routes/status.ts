/**
 * @module `GET /` (AISBF's status shape, plus each provider's readiness) and `GET /health` (liveness
 * and per-provider readiness: cooldowns, missing keys, `degraded` when an enabled provider cannot
 * serve; no upstream is called unless `?probe=1` asks for a rate-limited TCP probe; Frame-Backend's
 * `status`/`timestamp` kept).
 */
import type { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../app-env.js';
import { publicCandidateState } from '../../routing/routing-state.js';
import { createHealthProber } from '../health-probe.js';
import { healthSummary } from '../health-report.js';

export function registerStatusRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  // One prober per app: `?probe=1` starts a round at most once per 10 s, whoever asks.
  const prober = createHealthProber();
  app.get('/', (c) => {
    const rt = deps.runtime();
    const health = healthSummary(rt, deps.routing, prober.last());
    const providers = Object.keys(rt.config.providers.providers);
    return c.json({
      message: 'AI Proxy Server is running',
      providers,
      rotations: Object.keys(rt.config.rotations.rotations),
      autoselect: Object.keys(rt.config.autoselect),
      version: deps.version,
      provider_status: Object.fromEntries(providers.map((id) => [id, health.providers[id]?.status ?? rt.providerStatus(id).status])),
      // Each rotation candidate's live state (healthy / cooling until T / rate-limited until T).
      rotation_status: Object.fromEntries(
        [...rt.rotations].map(([rid, list]) => [rid, list.map((cand) => ({ provider_id: cand.providerId, model: cand.model, ...publicCandidateState(deps.routing, cand) }))]),
      ),
    });
  });

  app.get('/health', async (c) => {
    const rt = deps.runtime();
    const probe = c.req.query('probe');
    const probes = probe === '1' || probe === 'true' ? await prober.probe(rt) : prober.last();
    const { status, providers, problems, storage } = healthSummary(rt, deps.routing, probes, undefined, deps.shared);
    return c.json({
      status,
      timestamp: new Date().toISOString(),
      version: deps.version,
      uptime_seconds: Math.round((Date.now() - deps.startedAt) / 1000),
      ...(problems.length ? { problems } : {}),
      pid: process.pid,
      providers,
      ...(storage ? { storage } : {}),
    });
  });
}
