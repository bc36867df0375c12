/**
 * @module Builds the accounting services once per server: usage store and batch writer, the stage,
 * metrics, stopped models, crash log and history cleanup; `close` flushes and stops them.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Db } from '../store/db.js';
import type { Runtime } from '../runtime.js';
import { UsageStore } from '../store/usage.js';
import { CrashStore } from '../store/crashes.js';
import { ModelStateStore } from '../store/model-state.js';
import { UsageWriter } from './usage-writer.js';
import { AisbfMetrics } from './metrics.js';
import { UsageAccounting } from './accounting-stage.js';
import { StoppedModels } from './model-gate.js';
import { CrashLog } from './crashes.js';
import { HistoryCleanup } from './history-cleanup.js';

export interface AccountingServices {
  /** The pipeline's accounting stage. */
  stage: UsageAccounting;
  /** The pipeline's model gate (stopped models). */
  modelGate: StoppedModels;
  usage: UsageStore;
  writer: UsageWriter;
  metrics: AisbfMetrics;
  crashes: CrashLog;
  cleanup: HistoryCleanup;
  /** Which instance's records these are: `hostname:pid`. */
  instance: string;
  close(): Promise<void>;
}

export interface AccountingContext {
  runtime(): Runtime;
  db: Db;
  log: Logger;
  clock: () => number;
  version: string;
  /** False on a cluster worker that does not run background jobs: no history cleanup here. */
  background?: boolean;
}

export function createAccounting(ctx: AccountingContext): AccountingServices {
  const usage = new UsageStore(ctx.db);
  const metrics = new AisbfMetrics(ctx.runtime);
  const writer = new UsageWriter({ sink: usage, log: ctx.log, onDrop: (n) => metrics.dropped(n) });
  const stage = new UsageAccounting({ runtime: ctx.runtime, writer, metrics, version: ctx.version, log: ctx.log });
  const modelGate = new StoppedModels(new ModelStateStore(ctx.db), ctx.clock);
  modelGate.startRefresh();
  const crashes = new CrashLog(new CrashStore(ctx.db));
  const cleanup = new HistoryCleanup({ usage, retentionDays: () => ctx.runtime().config.aisbf.history.retention_days, log: ctx.log });
  if (ctx.background !== false) cleanup.start();
  return {
    stage, modelGate, usage, writer, metrics, crashes, cleanup,
    instance: `${hostname()}:${process.pid}`,
    async close() {
      cleanup.stop();
      modelGate.close();
      writer.close();
      await stage.close();
    },
  };
}
