/**
 * @module `server.workers`: the server on several cores with node's cluster. The primary listens on
 * nothing itself; it forks the workers (the same command, re-run), relays health and rate-limit
 * changes from each worker to the others (every worker keeps a replica; the worker that made a change
 * persists it), writes the workers' log lines to its one log sink, forwards reload and shutdown, and
 * replaces a worker that dies.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { DestinationStream, Logger } from 'pino';
import type { RoutingChange } from '../routing/routing-state.js';

export const WORKER_ENV = 'AISBF_CLUSTER_WORKER';

export type ClusterMessage =
  | { aisbf: 'routing'; change: RoutingChange }
  | { aisbf: 'log'; text: string }
  | { aisbf: 'ready'; url: string };

export function workerCount(setting: number | 'auto'): number {
  return setting === 'auto' ? availableParallelism() : setting;
}

export function isClusterWorker(): boolean {
  return cluster.isWorker && process.env[WORKER_ENV] === '1';
}

/** In a worker: sends a message to the primary (dropped if the channel is gone). */
export function toPrimary(msg: ClusterMessage): void {
  if (process.connected) process.send?.(msg);
}

/** In a worker: a log destination that batches lines to the primary, which owns the log file. */
export function primaryLogStream(): DestinationStream & { flush(): void } {
  let pending: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (!pending.length) return;
    toPrimary({ aisbf: 'log', text: pending.join('') });
    pending = [];
  };
  return {
    write(line: string) {
      pending.push(line);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
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

export interface PrimaryOptions {
  workers: number;
  log: Logger;
  logStream: DestinationStream;
  startTimeoutMs?: number;
}

export async function startPrimary(opts: PrimaryOptions): Promise<ClusterPrimary> {
  const { log } = opts;
  let closing = false;
  const restarts: number[] = [];
  cluster.setupPrimary({ exec: process.argv[1], args: process.argv.slice(2) });

  const relay = (from: Worker, msg: ClusterMessage) => {
    if (!msg || typeof msg !== 'object') return;
    if (msg.aisbf === 'routing') {
      for (const w of Object.values(cluster.workers ?? {})) if (w && w !== from && w.isConnected()) w.send(msg);
    } else if (msg.aisbf === 'log') {
      opts.logStream.write(msg.text);
    }
  };

  const fork = (): Worker => {
    const w = cluster.fork({ [WORKER_ENV]: '1' });
    w.on('message', (m: ClusterMessage) => relay(w, m));
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
      return;
    }
    restarts.push(now);
    log.warn({ pid: w.process.pid, code, signal }, 'a worker died; starting a new one');
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
      return new Promise<void>((resolve) => {
        if (!workers.length) return resolve();
        let left = workers.length;
        const timer = setTimeout(() => {
          for (const w of alive()) w.process.kill('SIGKILL');
        }, graceMs + 2000);
        for (const w of workers) {
          w.once('exit', () => {
            if (--left === 0) {
              clearTimeout(timer);
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
