/**
 * @module What every route receives: the live runtime (swapped on reload), the logger, and the
 * long-lived services that survive reloads. Hono's per-request variables are typed here too.
 */
import type { Logger } from 'pino';
import type { Runtime } from '../runtime.js';
import type { RequestLog } from './request-log.js';
import type { Db } from '../store/db.js';
import type { RoutingState } from '../routing/routing-state.js';
import type { VideoJobService } from '../routing/video-jobs.js';
import type { PipelineStages } from '../pipeline/stages.js';

export interface AppDeps {
  /** The current runtime; read once per request so a reload never changes a request midway. */
  runtime(): Runtime;
  log: Logger;
  version: string;
  /** ms since epoch. */
  startedAt: number;
  /** The embedded database (config dir's storage.path); lives across reloads. */
  db: Db;
  /** Health (failure counts, cooldowns) and rate limits of every candidate; lives across reloads. */
  routing: RoutingState;
  /** Video generation jobs (SQLite) and their background poller; lives across reloads. */
  videoJobs: VideoJobService;
  /** The pipeline's stage implementations (server/build-stages.ts); live across reloads. */
  stages: PipelineStages;
}

export interface AppEnv {
  Variables: {
    requestId: string;
    reqLog: RequestLog;
  };
}
