/**
 * @module `aisbf daemon`: start the server in the background. Spawns this same node and bin with the
 * foreground command (`serve --log-file …`), detached, stdout/stderr appended to the log file, and
 * returns only once the server answers `/health` — or says why it did not, with the log's last lines.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Argv } from 'yargs';
import { PACKAGE_ROOT } from '../package-info.js';
import { CliError, describeFsError } from './cli-error.js';
import { defineCommand, serverOptionArgs, withServerOptions, type ServerArgs } from './cli-options.js';
import { loadConfigOrExplain, prepareConfigDir, resolveConfigDir, resolveLogFile } from './config-dir.js';
import { fetchHealth } from './health-client.js';
import { fileSize, humanLogLine, linesSince } from './log-tail.js';
import { findServer, readPidFile, pidFilePath, type PidRecord } from './pid-file.js';
import { alreadyRunning } from './serve.js';

export interface DaemonArgs extends ServerArgs {
  wait: number;
}

const BIN = join(PACKAGE_ROOT, 'bin', 'aisbf.js');

function failure(reason: string, logFile: string, offset: number): CliError {
  const lines = linesSince(logFile, offset).map((l) => `  ${humanLogLine(l)}`);
  const tail = lines.length ? `\nlast lines of ${logFile}:\n${lines.join('\n')}` : `\n(nothing in ${logFile})`;
  return new CliError(`${reason}${tail}`);
}

/** Starts the daemon and waits until it is healthy; returns its PID record. */
export async function startDaemon(args: DaemonArgs, out: (line: string) => void): Promise<PidRecord> {
  const configDir = resolveConfigDir(args.config);
  const created = prepareConfigDir(configDir);
  if (created) out(`created config dir ${configDir} with the shipped defaults`);
  // Fail fast, in the terminal, on a config the server would refuse anyway.
  const config = loadConfigOrExplain(configDir);
  const found = findServer(configDir);
  if (found.state === 'running') throw alreadyRunning(found.record, configDir);
  if (found.state === 'stale') out(`removed a stale PID file (PID ${found.pid ?? 'unknown'} is not running)`);

  const logFile = resolveLogFile(config);
  let fd: number;
  try {
    mkdirSync(dirname(logFile), { recursive: true, mode: 0o700 });
    fd = openSync(logFile, 'a', 0o600);
  } catch (err) {
    throw new CliError(describeFsError(err, (err as NodeJS.ErrnoException).path ?? logFile, 'open the log file'));
  }
  const offset = fileSize(logFile);

  const child = spawn(process.execPath, [BIN, 'serve', '--config', configDir, '--log-file', logFile, ...(created ? ['--config-created'] : []), ...serverOptionArgs(args)], {
    detached: true,
    stdio: ['ignore', fd, fd],
    cwd: configDir,
    env: process.env,
  });
  closeSync(fd);
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = signal ? `was killed by ${signal}` : `exited with code ${code ?? 'unknown'}`));
  child.once('error', (err) => (exited = `could not be started (${err.message})`));
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw failure('could not start the server process', logFile, offset);

  const pidPath = pidFilePath(configDir);
  const deadline = Date.now() + args.wait * 1000;
  for (;;) {
    if (exited) throw failure(`the server ${exited} before it was ready`, logFile, offset);
    const record = readPidFile(pidPath);
    if (record && record !== 'invalid' && record.pid === pid && record.url) {
      try {
        await fetchHealth(record.url, 1000);
        return record;
      } catch {
        // Listening but not answering yet; keep waiting.
      }
    }
    if (Date.now() >= deadline) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
      throw failure(`the server did not answer /health within ${args.wait}s; stopped it (PID ${pid})`, logFile, offset);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function withDaemonOptions<T>(y: Argv<T>): Argv<T & DaemonArgs> {
  return withServerOptions(y).option('wait', {
    type: 'number',
    default: 30,
    describe: 'Seconds to wait for the server to answer /health before giving up',
  }) as Argv<T & DaemonArgs>;
}

export function reportStarted(record: PidRecord, out: (line: string) => void): void {
  out(`aisbf started (PID ${record.pid}) at ${record.url}`);
  if (record.log_file) out(`logs: ${record.log_file}`);
}

export const daemonCommand = defineCommand<DaemonArgs>({
  command: 'daemon',
  describe: 'Start the server in the background; returns once it answers /health',
  builder: (y: Argv) =>
    withDaemonOptions(y)
      .example('$0 daemon', 'Start in the background; PID file and logs under ~/.aisbf')
      .example('$0 daemon --config ./my-aisbf --port 18000', 'Another config dir and port')
      .epilogue('Exit codes: 0 started and healthy; 1 already running, invalid config, or the server failed to start (its last log lines are shown).') as Argv<DaemonArgs>,
  handler: async (args) => {
    const out = (line: string) => process.stdout.write(`${line}\n`);
    reportStarted(await startDaemon(args, out), out);
  },
});
