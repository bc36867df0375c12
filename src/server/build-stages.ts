/**
 * @module The one place where the pipeline's stages get their implementations. Each feature replaces
 * its no-op stage here (identity and limits: issue 14; accounting: 15; admission: 16; cache: 18) and
 * registers what it must stop on close. The pipeline itself only knows the interfaces.
 */
import type { Logger } from 'pino';
import type { Db } from '../store/db.js';
import type { Runtime } from '../runtime.js';
import type { Clock } from '../routing/health.js';
import { noopStages, type PipelineStages } from '../pipeline/stages.js';
import { createAccounting, type AccountingServices } from '../accounting/create-accounting.js';
import { AdmissionQueue } from '../admission/admission-queue.js';
import { ResponseCache } from '../cache/response-cache.js';
import { createIdentity } from '../identity/create-identity.js';
import type { IdentityService } from '../identity/identity-service.js';
import { CatalogPriceBook } from '../accounting/prices.js';

export interface StageContext {
  runtime(): Runtime;
  db: Db;
  log: Logger;
  clock: Clock;
  /** The config dir (secret files, data). */
  configDir: string;
  /** aisbf's version (telemetry's service.version). */
  version?: string;
}

export interface BuiltStages {
  stages: PipelineStages;
  /** Users, tokens, API keys (the /auth and /admin/keys routes, the identity middleware). */
  identity: IdentityService;
  /** Usage records, metrics, stopped models, crashes: what the admin and /metrics routes read. */
  accounting: AccountingServices;
  /** Flushes and stops background work (usage writer, timers); called once on close. */
  close(): Promise<void>;
}

export function buildStages(ctx: StageContext): BuiltStages {
  const stages = noopStages();
  stages.admission = new AdmissionQueue(ctx.runtime);
  stages.cache = new ResponseCache(ctx.runtime);
  const closers: Array<() => void | Promise<void>> = [];
  const identity = createIdentity({ db: ctx.db, auth: () => ctx.runtime().config.aisbf.auth, configDir: ctx.configDir, clock: ctx.clock });
  stages.identity = identity.identityStage;
  stages.limits = identity.limitsStage;
  stages.prices = new CatalogPriceBook(() => ctx.runtime().config);
  closers.push(identity.close);
  const accounting = createAccounting({ runtime: ctx.runtime, db: ctx.db, log: ctx.log, clock: ctx.clock, version: ctx.version ?? '0.0.0' });
  stages.accounting = accounting.stage;
  stages.modelGate = accounting.modelGate;
  closers.push(() => accounting.close());
  return {
    stages,
    accounting,
    identity: identity.service,
    async close() {
      for (const c of closers) await c();
    },
  };
}
