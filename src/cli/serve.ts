/**
 * @module `aisbf` / `aisbf serve`: run the server in the foreground (the daemon runs this same command
 * detached, with `--log-file`). Owns the PID file while it runs, reloads the config on SIGHUP, and
 * shuts down gracefully on SIGINT/SIGTERM: stop accepting, let requests and streams in flight finish up
 * to `server.shutdown_grace_seconds`, then exit 0. A second signal closes what is left at once.
 */
import type { Argv } from 'yargs';
import pino, { type DestinationStream } from 'pino';
import { ConfigError, formatProblem, loadConfig, type Config } from '../config/load-config.js';
import { createLogger, prettyStdout, type Logger } from '../log.js';
import { RotatingFileStream } from '../log-rotation.js';
import { BatchedLogStream } from '../batched-log-stream.js';
import type { CrashLog } from '../accounting/crashes.js';
import { installFatalHandler } from '../accounting/fatal-errors.js';
import { routeStrayOutput } from '../stray-output.js';
import { isClusterWorker, primaryLogStream, toPrimary, workerCount } from '../server/cluster.js';
import { CliError, describeFsError } from './cli-error.js';
import { VERSION, defineCommand, withServerOptions, type ServerArgs } from './cli-options.js';
import { checkLogFileArg, explainConfigError, loadConfigOrExplain, prepareConfigDir, resolveConfigDir } from './config-dir.js';
import { claimPidFile, findServer, pidFilePath, procStartTime, removePidFile, writePidFile, type PidRecord } from './pid-file.js';

export interface ServeArgs extends ServerArgs {
  'log-file'?: string;
  /** Set by `aisbf daemon` when it created the config dir, so the server's log says so. */
  'config-created'?: boolean;
}

type LogSink = { stream: DestinationStream; close(): Promise<void> };

async function openLogSink(logFile: string | undefined, config: Config): Promise<LogSink> {
  if (logFile) {
    let file: RotatingFileStream;
    try {
      file = new RotatingFileStream({ path: logFile, maxBytes: config.aisbf.logging.max_size_mb * 1024 * 1024, maxFiles: config.aisbf.logging.max_files });
    } catch (err) {
      throw new CliError(describeFsError(err, logFile, 'open the log file'));
    }
    const batched = new BatchedLogStream(file);
    return {
      stream: batched,
      close: async () => {
        await batched.close();
        await file.end();
      },
    };
  }
  // A person at a terminal gets readable lines; a pipe or a service manager gets JSON.
  if (process.stdout.isTTY) {
    const pretty = await prettyStdout(!process.env.NO_COLOR);
    return { stream: pretty, close: () => new Promise<void>((resolve) => (pretty as unknown as NodeJS.WritableStream).end(() => resolve())) };
  }
  // Lines gather up to 4 KiB and leave together, or within 100 ms at the latest (batched-log-stream.ts):
  // under load one write per ~15 request lines instead of one syscall (and thread-pool round trip)
  // per request. What is left is written at exit. minLength 1, not 0: with 0, sonic-boom's flush(cb)
  // calls back at once, before a write under way is done.
  const out = pino.destination({ dest: 1, sync: false, minLength: 1 });
  const batched = new BatchedLogStream(out);
  return { stream: batched, close: () => batched.close() };
}

/** What runServer needs of a running server, single-process or cluster primary alike. */
interface ServerHandle {
  url: string;
  reload(): Config;
  close(graceMs: number): Promise<void>;
  closeNow(): void;
}

/** A cluster worker's log lines go to the primary, which owns the log file. */
function workerLogSink(): LogSink {
  const stream = primaryLogStream();
  return { stream, close: () => stream.close() };
}

/** One line a person can act on for whatever stopped the server from starting. */
export function explainStartError(err: unknown, host: string, port: number, configDir: string): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof ConfigError) return explainConfigError(err, configDir);
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  const where = `${e.address ?? host}:${e.port ?? port}`;
  if (e.syscall === 'listen' || e.syscall === 'bind' || e.code === 'EADDRINUSE') {
    switch (e.code) {
      case 'EADDRINUSE':
        return new CliError(`${where} is already in use by another program; stop that program or start aisbf on another port with --port <n> (or server.port in ${configDir}/aisbf.json)`);
      case 'EACCES':
      case 'EPERM':
        return new CliError(`permission denied listening on ${where}; ports below 1024 need privileges, use --port with a higher port`);
      case 'EADDRNOTAVAIL':
        return new CliError(`cannot listen on ${where}: that address does not belong to this machine; use --host 127.0.0.1`);
    }
  }
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return new CliError(`cannot listen on ${host}: unknown host name; use --host 127.0.0.1`);
  if (typeof e.code === 'string' && e.code.startsWith('SQLITE')) return new CliError(`cannot open the database in ${configDir}: ${e.message}`);
  if (e.path) return new CliError(describeFsError(err, e.path, 'use'));
  return new CliError(`could not start: ${e.message}`);
}

