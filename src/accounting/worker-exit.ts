/**
 * @module A cluster worker that died while serving becomes a `worker_restart` row of `/admin/crashes`
 * (CONTRACTS §7.4 item 31). The primary serves no request and keeps no database open: it opens the
 * config dir's SQLite only for this rare write, and closes it again.
 */
import type { Logger } from 'pino';
import { openDatabase } from '../store/db.js';
import { CrashStore } from '../store/crashes.js';

export interface WorkerExitInfo {
  pid: number | undefined;
  code: number | null;
  signal: string | null;
  replaced: boolean;
}

export function describeWorkerExit(e: WorkerExitInfo): string {
  const how = e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`;
  return `cluster worker ${e.pid ?? '?'} ${how} while serving; ${e.replaced ? 'a new worker was started' : 'not replaced (5 restarts in the last minute)'}`;
}

/** Writes the crash row; never throws (a failed record must not take the primary down). */
export function recordWorkerExit(dbPath: string, e: WorkerExitInfo, log?: Logger): void {
  try {
    const db = openDatabase(dbPath);
    try {
      new CrashStore(db).add({ ts: Date.now(), kind: 'worker_restart', request_id: null, route: null, name: 'WorkerExit', message: describeWorkerExit(e), stack: null });
    } finally {
      db.close();
    }
  } catch (err) {
    log?.warn({ err: (err as Error).message }, 'could not record the worker restart in the crash log');
  }
}
