/**
 * @module OpenAI's Batch API: `POST /v1/batches`, `GET /v1/batches[/{id}]`, `POST /v1/batches/{id}/cancel`
 * (also under `/api/{id}/…`, whose lines then run on that base). Creating only records the batch
 * (`validating`); the batch runner validates the file, runs the lines and writes the results.
 */
import type { Context, Hono } from 'hono';
import type { AppDeps, AppEnv } from '../server/app-env.js';
import { HttpError } from '../errors/http-error.js';
import { parseJsonBody } from '../inbound/json-body.js';
import { readBodyText } from '../server/read-body.js';
import { requestMetaFromHttp } from '../server/request-meta-from-http.js';
import { checkScope } from '../server/capability-request.js';
import { FINISHED, newBatchId, type BatchRow } from '../store/batch-store.js';
import { batchObject, listPage } from './batch-objects.js';
import { fileFor } from './files-routes.js';
import { jobStores, ownerOf, visibleOwner } from './jobs-stores.js';
import { BATCH_ENDPOINTS } from './validate-batch-lines.js';

const WINDOW_SECONDS = 24 * 3600;

function notFoundBatch(id: string): HttpError {
  return new HttpError(404, `No batch found with id '${id}'.`, { type: 'invalid_request_error', param: 'batch_id', code: 'batch_not_found' });
}

function batchFor(c: Context<AppEnv>, deps: AppDeps, id: string): BatchRow {
  const b = jobStores(deps.db).batches.get(id);
  const owner = visibleOwner(c.get('identity'));
  if (!b || b.kind !== 'batch' || (owner !== undefined && b.owner !== owner)) throw notFoundBatch(id);
  return b;
}

const bad = (param: string, message: string, code = 'invalid_value') => new HttpError(400, message, { param, code });

function checkMetadata(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw bad('metadata', "Invalid 'metadata': expected an object of up to 16 string values.");
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length > 16) throw bad('metadata', "Invalid 'metadata': at most 16 keys.");
  for (const [k, val] of entries) {
    if (k.length > 64) throw bad('metadata', "Invalid 'metadata': keys are at most 64 characters.");
    if (typeof val !== 'string' || val.length > 512) throw bad('metadata', `Invalid 'metadata.${k.slice(0, 64)}': expected a string of at most 512 characters.`);
  }
  return JSON.stringify(v);
}

async function create(c: Context<AppEnv>, deps: AppDeps, base: string): Promise<Response> {
  const rt = deps.runtime();
  if (base !== '/v1') checkScope(rt, { base: 'id', id: c.req.param('id') ?? '' });
  const meta = requestMetaFromHttp(c, rt, 'batch');
  const body = parseJsonBody(await readBodyText(c, 1024 * 1024));
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw bad('body', 'Expected a JSON object.', 'invalid_request');
  const b = body as Record<string, unknown>;
  if (typeof b.input_file_id !== 'string' || !b.input_file_id) throw bad('input_file_id', "Missing required parameter: 'input_file_id'.", 'missing_required_parameter');
  if (typeof b.endpoint !== 'string' || !(BATCH_ENDPOINTS as readonly string[]).includes(b.endpoint))
    throw bad('endpoint', `Invalid 'endpoint': expected one of ${BATCH_ENDPOINTS.join(', ')}.`);
  if (b.completion_window !== '24h') throw bad('completion_window', "Invalid 'completion_window': only '24h' is supported.");
  const metadata = checkMetadata(b.metadata);
  const file = fileFor(c, deps, b.input_file_id);
  if (file.purpose !== 'batch') throw bad('input_file_id', `File ${file.id} was not uploaded with purpose 'batch'.`);
  const now = Math.floor(Date.now() / 1000);
  const identity = c.get('identity');
  const row = {
    id: newBatchId(),
    kind: 'batch' as const,
    endpoint: b.endpoint,
    base,
    input_file_id: file.id,
    completion_window: '24h',
    status: 'validating' as const,
    owner: ownerOf(identity),
    identity: JSON.stringify(identity ?? null),
    client_id: meta.clientId,
    priority: 'low' as const,
    metadata,
    created_at: now,
    expires_at: now + WINDOW_SECONDS,
  };
  const store = jobStores(deps.db).batches;
  store.insert(row);
  return c.json(batchObject(store.get(row.id)!));
}

export function registerBatchRoutes(app: Hono<AppEnv>, deps: AppDeps, base: string): void {
  // On /api/{id}, the id is the base the lines run on (as if the client had called it).
  const baseOf = (c: Context<AppEnv>) => (base === '/v1' ? '/v1' : `/api/${encodeURIComponent(c.req.param('id') ?? '')}`);
  app.post(`${base}/batches`, (c) => create(c, deps, baseOf(c)));
  app.get(`${base}/batches`, (c) => {
    const v = c.req.query('limit');
    const limit = v === undefined ? 20 : Number(v);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw bad('limit', "Invalid 'limit': an integer from 1 to 100.");
    const rows = jobStores(deps.db).batches.list(visibleOwner(c.get('identity')), { limit: limit + 1, after: c.req.query('after') });
    return c.json(listPage(rows, limit, batchObject));
  });
  app.get(`${base}/batches/:batch_id`, (c) => c.json(batchObject(batchFor(c, deps, c.req.param('batch_id')))));
  app.post(`${base}/batches/:batch_id/cancel`, (c) => {
    const b = batchFor(c, deps, c.req.param('batch_id'));
    const store = jobStores(deps.db).batches;
    if (b.status === 'cancelling' || b.status === 'cancelled') return c.json(batchObject(b));
    if (FINISHED.has(b.status) || b.status === 'finalizing' || !store.transition(b.id, ['validating', 'in_progress'], 'cancelling'))
      throw new HttpError(400, `Cannot cancel a batch with status '${store.get(b.id)?.status ?? b.status}'.`, { type: 'invalid_request_error', param: null, code: 'batch_not_cancellable' });
    return c.json(batchObject(store.get(b.id)!));
  });
}
