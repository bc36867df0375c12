/**
 * @module The dashboard's read-only admin JSON (CONTRACTS §7.10 item 38), beside `/admin/models`:
 * `GET /admin/state` (server, auth, health, rotations and autoselect with each member's live state,
 * live-feed counters) and `GET /admin/usage/series` (requests, tokens and cost per time bucket,
 * grouped by key, model or client, for 24h, 7d or 30d). Behind the admin guard; reads only.
 */
import type { Hono } from 'hono';
import { HttpError } from '../../errors/http-error.js';
import type { Candidate } from '../../routing/candidate.js';
import { SERIES_GROUPS, UsageSeries, type SeriesGroup } from '../../store/usage-series.js';
import type { Runtime } from '../../runtime.js';
import type { AppDeps, AppEnv } from '../app-env.js';
import type { EventFeed } from '../event-feed.js';
import { healthSummary } from '../health-report.js';
import { splitModelRef } from '../../config/model-ref.js';

const HOUR = 3_600_000;
/** Each range and its bucket: 24 hourly, 28 six-hourly, 30 daily points. */
const RANGES: Readonly<Record<string, { span: number; bucket: number }>> = {
  '24h': { span: 24 * HOUR, bucket: HOUR },
  '7d': { span: 7 * 24 * HOUR, bucket: 6 * HOUR },
  '30d': { span: 30 * 24 * HOUR, bucket: 24 * HOUR },
};
/** Groups drawn one by one; the rest are summed as "other" so the chart stays readable. */
const TOP_GROUPS = 6;

function memberState(deps: AppDeps, c: Candidate, now: number) {
  const s = deps.routing.candidateState(c, now);
  const stoppedAt = deps.accounting?.modelGate.stoppedAt(c.key) ?? deps.accounting?.modelGate.stoppedAt(c.providerId);
  return {
    provider: c.providerId,
    model: c.model,
    weight: c.weight,
    state: stoppedAt !== undefined ? 'stopped' : s.state,
    until: s.until !== undefined ? new Date(s.until).toISOString() : null,
    cooldown_remaining_seconds: s.until !== undefined ? Math.max(0, Math.ceil((s.until - now) / 1000)) : null,
    failures: s.failures,
    last_error: s.lastError,
  };
}

/** What a target (rotation id or provider/model) is, and how it is doing right now. */
function targetState(rt: Runtime, deps: AppDeps, target: string, now: number) {
  const rotation = rt.rotations.get(target);
  if (rotation) {
    const ready = rotation.filter((c) => memberState(deps, c, now).state === 'healthy').length;
    return { target, kind: 'rotation', state: ready > 0 ? 'healthy' : 'unavailable', ready_members: ready, members: rotation.length };
  }
  const ref = splitModelRef(target);
  const cand = ref ? rt.candidate(ref.providerId, ref.model) : undefined;
  if (!cand) return { target, kind: 'unknown', state: 'unknown' };
  const m = memberState(deps, cand, now);
  return { target, kind: 'model', state: m.state, cooldown_remaining_seconds: m.cooldown_remaining_seconds, failures: m.failures, last_error: m.last_error };
}

export function registerAdminStateRoutes(app: Hono<AppEnv>, deps: AppDeps, feed: EventFeed | undefined): void {
  const series = new UsageSeries(deps.db);

  app.get('/admin/state', (c) => {
    const rt = deps.runtime();
    const now = deps.routing.clock();
    const health = healthSummary(rt, deps.routing, new Map(), now);
    const rotations = [...rt.rotations].map(([id, members]) => {
      const cfg = rt.config.rotations.rotations[id]!;
      return { id, model_name: cfg.model_name ?? null, strategy: cfg.strategy, members: members.map((m) => memberState(deps, m, now)) };
    });
    const autoselect = Object.entries(rt.config.autoselect).map(([id, a]) => ({
      id,
      model_name: a.model_name ?? null,
      selector: a.selector,
      selection_model: targetState(rt, deps, a.selection_model, now),
      fallback: targetState(rt, deps, a.fallback, now),
      models: a.available_models.map((m) => ({ ...targetState(rt, deps, m.model_id, now), description: m.description })),
    }));
    return c.json({
      object: 'aisbf.state',
      version: deps.version,
      now: new Date(now).toISOString(),
      started_at: new Date(deps.startedAt).toISOString(),
      auth_enabled: deps.identity.enabled,
      accounting: deps.accounting !== undefined,
      // The batches API (CONTRACTS §7.9) is mounted by its own feature; the page hides its panel without it.
      batches: app.routes.some((r) => r.path.startsWith('/v1/batches')),
      health: { status: health.status, problems: health.problems, providers: health.providers },
      rotations,
      autoselect,
      feed: feed?.stats() ?? null,
    });
  });

  app.get('/admin/usage/series', (c) => {
    if (!deps.accounting) throw new HttpError(503, 'Accounting is not running in this server.', { code: 'accounting_unavailable' });
    const rangeName = c.req.query('range') ?? '24h';
    const range = Object.hasOwn(RANGES, rangeName) ? RANGES[rangeName] : undefined;
    if (!range) throw new HttpError(400, `Invalid 'range': use one of ${Object.keys(RANGES).join(', ')}.`, { param: 'range', code: 'invalid_value' });
    const group = c.req.query('group_by') ?? 'model';
    if (!(SERIES_GROUPS as readonly string[]).includes(group)) throw new HttpError(400, `Invalid 'group_by': use one of ${SERIES_GROUPS.join(', ')}.`, { param: 'group_by', code: 'invalid_value' });
    deps.accounting.writer.flush();
    // Whole buckets, the last one containing now.
    const to = (Math.floor(Date.now() / range.bucket) + 1) * range.bucket;
    const from = to - range.span;
    const first = from / range.bucket;
    const count = range.span / range.bucket;
    const rows = series.query(group as SeriesGroup, from, to, range.bucket);
    const sums = new Map<string, number[]>();
    for (const r of rows) {
      const s = sums.get(r.group) ?? [0, 0];
      s[0]! += r.cost_usd;
      s[1]! += r.requests;
      sums.set(r.group, s);
    }
    const ranked = [...sums].sort((a, b) => b[1][0]! - a[1][0]! || b[1][1]! - a[1][1]! || a[0].localeCompare(b[0])).map(([g]) => g);
    const shown = new Set(ranked.slice(0, TOP_GROUPS));
    const out = new Map<string, { group: string; requests: number[]; errors: number[]; tokens: number[]; cost_usd: number[] }>();
    const line = (g: string) => {
      let l = out.get(g);
      if (!l) {
        l = { group: g, requests: new Array(count).fill(0), errors: new Array(count).fill(0), tokens: new Array(count).fill(0), cost_usd: new Array(count).fill(0) };
        out.set(g, l);
      }
      return l;
    };
    for (const g of ranked) if (shown.has(g)) line(g);
    for (const r of rows) {
      const i = r.bucket - first;
      if (i < 0 || i >= count) continue;
      const l = line(shown.has(r.group) ? r.group : '(other)');
      l.requests[i]! += r.requests;
      l.errors[i]! += r.errors;
      l.tokens[i]! += r.tokens;
      l.cost_usd[i]! += r.cost_usd;
    }
    for (const l of out.values()) l.cost_usd = l.cost_usd.map((v) => Math.round(v * 1e9) / 1e9);
    return c.json({
      object: 'usage.series',
      range: rangeName,
      group_by: group,
      bucket_seconds: range.bucket / 1000,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      buckets: Array.from({ length: count }, (_, i) => (from + i * range.bucket) / 1000),
      series: [...out.values()],
    });
  });
}
