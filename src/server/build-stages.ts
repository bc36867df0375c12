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

export interface StageContext {
  runtime(): Runtime;
  db: Db;
  log: Logger;
  clock: Clock;
  /** The config dir (secret files, data). */
  configDir: string;
}

export interface BuiltStages {
  stages: PipelineStages;
  /** Flushes and stops background work (usage writer, timers); called once on close. */
  close(): Promise<void>;
}

export function buildStages(_ctx: StageContext): BuiltStages {
  const stages = noopStages();
  const closers: Array<() => void | Promise<void>> = [];
  return {
    stages,
    async close() {
      for (const c of closers) await c();
    },
  };
}
