/**
 * @module The admin API of CONTRACTS §7.4 items 29 and 31: `GET /admin/usage`, `GET /admin/models`,
 * `POST /admin/models/{id}/stop|start`, `GET /admin/queue/{id}`, `GET /admin/crashes`. Everything
 * under `/admin` is behind the admin guard (createApp mounts it); nothing here is on a request path.
 */
import type { Context, Hono } from 'hono';
import { HttpError } from '../../errors/http-error.js';
import { splitModelRef } from '../../config/model-ref.js';
import type { AccountingServices } from '../../accounting/create-accounting.js';
import { parseTime } from '../../accounting/time-range.js';
import { USAGE_GROUPS, type UsageGroup } from '../../store/usage.js';
import type { QueueStats } from '../../pipeline/stages.js';
import type { Runtime } from '../../runtime.js';
import type { AppDeps, AppEnv } from '../app-env.js';

const MAX_RANGE_DAYS = 400;
const DAY_MS = 86_400_000;

function accountingOf(deps: AppDeps): AccountingServices {
  if (!deps.accounting) throw new HttpError(503, 'Accounting is not running in this server.', { code: 'accounting_unavailable' });
  return deps.accounting;
}

/** A quoted id for a message: printable ASCII only, bounded (client input never goes out raw). */
function shown(id: string): string {
  return JSON.stringify(id.replace(/[^\x20-\x7e]/g, '?').slice(0, 200));
}

/** What an admin id names: a provider (`openai`) or a provider/model (`openai/gpt-4o`). */
interface ModelRef {
  id: string;
  provider: string;
  model?: string;
}

/** Configured provider ids and provider/model pairs only; anything else is a 404 naming `id`. */
function resolveRef(rt: Runtime, deps: AppDeps, raw: string): ModelRef {
  const ref = splitModelRef(raw);
  const provider = ref ? ref.providerId : raw;
  const model = ref?.model;
  const p = Object.hasOwn(rt.config.providers.providers, provider) ? rt.config.providers.providers[provider] : undefined;
  const known = p && (model === undefined || configuredPairs(deps).has(raw) || (p.models.length === 0 && model !== ''));
  if (!known) {
    throw new HttpError(404, `Unknown id ${shown(raw)}: use a provider id or a URL-encoded provider/model from GET /admin/models.`, { param: 'id', code: 'model_not_found' });
  }
  return { id: raw, provider, model };
}

function configuredPairs(deps: AppDeps): Set<string> {
  const set = new Set<string>();
  for (const [p, m] of accountingOf(deps).metrics.labelSet().pairs()) set.add(`${p}/${m}`);
  return set;
}

/** The id after `/admin/models/` or `/admin/queue/`, decoded (`openai%2Fgpt-4o` and `openai/gpt-4o` both work). */
function idFrom(c: Context<AppEnv>, prefix: string, suffix = ''): string {
  const path = new URL(c.req.url).pathname;
  let raw = path.slice(prefix.length, suffix ? path.length - suffix.length : undefined);
  try {
    raw = decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, 'The id is not valid URL encoding.', { param: 'id', code: 'invalid_value' });
  }
  if (!raw || raw.length > 512) throw new HttpError(400, 'Missing or too long id.', { param: 'id', code: 'invalid_value' });
  return raw;
}

function emptyQueue(id: string): QueueStats {
  return { model: id, processing: 0, waiting: 0, max_concurrent: null, max_waiting: null, total_processed: 0, total_failed: 0, total_timeout: 0, utilization: 0 };
}

