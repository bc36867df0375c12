/**
 * @module `GET /` (AISBF's status shape, plus each provider's readiness) and `GET /health` (liveness
 * and per-provider readiness without calling any upstream; Frame-Backend's `status`/`timestamp` kept).
 */
import type { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../app-env.js';
import { publicCandidateState } from '../../routing/routing-state.js';

export function registerStatusRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  app.get('/', (c) => {
    const rt = deps.runtime();
    const providers = Object.keys(rt.config.providers.providers);
    return c.json({
      message: 'AI Proxy Server is running',
      providers,
      rotations: Object.keys(rt.config.rotations.rotations),
      autoselect: Object.keys(rt.config.autoselect),
      version: deps.version,
      provider_status: Object.fromEntries(providers.map((id) => [id, rt.providerStatus(id).status])),
      // Each rotation candidate's live state (healthy / cooling until T / rate-limited until T).
      rotation_status: Object.fromEntries(
        [...rt.rotations].map(([rid, list]) => [rid, list.map((cand) => ({ provider_id: cand.providerId, model: cand.model, ...publicCandidateState(deps.routing, cand) }))]),
      ),
    });
  });

  app.get('/health', (c) => {
    const rt = deps.runtime();
    const providers = Object.fromEntries(
      Object.entries(rt.config.providers.providers).map(([id, p]) => {
        const s = rt.providerStatus(id);
        return [id, { type: p.type, ready: s.ready, status: s.status }];
      }),
    );
    return c.json({
      status: 'healthy',
      timestamp: new Date().toISOString(),
      version: deps.version,
      uptime_seconds: Math.round((Date.now() - deps.startedAt) / 1000),
      pid: process.pid,
      providers,
    });
  });
}
