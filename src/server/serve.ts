/**
 * @module Starts and stops the HTTP server: load config, build the runtime, listen, and close
 * gracefully (stop accepting, let in-flight requests and streams finish up to a grace period).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve as honoServe } from '@hono/node-server';
import type { Logger } from 'pino';
import { loadConfig, type Config } from '../config/load-config.js';
import { createLogger } from '../log.js';
import { buildRuntime, type Runtime } from '../runtime.js';
import { createApp } from './app.js';
import type { AppDeps } from './app-env.js';
import { openDatabase } from '../store/db.js';
import { isBackgroundWorker, isClusterWorker, toPrimary, type ClusterMessage } from './cluster.js';
import { IpcClient } from '../store/ipc-rpc.js';
import { RoutingState } from '../routing/routing-state.js';
import { VideoJobService } from '../routing/video-jobs.js';
import type { Clock } from '../routing/health.js';
import { createSqliteRoutingStore } from '../store/health-state.js';
import { startDaemonGlassesCleanup } from '../glasses/cleanup.js';
import { buildStages } from './build-stages.js';
import { BatchRunner } from '../jobs/index.js';
import { uploadedFiles } from '../jobs/uploaded-files.js';
import { VERSION } from '../package-info.js';

export interface StartOptions {
  configDir?: string;
  host?: string;
  port?: number;
  logLevel?: Config['aisbf']['logging']['level'];
  /** A logger to use instead of the default stdout one. */
  log?: Logger;
  env?: NodeJS.ProcessEnv;
  /** The clock of health and rate-limit state (tests inject one; default Date.now). */
  clock?: Clock;
  /** Runs the background jobs (default: a single process, or the one cluster worker the primary chose). */
  background?: boolean;
}

export interface RunningServer {
  url: string;
  port: number;
  host: string;
  server: Server;
  deps: AppDeps;
  /** Re-reads the config; a failure leaves the running config in place and is thrown. */
  reload(): Config;
  /** Stops accepting, waits for in-flight requests up to graceMs, then closes what is left. */
  close(graceMs?: number): Promise<void>;
}

export async function startServer(opts: StartOptions = {}): Promise<RunningServer> {
  const load = () => loadConfig({ dir: opts.configDir, env: opts.env });
  const config = load();
  const log = opts.log ?? createLogger({ level: opts.logLevel ?? config.aisbf.logging.level });
  let runtime: Runtime = buildRuntime(config);
  const db = openDatabase(config.resolvePath(config.aisbf.storage.path));
  // A cluster worker shares every health/limit change with the others through the primary.
  const worker = isClusterWorker();
  const background = opts.background ?? isBackgroundWorker();
  // Without Redis, a worker's key limits and admission slots live in the primary (asked over IPC).
  const ipc = worker ? new IpcClient() : undefined;
  const routing = new RoutingState({ store: createSqliteRoutingStore(db), clock: opts.clock, log, replicate: worker ? (change) => toPrimary({ aisbf: 'routing', change }) : undefined });
  const onPrimaryMessage = (msg: ClusterMessage) => {
    if (msg?.aisbf === 'routing') routing.applyRemote(msg.change);
  };
  if (worker) process.on('message', onPrimaryMessage);
  const videoJobs = new VideoJobService({ db, runtime: () => runtime, log });
  const built = buildStages({ runtime: () => runtime, db, log, clock: opts.clock ?? Date.now, configDir: config.dir, version: VERSION, routing, env: opts.env, cluster: ipc, background });
  // storage.redis: listen once connected (or once the connect timeout passed: then on local state).
  await built.ready;
  const closingSignal = new AbortController();
  const deps: AppDeps = { closing: closingSignal.signal, runtime: () => runtime, log, version: VERSION, startedAt: Date.now(), db, routing, videoJobs, stages: built.stages, identity: built.identity, accounting: built.accounting, shared: built.shared, background, files: uploadedFiles(db) };
  const app = createApp(deps);
  // Batches and /api/chat jobs: every process starts a runner, only the holder of the database's runner lease works.
  const batchRunner = new BatchRunner({ db, runtime: () => runtime, log, app, identity: built.identity, sole: !worker });
  const glassesCleanup = background ? startDaemonGlassesCleanup(deps) : { stop() {} };

  const host = opts.host ?? config.aisbf.server.host;
  const port = opts.port ?? config.aisbf.server.port;
  const server = await new Promise<Server>((resolve, reject) => {
    const s = honoServe({ fetch: app.fetch, hostname: host, port }, () => resolve(s as Server)) as Server;
    s.once('error', reject);
  }).catch((err: unknown) => {
    db.close(); // e.g. EADDRINUSE: leave no open database (and WAL files) behind
    throw err;
  });
  server.keepAliveTimeout = 65_000;
  // server.close() only drops the keep-alive sockets idle at that moment; a socket whose response
  // (say, a long stream) ends later would hold the close open for the whole grace period. So while
  // closing, each finished response drops its now-idle socket, and late requests get Connection: close.
  let draining = false;
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (draining) res.shouldKeepAlive = false;
    // `on`, not `once`: 'close' comes once, and once's wrapper takes itself off by deleting a key
    // from the response's event map (~1k instructions a request).
    res.on('close', () => {
      if (draining) server.closeIdleConnections();
    });
  });
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${shownHost}:${addr.port}`;
  log.info({ url, configDir: config.dir, version: VERSION }, 'aisbf listening');
  if (background) {
    videoJobs.start();
    if (worker) log.info({ pid: process.pid }, 'this worker runs the background jobs');
  }
  // Batches run where the background jobs do (one cluster worker); its runner lease also guards the database.
  if (background) batchRunner.start();

  let closing: Promise<void> | undefined;
  return {
    url,
    port: addr.port,
    host: addr.address,
    server,
    deps,
    reload() {
      const next = load();
      runtime = buildRuntime(next);
      log.info({ configDir: next.dir }, 'config reloaded');
      return next;
    },
    close(graceMs = config.aisbf.server.shutdown_grace_seconds * 1000) {
      closing ??= new Promise<void>((resolve) => {
        draining = true;
        closingSignal.abort();
        // Stops polling first: an in-flight poll no longer writes, so the database can close.
        void videoJobs.stop();
        // Lines in flight go back to pending (they run again after the restart).
        const batchesStopped = batchRunner.stop();
        const timer = setTimeout(() => {
          log.warn({ grace_ms: graceMs }, 'shutdown grace period over: closing the connections still open');
          server.closeAllConnections();
        }, graceMs);
        timer.unref();
        server.close(async () => {
          clearTimeout(timer);
          await batchesStopped;
          await built.close().catch((err: unknown) => log.warn({ err: { message: (err as Error).message } }, 'closing the pipeline stages failed'));
          process.off('message', onPrimaryMessage);
          ipc?.close();
          routing.close();
          glassesCleanup.stop();
          db.close();
          log.flush?.();
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
