/**
 * @module `aisbf stop`: SIGTERM the server and wait while it drains (it stops accepting and lets
 * requests and streams in flight finish for up to `server.shutdown_grace_seconds`). Exit 0 stopped,
 * 1 not running, 2 still running after the grace period, 3 killed with SIGKILL (`--force`).
 */
import type { Argv } from 'yargs';
import { CliError } from './cli-error.js';
import { defineCommand, type GlobalArgs } from './cli-options.js';
import { resolveConfigDir } from './resolve-config-dir.js';
import { findServer, pidFilePath, removePidFile, waitForExit } from './pid-file.js';

export interface StopArgs extends GlobalArgs {
  force: boolean;
  timeout?: number;
}

/** Time the server gets beyond its grace period to close the database and exit. */
const EXIT_MARGIN_MS = 3000;

export type StopOutcome = 'stopped' | 'not-running' | 'timeout' | 'killed';

export const STOP_EXIT_CODES: Record<StopOutcome, number> = { stopped: 0, 'not-running': 1, timeout: 2, killed: 3 };

export async function stopServer(args: StopArgs, out: (line: string) => void, err: (line: string) => void): Promise<StopOutcome> {
  const configDir = resolveConfigDir(args.config);
  const found = findServer(configDir);
  if (found.state !== 'running') {
    out(`aisbf is not running (config dir ${configDir})${found.state === 'stale' ? `; removed a stale PID file (PID ${found.pid ?? 'unknown'})` : ''}`);
    return 'not-running';
  }
  const r = found.record;
  const grace = args.timeout ?? r.shutdown_grace_seconds;
  try {
    process.kill(r.pid, 'SIGTERM');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EPERM') throw new CliError(`not allowed to signal PID ${r.pid} (it belongs to another user)`);
    // It went away on its own just now.
  }
  out(`stopping aisbf (PID ${r.pid}); requests in flight have up to ${grace}s to finish`);
  const pidPath = pidFilePath(configDir);
  if (await waitForExit(r, grace * 1000 + EXIT_MARGIN_MS)) {
    removePidFile(pidPath, r.pid);
    out(`aisbf stopped (PID ${r.pid})`);
    return 'stopped';
  }
  if (!args.force) {
    err(`aisbf (PID ${r.pid}) did not stop within ${grace}s and is still running; "aisbf stop --force" kills it`);
    return 'timeout';
  }
  try {
    process.kill(r.pid, 'SIGKILL');
  } catch {
    // Gone in the meantime.
  }
  await waitForExit(r, 5000);
  removePidFile(pidPath, r.pid);
  err(`aisbf (PID ${r.pid}) did not stop within ${grace}s; killed it (SIGKILL)`);
  return 'killed';
}

export function withStopOptions<T>(y: Argv<T>): Argv<T & StopArgs> {
  return y
    .option('force', { type: 'boolean', default: false, describe: 'SIGKILL the server if it has not stopped after the grace period' })
    .option('timeout', {
      type: 'number',
      describe: "Seconds to wait instead of the server's shutdown_grace_seconds",
      coerce: (v: unknown) => {
        const n = Number(v);
        if (!Number.isFinite(n) || n < 0) throw new Error(`--timeout must be a number of seconds >= 0 (got ${String(v)})`);
        return n;
      },
    }) as Argv<T & StopArgs>;
}

export const stopCommand = defineCommand<StopArgs>({
  command: 'stop',
  describe: 'Stop the server gracefully (in-flight requests and streams may finish)',
  builder: (y: Argv) =>
    withStopOptions(y)
      .example('$0 stop', 'SIGTERM, wait up to server.shutdown_grace_seconds (default 10)')
      .example('$0 stop --force', 'Same, then SIGKILL if it is still running')
      .epilogue('Exit codes: 0 stopped; 1 not running; 2 still running after the grace period; 3 killed with SIGKILL (--force).') as Argv<StopArgs>,
  handler: async (args) => {
    const outcome = await stopServer(args, (l) => process.stdout.write(`${l}\n`), (l) => process.stderr.write(`aisbf: ${l}\n`));
    process.exitCode = STOP_EXIT_CODES[outcome];
  },
});
