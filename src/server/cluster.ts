/**
 * @module `server.workers`: the server on several cores with node's cluster. The primary listens on
 * nothing itself; it forks the workers (the same command, re-run), relays health and rate-limit
 * changes from each worker to the others (every worker keeps a replica; the worker that made a change
 * persists it), writes the workers' log lines to its one log sink, forwards reload and shutdown, and
 * replaces a worker that dies. Without Redis it also holds the key limits and admission slots every
 * worker asks over IPC (cluster-state.ts), and it names the one worker that runs background jobs.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { DestinationStream, Logger } from 'pino';
import { BatchedLogStream } from '../batched-log-stream.js';
import type { RoutingChange } from '../routing/routing-state.js';
import type { IpcCall, IpcCast } from '../store/ipc-rpc.js';
import type { ClusterState } from './cluster-state.js';

export const WORKER_ENV = 'AISBF_CLUSTER_WORKER';
/** Set to 1 on the one worker that runs the background jobs. */
export const BACKGROUND_ENV = 'AISBF_BACKGROUND_WORKER';

export type ClusterMessage =
  | { aisbf: 'routing'; change: RoutingChange }
  | { aisbf: 'log'; text: string }
  | { aisbf: 'ready'; url: string }
  | IpcCall
  | IpcCast;

export function workerCount(setting: number | 'auto'): number {
  return setting === 'auto' ? availableParallelism() : setting;
}

export function isClusterWorker(): boolean {
  return cluster.isWorker && process.env[WORKER_ENV] === '1';
}

/**
 * Whether this process runs the background jobs (video polling, usage-history and glasses cleanup,
 * batches): a single process always; in a cluster exactly one worker, chosen by the primary (and
 * its replacement, should it die). Anything periodic that must run once per instance gates on this.
 */
export function isBackgroundWorker(): boolean {
  return !isClusterWorker() || process.env[BACKGROUND_ENV] === '1';
}

/** In a worker: sends a message to the primary (dropped if the channel is gone). */
export function toPrimary(msg: ClusterMessage): void {
  if (process.connected) process.send?.(msg);
}

/**
 * In a worker: a log destination that batches lines to the primary, which owns the log file — one
 * IPC message per ~4 KiB or 100 ms (batched-log-stream.ts), not one per line.
 */
export function primaryLogStream(): BatchedLogStream {
  return new BatchedLogStream({
    write: (text) => {
      toPrimary({ aisbf: 'log', text });
      return true;
    },
    // process.send has queued it: nothing more to wait for.
    flush: (cb) => cb?.(),
  });
}

export interface ClusterPrimary {
  url: string;
  /** Asks every worker to re-read the config (SIGHUP). */
  reload(): void;
  /** Graceful stop of every worker (SIGTERM), then SIGKILL for any still alive after graceMs + 2 s. */
  close(graceMs: number): Promise<void>;
  /** Second signal: stop now. */
  closeNow(): void;
}

/** A worker that died while the cluster was serving (not during a stop). */
export interface WorkerExit {
  pid: number | undefined;
  code: number | null;
  signal: string | null;
  /** False when the restart limit was reached and no new worker was started. */
  replaced: boolean;
}

export interface PrimaryOptions {
  workers: number;
  log: Logger;
  logStream: DestinationStream;
  startTimeoutMs?: number;
  /** The SQLite file where key spend is persisted (without Redis the primary holds the counters). */
  storagePath?: string;
  /** Called for each worker that died while serving (the crash record of `/admin/crashes`); must not throw. */
  onWorkerExit?(exit: WorkerExit): void;
}

