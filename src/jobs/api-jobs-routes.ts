/**
 * @module The seed's job API (CONTRACTS §3, §7.5 item 32): `POST /api/chat` takes any chat body,
 * `X-Priority`, `X-Client-ID` and `X-Model` (or `model` in the body), queues one job and answers
 * `{"request_id","status":"queued","message"}`; `GET /api/requests/{id}` gives its status and, once
 * done, its result. A job is a one-line batch at the client's priority: it survives a crash the same way.
 */
import type { Context, Hono } from 'hono';
import type { AppDeps, AppEnv } from '../server/app-env.js';
import { HttpError } from '../errors/http-error.js';
import { parseJsonBody } from '../inbound/json-body.js';
import { readBodyText } from '../server/read-body.js';
import { headerOf } from '../server/node-request.js';
import { requestMetaFromHttp } from '../server/request-meta-from-http.js';
import { resolveTarget } from '../routing/resolve-target.js';
import { newJobId } from '../store/batch-store.js';
import { jobStores, ownerOf, visibleOwner } from './jobs-stores.js';

const iso = (s: number | null | undefined): string | null => (s ? new Date(s * 1000).toISOString() : null);

async function enqueue(c: Context<AppEnv>, deps: AppDeps): Promise<Response> {
  const rt = deps.runtime();
  const meta = requestMetaFromHttp(c, rt, 'chat');
  const body = parseJsonBody(await readBodyText(c, rt.config.aisbf.server.body_limit_mb * 1024 * 1024));
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'Expected a JSON object (a chat completion request).', { param: 'body', code: 'invalid_request' });
  const req = { ...(body as Record<string, unknown>) };
  const headerModel = headerOf(c, 'x-model');
  if (headerModel !== undefined) req.model = headerModel;
  if (typeof req.model !== 'string' || req.model === '')
    throw new HttpError(400, "Missing the model: send the 'X-Model' header or 'model' in the body (provider/model, a rotation id or an autoselect id).", { param: 'model', code: 'missing_required_parameter' });
  // The seed's answer for a model it does not know, before anything is queued.
  try {
    resolveTarget(rt, { base: 'v1' }, req.model);
  } catch (err) {
    if (err instanceof HttpError && err.status < 500) throw new HttpError(404, `Model ${req.model.slice(0, 200)} not available`, { param: 'model', code: 'model_not_found' });
    throw err;
  }
  delete req.stream;
  const id = newJobId();
  const now = Math.floor(Date.now() / 1000);
  const identity = c.get('identity');
  const { batches } = jobStores(deps.db);
  const line = JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body: req });
  deps.db.transaction(() => {
    batches.insert({
      id,
      kind: 'job',
      endpoint: '/v1/chat/completions',
      base: '/v1',
      input_file_id: null,
      completion_window: '24h',
      status: 'in_progress',
      owner: ownerOf(identity),
      identity: JSON.stringify(identity ?? null),
      client_id: meta.clientId,
      priority: meta.priority,
      metadata: JSON.stringify({ model: req.model }),
      created_at: now,
      expires_at: null,
    });
    batches.transition(id, ['in_progress'], 'in_progress', { total: 1 });
    batches.lines.insertMany([[id, 1, id, 0, 0, line]]);
  })();
  return c.json({ request_id: id, status: 'queued', message: 'Request queued for processing' });
}

function status(deps: AppDeps, c: Context<AppEnv>): Response {
  const id = c.req.param('id') ?? '';
  const { batches } = jobStores(deps.db);
  const b = batches.get(id);
  const owner = visibleOwner(c.get('identity'));
  if (!b || b.kind !== 'job' || (owner !== undefined && b.owner !== owner)) throw new HttpError(404, `No request with id '${id.slice(0, 128)}'.`, { param: 'id', code: 'request_not_found' });
  const line = batches.lines.resultOf(id);
  const out = line?.result ? (JSON.parse(line.result) as { response: { status_code: number; body: unknown } | null; error: unknown }) : undefined;
  const state = !line ? 'failed' : line.state === 'pending' ? 'queued' : line.state === 'running' ? 'processing' : line.ok ? 'completed' : 'failed';
  const finished = b.completed + b.failed > 0;
  return c.json({
    request_id: id,
    status: state,
    model: (JSON.parse(b.metadata ?? '{}') as { model?: string }).model ?? null,
    client_id: b.client_id,
    priority: b.priority,
    created_at: iso(b.created_at),
    completed_at: finished ? iso(b.completed_at ?? b.finalizing_at) : null,
    retry_count: Math.max(0, (line?.attempts ?? 1) - 1),
    result: state === 'completed' ? (out?.response?.body ?? null) : null,
    error: state === 'failed' ? (out?.error ?? (out?.response?.body as { error?: unknown } | undefined)?.error ?? out?.response?.body ?? null) : null,
  });
}

export function registerApiJobRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  app.post('/api/chat', (c) => enqueue(c, deps));
  app.get('/api/requests/:id', (c) => status(deps, c));
}
