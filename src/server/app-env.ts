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
import type { AccountingServices } from '../accounting/create-accounting.js';
import type { Identity } from '../pipeline/request-meta.js';
import type { IdentityService } from '../identity/identity-service.js';
import type { SharedStoreReport } from './health-report.js';
import type { UploadedFiles } from '../pipeline/pipeline-request.js';

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
  /** Users, tokens and API keys (identity/identity-service.ts); lives across reloads. */
  identity: IdentityService;
  /** Usage records, metrics, stopped models, crash log (server/build-stages.ts); absent in bare test apps. */
  accounting?: AccountingServices;
  /**
   * Whether this process runs the background jobs (video polling, history and glasses cleanup,
   * batches): always on one process; on exactly one worker with `server.workers > 1`.
   */
  background?: boolean;
  /** Aborted when the server starts closing: long responses (the dashboard's live feed) end then. */
  closing?: AbortSignal;
  /** storage.redis: the shared store's state for /health (and its instance id for /admin/usage). */
  shared?: SharedStoreReport;
  /** Files uploaded to /v1/files, for chat `file_id` parts (jobs/uploaded-files.ts). */
  files?: UploadedFiles;
}

export interface AppEnv {
  Variables: {
    requestId: string;
    reqLog: RequestLog;
    /** Who is calling, once the identity middleware or admin guard resolved it (auth on). */
    identity?: Identity;
    /** The admin guard already passed this request. */
    adminChecked?: boolean;
  };
}