export async function startPrimary(opts: PrimaryOptions): Promise<ClusterPrimary> {
  const { log } = opts;
  let closing = false;
  const restarts: number[] = [];
  cluster.setupPrimary({ exec: process.argv[1], args: process.argv.slice(2) });

  // Built on the first call: with storage.redis the workers never make one.
  const { ClusterState: State } = await import('./cluster-state.js');
  const { openDatabase } = await import('../store/db.js');
  let state: ClusterState | undefined;
  let closeDb: (() => void) | undefined;
  const shared = (): ClusterState => {
    if (state) return state;
    const db = opts.storagePath ? openDatabase(opts.storagePath) : undefined;
    if (db) closeDb = () => db.close();
    return (state = new State({ db }));
  };

  const relay = (from: Worker, msg: ClusterMessage) => {
    if (!msg || typeof msg !== 'object') return;
    if (msg.aisbf === 'call' || msg.aisbf === 'cast') {
      shared().handle(from.id, msg, (r) => {
        if (from.isConnected()) from.send(r);
      });
    } else if (msg.aisbf === 'routing') {
      for (const w of Object.values(cluster.workers ?? {})) if (w && w !== from && w.isConnected()) w.send(msg);
    } else if (msg.aisbf === 'log') {
      opts.logStream.write(msg.text);
    }
  };

  // One worker runs the background jobs; when it dies, the worker that replaces it takes them over.
  let background: Worker | undefined;
  const fork = (): Worker => {
    const role = !background || background.isDead();
    const w = cluster.fork({ [WORKER_ENV]: '1', [BACKGROUND_ENV]: role ? '1' : '0' });
    if (role) background = w;
    w.on('message', (m: ClusterMessage) => relay(w, m));
    // What it held (key slots, queue slots, waiters) goes back before a replacement starts.
    w.once('exit', () => state?.workerGone(w.id));
    return w;
  };

  const ready = new Promise<string>((resolve, reject) => {
    let readyCount = 0;
    let url = '';
    const timer = setTimeout(() => reject(new Error(`the workers did not start within ${(opts.startTimeoutMs ?? 30_000) / 1000} s`)), opts.startTimeoutMs ?? 30_000);
    const onMessage = (_w: Worker, msg: ClusterMessage) => {
      if (msg?.aisbf !== 'ready') return;
      url = msg.url;
      if (++readyCount === opts.workers) {
        clearTimeout(timer);
        cluster.off('message', onMessage);
        cluster.off('exit', onEarlyExit);
        resolve(url);
      }
    };
    const onEarlyExit = (w: Worker, code: number | null) => {
      clearTimeout(timer);
      cluster.off('message', onMessage);
      cluster.off('exit', onEarlyExit);
      for (const other of Object.values(cluster.workers ?? {})) other?.process.kill('SIGKILL');
      reject(new Error(`worker ${w.process.pid} exited with code ${code} while starting (its reason is printed above)`));
    };
    cluster.on('message', onMessage);
    cluster.on('exit', onEarlyExit);
  });

  for (let i = 0; i < opts.workers; i++) fork();
  const url = await ready;
  log.info({ url, workers: opts.workers }, 'aisbf cluster listening');

  cluster.on('exit', (w, code, signal) => {
    if (closing) return;
    const now = Date.now();
    while (restarts.length && now - restarts[0]! > 60_000) restarts.shift();
    if (restarts.length >= 5) {
      log.error({ pid: w.process.pid, code, signal }, 'a worker died again; not replacing it (5 restarts in the last minute)');
      opts.onWorkerExit?.({ pid: w.process.pid, code, signal, replaced: false });
      return;
    }
    restarts.push(now);
    log.warn({ pid: w.process.pid, code, signal }, 'a worker died; starting a new one');
    opts.onWorkerExit?.({ pid: w.process.pid, code, signal, replaced: true });
    fork();
  });

  const alive = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && !w.isDead());
  return {
    url,
    reload() {
      for (const w of alive()) w.process.kill('SIGHUP');
    },
    close(graceMs) {
      closing = true;
      const workers = alive();
      // Pending spend is written once the workers that added it are gone.
      const done = () => {
        state?.close();
        closeDb?.();
      };
      return new Promise<void>((resolve) => {
        if (!workers.length) return done(), resolve();
        let left = workers.length;
        const timer = setTimeout(() => {
          for (const w of alive()) w.process.kill('SIGKILL');
        }, graceMs + 2000);
        for (const w of workers) {
          w.once('exit', () => {
            if (--left === 0) {
              clearTimeout(timer);
              done();
              resolve();
            }
          });
          w.process.kill('SIGTERM');
        }
      });
    },
    closeNow() {
      closing = true;
      for (const w of alive()) w.process.kill('SIGTERM');
    },
  };
}
