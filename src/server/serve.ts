/**
 * @module Starts and stops the HTTP server: load config, build the runtime, listen, and close
 * gracefully (stop accepting, let in-flight requests and streams finish up to a grace period).
 */
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve as honoServe } from '@hono/node-server';
import type { Logger } from 'pino';
import { loadConfig, type Config } from '../config/load-config.js';
import { createLogger } from '../log.js';
import { buildRuntime, type Runtime } from '../runtime.js';
import { createApp } from './app.js';
import type { AppDeps } from './app-env.js';
import { openDatabase } from '../store/db.js';

const require = createRequire(import.meta.url);
export const VERSION: string = (require('../../package.json') as { version: string }).version;

export interface StartOptions {
  configDir?: string;
  host?: string;
  port?: number;
  logLevel?: Config['aisbf']['logging']['level'];
  /** A logger to use instead of the default stdout one. */
  log?: Logger;
  env?: NodeJS.ProcessEnv;
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
  const deps: AppDeps = { runtime: () => runtime, log, version: VERSION, startedAt: Date.now(), db };
  const app = createApp(deps);

  const host = opts.host ?? config.aisbf.server.host;
  const port = opts.port ?? config.aisbf.server.port;
  const server = await new Promise<Server>((resolve, reject) => {
    const s = honoServe({ fetch: app.fetch, hostname: host, port }, () => resolve(s as Server)) as Server;
    s.once('error', reject);
  });
  server.keepAliveTimeout = 65_000;
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${shownHost}:${addr.port}`;
  log.info({ url, configDir: config.dir, version: VERSION }, 'aisbf listening');

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
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
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
