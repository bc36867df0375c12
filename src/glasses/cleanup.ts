/**
 * @module The glasses data cleanup (CONTRACTS.md §6.15): rows older than `retention_days`, and a
 * profile's oldest rows beyond `max_profile_bytes`, are deleted together with their image files.
 * It runs at start-up and then at the top of every UTC hour; `runGlassesCleanup` runs it once.
 */
import type { Logger } from 'pino';
import type { ActivityStore } from '../store/activity.js';
import type { Db } from '../store/db.js';
import type { Runtime } from '../runtime.js';
import { deleteImageFiles, imagesDir, openGlassesStores } from './glasses-data.js';

export interface CleanupSettings {
  activity: ActivityStore;
  imagesDir: string;
  retentionDays: number;
  maxProfileBytes: number;
  now?: number;
  log?: Logger;
}

export interface CleanupResult {
  rowsDeleted: number;
  filesDeleted: number;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export function runGlassesCleanup(s: CleanupSettings): CleanupResult {
  const now = s.now ?? Date.now();
  // Epoch milliseconds are UTC: no local-time cutoff (Frame-Backend's bug) can creep in.
  const old = s.activity.deleteOlderThan(now - s.retentionDays * DAY_MS);
  const over = s.activity.trimToBudget(s.maxProfileBytes);
  const filesDeleted = deleteImageFiles(s.imagesDir, [...old.imageFiles, ...over.imageFiles], s.log);
  const rowsDeleted = old.rows + over.rows;
  if (rowsDeleted) s.log?.info({ rowsDeleted, filesDeleted }, 'glasses cleanup');
  return { rowsDeleted, filesDeleted };
}

export interface CleanupService {
  /** Runs a cleanup now (also what the timer calls). */
  runNow(): CleanupResult | undefined;
  stop(): void;
}

/**
 * Starts the hourly cleanup. `settings()` is read at every run, so a config reload (retention, budget,
 * data dir) applies from the next run.
 */
export function startGlassesCleanup(settings: () => Omit<CleanupSettings, 'now'>, opts: { now?: () => number; log?: Logger } = {}): CleanupService {
  const now = opts.now ?? Date.now;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const runNow = (): CleanupResult | undefined => {
    try {
      return runGlassesCleanup({ ...settings(), now: now() });
    } catch (err) {
      opts.log?.error({ err: (err as Error).message }, 'glasses cleanup failed');
      return undefined;
    }
  };
  const schedule = () => {
    if (stopped) return;
    // The next top of the hour in UTC (epoch ms are UTC), plus a second so it lands after it.
    const delay = HOUR_MS - (now() % HOUR_MS) + 1000;
    timer = setTimeout(() => {
      runNow();
      schedule();
    }, delay);
    timer.unref();
  };
  runNow();
  schedule();
  return {
    runNow,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

/** The daemon's cleanup: the glasses tables in the shared database, settings from the live config. */
export function startDaemonGlassesCleanup(deps: { db: Db; runtime(): Runtime; log: Logger }): CleanupService {
  const activity = openGlassesStores(deps.db).activity;
  return startGlassesCleanup(
    () => {
      const config = deps.runtime().config;
      const g = config.aisbf.glasses;
      return { activity, imagesDir: imagesDir(config), retentionDays: g.retention_days, maxProfileBytes: g.max_profile_bytes, log: deps.log };
    },
    { log: deps.log },
  );
}
