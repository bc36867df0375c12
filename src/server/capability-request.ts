/**
 * @module What every capability route (embeddings, images, audio, videos) shares: registering one
 * handler on every base (`/api/rotations`, `/api/autoselect`, `/api/{id}`, `/v1`) and handing the
 * call to runRequest with the route's meta.
 */
import type { Context, Hono } from 'hono';
import type { AppDeps, AppEnv } from './app-env.js';
import type { CallContext } from '../providers/provider-adapter.js';
import type { Usage } from '../providers/openai-types.js';
import type { Runtime } from '../runtime.js';
import type { Candidate } from '../routing/candidate.js';
import type { CapabilityNeed } from '../routing/capability-filter.js';
import { resolveTarget, type Scope } from '../routing/resolve-target.js';
import { runRequest, type CapabilityResult } from '../pipeline/run-request.js';
import { checkModel } from '../inbound/json-body.js';
import { requestMetaFromHttp } from './request-meta-from-http.js';

export type ScopedHandler = (c: Context<AppEnv>, scope: Scope) => Promise<Response>;

/** Registers `handler` for `path` under every base. The rotations/autoselect bases come first. */
export function onEveryBase(app: Hono<AppEnv>, method: 'get' | 'post', path: string, handler: ScopedHandler): void {
  app[method](`/api/rotations${path}`, (c) => handler(c, { base: 'rotations' }));
  app[method](`/api/autoselect${path}`, (c) => handler(c, { base: 'autoselect' }));
  app[method](`/api/:id${path}`, (c) => handler(c, { base: 'id', id: c.req.param('id') ?? '' }));
  app[method](`/v1${path}`, (c) => handler(c, { base: 'v1' }));
}

/** An unknown `/api/{id}` is a 404 whatever the body says: checked before reading the body. */
export function checkScope(rt: Runtime, scope: Scope): void {
  if (scope.base === 'id') resolveTarget(rt, scope, '*');
}

export interface CapabilityRouteCall<T> {
  /** RequestMeta.route: 'embeddings', 'images', 'speech', 'transcription', 'video'. */
  route: string;
  scope: Scope;
  model: string | undefined;
  need: CapabilityNeed;
  call: (cand: Candidate, ctx: CallContext) => Promise<T>;
  usageOf?: (value: T) => Usage | undefined;
}

/** The client's `model` checked at the edge, then the pipeline. */
export function runCapabilityRoute<T>(c: Context<AppEnv>, deps: AppDeps, rt: Runtime, r: CapabilityRouteCall<T>): Promise<CapabilityResult<T>> {
  checkModel(r.model);
  const meta = requestMetaFromHttp(c, rt, r.route);
  return runRequest(deps, meta, { kind: 'capability', target: { scope: r.scope, model: r.model }, need: r.need, call: r.call, usageOf: r.usageOf, observer: c.get('reqLog') });
}
