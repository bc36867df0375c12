/**
 * @module `GET /metrics`: Prometheus text format (CONTRACTS §7.4 item 30). Guarded like `/v1` when auth
 * is on (createApp's identity middleware). Cooldown and queue gauges are read here, on scrape.
 */
import type { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../app-env.js';

export function registerMetricsRoute(app: Hono<AppEnv>, deps: AppDeps): void {
  const acc = deps.accounting;
  if (!acc) return;
  acc.metrics.setSources({
    coolingDown: (key) => deps.routing.health.coolingUntil(key) !== undefined,
    queue: () => deps.stages.admission.snapshot(),
  });
  app.get('/metrics', async (c) => {
    const text = await acc.metrics.registry.metrics();
    return c.body(text, 200, { 'content-type': acc.metrics.registry.contentType });
  });
}
