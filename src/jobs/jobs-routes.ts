/**
 * @module Mounts the job routes: `/v1/files`, `/v1/batches` (also under `/api/{id}/…`), `/api/chat`,
 * `/api/requests/{id}`. Registered before the chat routes, whose `POST /api/{id}` helper would answer `/api/chat`.
 */
import type { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../server/app-env.js';
import { registerApiJobRoutes } from './api-jobs-routes.js';
import { registerBatchRoutes } from './batch-routes.js';
import { registerFileRoutes } from './files-routes.js';

export function registerJobRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  registerApiJobRoutes(app, deps);
  registerFileRoutes(app, deps, '/v1');
  registerBatchRoutes(app, deps, '/v1');
  registerFileRoutes(app, deps, '/api/:id');
  registerBatchRoutes(app, deps, '/api/:id');
}
