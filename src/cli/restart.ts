/**
 * @module `aisbf restart`: `stop` (if running), then `daemon` with the `--host`/`--port`/`--log-level`
 * the old server was started with (unless given again). Gives up, leaving the old server running, if it
 * does not stop within its grace period (unless `--force`).
 */
import type { Argv } from 'yargs';
import { CliError } from './cli-error.js';
import { defineCommand } from './cli-options.js';
import { resolveConfigDir } from './config-dir.js';
import { findServer } from './pid-file.js';
import { reportStarted, startDaemon, withDaemonOptions, type DaemonArgs } from './daemon.js';
import { STOP_EXIT_CODES, stopServer, withStopOptions, type StopArgs } from './stop.js';

type RestartArgs = DaemonArgs & StopArgs;

export const restartCommand = defineCommand<RestartArgs>({
  command: 'restart',
  describe: 'Stop the server gracefully (if running) and start it again in the background',
  builder: (y: Argv) =>
    withStopOptions(withDaemonOptions(y))
      .example('$0 restart', 'Pick up a changed port or log setting (a config change alone only needs "aisbf reload")')
      .epilogue('Exit codes: 0 restarted; 1 the new server failed to start; 2 the old one did not stop in time (still running).') as Argv<RestartArgs>,
  handler: async (args) => {
    const out = (line: string) => process.stdout.write(`${line}\n`);
    // The running server's own --host/--port/--log-level carry over unless given again here.
    const found = findServer(resolveConfigDir(args.config));
    const saved = found.state === 'running' ? found.record.args : {};
    const outcome = await stopServer(args, out, (l) => process.stderr.write(`aisbf: ${l}\n`));
    if (outcome === 'timeout') throw new CliError('not restarted: the running server did not stop in time', STOP_EXIT_CODES.timeout);
    const next: RestartArgs = {
      ...args,
      host: args.host ?? saved.host,
      port: args.port ?? saved.port,
      'log-level': args['log-level'] ?? (saved.log_level as RestartArgs['log-level']),
    };
    reportStarted(await startDaemon(next, out), out);
  },
});