export function registerAdminRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  app.get('/admin/usage', (c) => {
    const acc = accountingOf(deps);
    const now = Date.now();
    const q = c.req.query();
    const time = (name: 'from' | 'to', fallback: number): number => {
      const v = q[name];
      if (v === undefined || v === '') return fallback;
      const t = parseTime(v, now);
      if (t === undefined) throw new HttpError(400, `Invalid '${name}': use an ISO date (2025-06-01), a date-time, ms since epoch or a duration back from now (7d).`, { param: name, code: 'invalid_value' });
      return t;
    };
    const to = time('to', now);
    // Default: everything retained (at most the longest range allowed).
    const from = time('from', to - Math.min(deps.runtime().config.aisbf.history.retention_days, MAX_RANGE_DAYS) * DAY_MS);
    if (from > to) throw new HttpError(400, `'from' (${new Date(from).toISOString()}) is after 'to' (${new Date(to).toISOString()}).`, { param: 'from', code: 'invalid_value' });
    if (to - from > MAX_RANGE_DAYS * DAY_MS) throw new HttpError(400, `The range from 'from' to 'to' is over ${MAX_RANGE_DAYS} days; ask for a shorter one.`, { param: 'from', code: 'invalid_value' });
    const groupBy = q.group_by;
    if (groupBy !== undefined && !(USAGE_GROUPS as readonly string[]).includes(groupBy)) {
      throw new HttpError(400, `Unknown 'group_by' ${shown(groupBy)}: use one of ${USAGE_GROUPS.join(', ')}.`, { param: 'group_by', code: 'invalid_value' });
    }
    // Admin reads see every record settled so far: the writer's queue goes to SQLite first.
    acc.writer.flush();
    const { totals, groups } = acc.usage.summary({ from, to, groupBy: groupBy as UsageGroup | undefined });
    return c.json({
      object: 'usage',
      // Usage records live in this instance's SQLite (CONTRACTS §7.7): say which one answered.
      instance: acc.instance,
      scope: 'this instance',
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      group_by: groupBy ?? null,
      totals,
      ...(groups ? { groups } : {}),
      dropped_records: acc.writer.dropped,
    });
  });

  app.get('/admin/models', (c) => {
    const acc = accountingOf(deps);
    const rt = deps.runtime();
    const now = deps.routing.clock();
    acc.writer.flush();
    const perMinute = acc.usage.countsSince(Date.now() - 60_000);
    const admission = deps.stages.admission;
    const providers = Object.entries(rt.config.providers.providers).map(([id, p]) => ({
      id,
      type: p.type,
      enabled: p.enabled,
      stopped: acc.modelGate.stoppedAt(id) !== undefined,
      status: rt.providerStatus(id).status,
      queue: admission.stats(id) ?? null,
    }));
    const data = [...acc.metrics.labelSet().pairs()].map(([providerId, model]) => {
      const key = `${providerId}/${model}`;
      const p = rt.config.providers.providers[providerId]!;
      const cand = rt.candidate(providerId, model);
      const state = cand ? deps.routing.candidateState(cand, now) : undefined;
      const h = deps.routing.health.get(key);
      const cooling = deps.routing.health.coolingUntil(key, now);
      const stoppedAt = acc.modelGate.stoppedAt(key) ?? acc.modelGate.stoppedAt(providerId);
      return {
        id: key,
        provider: providerId,
        model,
        enabled: p.enabled,
        stopped: stoppedAt !== undefined,
        stopped_at: stoppedAt !== undefined ? new Date(stoppedAt).toISOString() : null,
        health: state?.state ?? (cooling !== undefined ? 'cooling' : p.enabled ? 'healthy' : 'disabled'),
        failures: h?.failures ?? 0,
        last_error: h?.lastError ?? null,
        cooldown_until: cooling !== undefined ? new Date(cooling).toISOString() : null,
        queue: admission.stats(key) ?? null,
        rpm: perMinute.get(key) ?? 0,
      };
    });
    return c.json({ object: 'list', data, providers });
  });

  const stopStart = (action: 'stop' | 'start') => (c: Context<AppEnv>) => {
    const acc = accountingOf(deps);
    const ref = resolveRef(deps.runtime(), deps, idFrom(c, '/admin/models/', `/${action}`));
    if (action === 'stop') acc.modelGate.stop(ref.id);
    else acc.modelGate.start(ref.id);
    deps.log.info({ id: ref.id, action }, action === 'stop' ? 'model stopped' : 'model started');
    return c.json({ id: ref.id, provider: ref.provider, model: ref.model ?? null, stopped: action === 'stop' });
  };
  // A wildcard, not `:id`: an unencoded provider/model (`/admin/models/openai/gpt-4o/stop`) works too.
  app.post('/admin/models/*', (c) => {
    const path = new URL(c.req.url).pathname;
    if (path.endsWith('/stop')) return stopStart('stop')(c);
    if (path.endsWith('/start')) return stopStart('start')(c);
    throw new HttpError(404, 'Use POST /admin/models/{id}/stop or /admin/models/{id}/start.', { code: 'unknown_url' });
  });

  app.get('/admin/queue/*', (c) => {
    const ref = resolveRef(deps.runtime(), deps, idFrom(c, '/admin/queue/'));
    return c.json(deps.stages.admission.stats(ref.id) ?? emptyQueue(ref.id));
  });

  app.get('/admin/crashes', (c) => {
    const acc = accountingOf(deps);
    const raw = c.req.query('limit');
    const limit = raw === undefined ? 50 : Number(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new HttpError(400, "Invalid 'limit': a whole number from 1 to 1000.", { param: 'limit', code: 'invalid_value' });
    const data = acc.crashes.list(limit).map((r) => ({ ...r, time: new Date(r.ts).toISOString() }));
    return c.json({ object: 'list', instance: acc.instance, data });
  });
}