/** Runs the server until a signal stops it. Resolves once it has shut down. */
export async function runServer(args: ServeArgs): Promise<void> {
  const configDir = resolveConfigDir(args.config);
  const created = prepareConfigDir(configDir) || args['config-created'] === true;
  const config = loadConfigOrExplain(configDir);
  const host = args.host ?? config.aisbf.server.host;
  const port = args.port ?? config.aisbf.server.port;
  const logFile = args['log-file'] !== undefined ? checkLogFileArg(args['log-file']) : undefined;

  // With server.workers > 1 this process is the cluster primary; its workers re-run this command.
  const inWorker = isClusterWorker();
  const workers = inWorker ? 1 : workerCount(config.aisbf.server.workers);

  const pidPath = pidFilePath(configDir);
  const record: PidRecord = {
    pid: process.pid,
    url: null,
    started_at: new Date().toISOString(),
    version: VERSION,
    config_dir: configDir,
    log_file: logFile ?? null,
    shutdown_grace_seconds: config.aisbf.server.shutdown_grace_seconds,
    proc_start: procStartTime(process.pid),
    args: { host: args.host, port: args.port, log_level: args['log-level'] },
    reloads: 0,
    last_reload: null,
  };
  if (!inWorker) {
    const other = findServer(configDir);
    if (other.state === 'running') throw alreadyRunning(other.record, configDir);
    try {
      claimPidFile(pidPath, record);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new CliError(`another aisbf is starting for ${configDir} (${pidPath} appeared just now)`);
      throw new CliError(describeFsError(err, pidPath, 'write the PID file'));
    }
  }
  const releasePid = () => {
    if (!inWorker) removePidFile(pidPath, process.pid);
  };

  let sink: LogSink;
  try {
    sink = inWorker ? workerLogSink() : await openLogSink(logFile, config);
  } catch (err) {
    releasePid();
    throw err;
  }
  const log: Logger = createLogger({ level: args['log-level'] ?? config.aisbf.logging.level, destination: sink.stream });
  // What a dependency prints itself (an SDK's console.warn, node's warnings) becomes a log line.
  routeStrayOutput({ log });
  if (!inWorker) {
    log.info({ configDir, created }, created ? `created config dir ${configDir} with the shipped defaults` : `config dir ${configDir}`);
    for (const n of config.notices) log.warn({ file: n.file, path: n.path }, `${formatProblem(n)}`);
  }
  let running: ServerHandle;
  let crashes: CrashLog | undefined;
  try {
    if (workers > 1) {
      const { startPrimary } = await import('../server/cluster.js');
      const dbPath = config.resolvePath(config.aisbf.storage.path);
      const primary = await startPrimary({
        workers, log, logStream: sink.stream,
        // Without Redis the primary holds the key counters; spend is persisted here.
        storagePath: dbPath,
        // A worker that died is one of our own faults: a row of /admin/crashes (loaded only then).
        onWorkerExit: (e) => void import('../accounting/worker-exit.js').then((m) => m.recordWorkerExit(dbPath, e, log)),
      });
      running = {
        url: primary.url,
        // Checked here first, so a bad config is reported once and no worker is disturbed.
        reload: () => {
          const next = loadConfig({ dir: configDir });
          primary.reload();
          return next;
        },
        close: (ms) => primary.close(ms),
        closeNow: () => primary.closeNow(),
      };
    } else {
      const { startServer } = await import('../server/serve.js');
      const server = await startServer({ configDir, host, port, log });
      crashes = server.deps.accounting?.crashes;
      running = { url: server.url, reload: () => server.reload(), close: (ms) => server.close(ms), closeNow: () => server.server.closeAllConnections() };
      if (inWorker) toPrimary({ aisbf: 'ready', url: server.url });
    }
  } catch (err) {
    releasePid();
    await sink.close();
    throw explainStartError(err, host, port, configDir);
  }
  record.url = running.url;
  if (!inWorker) writePidFile(pidPath, record);
  // An error nothing caught: its stack to /admin/crashes, one line to the log (node would print the stack).
  installFatalHandler({ log, crashes, flush: async () => { releasePid(); await sink.close(); } });

  let current = config;
  process.on('SIGHUP', function reloadOnHangup() {
    const at = new Date().toISOString();
    try {
      current = running.reload();
      if (args['log-level'] === undefined) log.level = current.aisbf.logging.level;
      record.shutdown_grace_seconds = current.aisbf.server.shutdown_grace_seconds;
      record.last_reload = { at, ok: true };
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems.map(formatProblem) : [(err as Error).message];
      log.error({ problems }, 'config reload failed; the running config stays');
      record.last_reload = { at, ok: false, error: problems.join('\n') };
    }
    record.reloads++;
    if (inWorker) return;
    try {
      writePidFile(pidPath, record);
    } catch (err) {
      log.warn({ err: { message: (err as Error).message } }, 'could not update the PID file');
    }
  });

  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, 'second signal: closing the connections still open now');
        running.closeNow();
        return;
      }
      stopping = true;
      const grace = current.aisbf.server.shutdown_grace_seconds;
      log.info({ signal, grace_seconds: grace }, 'shutting down: no new connections; requests in flight may finish');
      void running.close(grace * 1000).then(() => {
        log.info('aisbf stopped');
        releasePid();
        resolve();
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  await sink.close();
}

export function alreadyRunning(record: PidRecord, configDir: string): CliError {
  return new CliError(`aisbf is already running for ${configDir} (PID ${record.pid}${record.url ? `, ${record.url}` : ', starting'}); see "aisbf status" or stop it with "aisbf stop"`);
}

export const serveCommand = defineCommand<ServeArgs>({
  command: ['serve', '$0'],
  describe: 'Run the server in the foreground (the default command); Ctrl-C stops it gracefully',
  builder: (y: Argv) =>
    withServerOptions(y)
      .option('log-file', { type: 'string', describe: 'Write logs to this file, rotated by size (logging.max_size_mb, logging.max_files), instead of stdout' })
      .option('config-created', { type: 'boolean', hidden: true })
      .example('$0', 'Run on 127.0.0.1:17765 with the config in ~/.aisbf')
      .example('$0 --config ./my-aisbf --port 18000 --log-level debug', 'Another config dir and port, verbose logs') as Argv<ServeArgs>,
  handler: (args) => runServer(args),
});
