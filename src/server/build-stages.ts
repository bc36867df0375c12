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
import { CatalogPriceBook, catalogVersion } from '../accounting/prices.js';
import { PriceRatesStore } from '../store/price-rates.js';
import type { RoutingState } from '../routing/routing-state.js';
import { withSharedSlots } from '../admission/admission-queue.js';
import { LocalCounterStore } from '../store/counters.js';
import { redisSettingsOf } from '../config/storage-config.js';
import { RedisState } from '../store/redis/redis-state.js';
import type { IpcClient } from '../store/ipc-rpc.js';
import { IpcCounterStore } from '../store/ipc-counters.js';
import { IpcAdmission } from '../admission/ipc-admission.js';
import { IpcCacheStore } from '../cache/ipc-cache-store.js';

export interface StageContext {
  runtime(): Runtime;
  db: Db;
  log: Logger;
  clock: Clock;
  /** The config dir (secret files, data). */
  configDir: string;
  /** aisbf's version (telemetry's service.version). */
  version?: string;
  /** Health and rate limits: shared through Redis with storage.redis. */
  routing?: RoutingState;
  /** REDIS_URL and the like (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** A cluster worker's channel to its primary: without Redis, key limits and admission slots live there. */
  cluster?: IpcClient;
  /** Whether this process runs background jobs (history cleanup); default true. */
  background?: boolean;
}

export interface BuiltStages {
  stages: PipelineStages;
  /** Users, tokens, API keys (the /auth and /admin/keys routes, the identity middleware). */
  identity: IdentityService;
  /** Usage records, metrics, stopped models, crashes: what the admin and /metrics routes read. */
  accounting: AccountingServices;
  /** Flushes and stops background work (usage writer, timers); called once on close. */
  close(): Promise<void>;
  /** storage.redis: the shared store (its status for /health); undefined on one instance. */
  shared?: RedisState;
  /** Resolves once the shared store connected, or gave up for now (serve awaits it before listening). */
  ready: Promise<void>;
}

export function buildStages(ctx: StageContext): BuiltStages {
  const stages = noopStages();
  stages.admission = new AdmissionQueue(ctx.runtime);
  stages.cache = new ResponseCache(ctx.runtime);
  const closers: Array<() => void | Promise<void>> = [];
  // storage.redis / REDIS_URL: every shared-state interface gets its Redis implementation (issue 18).
  const redis = redisSettingsOf(ctx.runtime().config.aisbf.storage, ctx.env);
  const shared = redis ? new RedisState(redis, ctx.log) : undefined;
  const counters = shared ? shared.counters(new LocalCounterStore({ db: ctx.db })) : ctx.cluster ? new IpcCounterStore(ctx.cluster) : undefined;
  if (!shared && ctx.cluster) {
    stages.admission = new IpcAdmission(ctx.runtime, ctx.cluster);
    // One cache for the cluster: hits on any worker, and max_mb bounds them all together.
    (stages.cache as ResponseCache).useStore(new IpcCacheStore(ctx.cluster, () => Math.round((ctx.runtime().config.aisbf.cache?.max_mb ?? 64) * 1024 * 1024)));
  }
  const identity = createIdentity({ db: ctx.db, auth: () => ctx.runtime().config.aisbf.auth, configDir: ctx.configDir, clock: ctx.clock, counters });
  stages.identity = identity.identityStage;
  stages.limits = identity.limitsStage;
  const catalogue = catalogVersion();
  stages.prices = new CatalogPriceBook(() => ctx.runtime().config, catalogue ? new PriceRatesStore(ctx.db, catalogue) : undefined);
  closers.push(identity.close);
  const accounting = createAccounting({ runtime: ctx.runtime, db: ctx.db, log: ctx.log, clock: ctx.clock, version: ctx.version ?? '0.0.0', background: ctx.background });
  stages.accounting = accounting.stage;
  stages.modelGate = accounting.modelGate;
  closers.push(() => accounting.close());
  if (shared) {
    shared.share({ routing: ctx.routing, authCache: identity.service.cache, modelGate: accounting.modelGate, cache: stages.cache as ResponseCache });
    stages.admission = withSharedSlots(stages.admission as AdmissionQueue, shared.gateSlots());
    closers.push(() => shared.close());
  }
  return {
    stages,
    accounting,
    identity: identity.service,
    shared,
    ready: shared ? shared.start() : Promise.resolve(),
    async close() {
      for (const c of closers) await c();
    },
  };
}
