/**
 * @module `aisbf reload`: check the config, then SIGHUP the running server, which re-reads it: new
 * requests use the new config, requests in flight finish on the old one, and an invalid config is
 * logged while the old one keeps running. Waits for the server to record the outcome in the PID file.
 */
import type { Argv } from 'yargs';
import { ConfigError, loadConfig } from '../config/load-config.js';
import { CliError } from './cli-error.js';
import { defineCommand, type GlobalArgs } from './cli-options.js';
import { explainConfigError, resolveConfigDir } from './config-dir.js';
import { findServer, pidFilePath, readPidFile } from './pid-file.js';

const WAIT_MS = 5000;

export const reloadCommand = defineCommand<GlobalArgs>({
  command: 'reload',
  describe: 'Re-read the config in the running server (SIGHUP) without dropping requests',
  builder: (y: Argv) =>
    y
      .example('$0 reload', 'After editing ~/.aisbf/rotations.json')
      .epilogue(
        'The server keeps its host, port and log file; everything else (providers, rotations, autoselect, auth, log level) applies to new requests. ' +
          'Exit codes: 0 reloaded; 1 not running, or the config is invalid (the running server keeps its config).',
      ) as Argv<GlobalArgs>,
  handler: async (args) => {
    const configDir = resolveConfigDir(args.config);
    const found = findServer(configDir);
    if (found.state !== 'running') throw new CliError(`aisbf is not running (config dir ${configDir}); nothing to reload`);
    try {
      loadConfig({ dir: configDir, init: false });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const e = explainConfigError(err, configDir);
      throw new CliError(`${e.message}\nnot reloaded: the running server keeps its config`);
    }
    const { pid, reloads } = found.record;
    try {
      process.kill(pid, 'SIGHUP');
    } catch (err) {
      throw new CliError(`could not signal PID ${pid}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const pidPath = pidFilePath(configDir);
    const deadline = Date.now() + WAIT_MS;
    while (Date.now() < deadline) {
      const r = readPidFile(pidPath);
      if (r && r !== 'invalid' && r.pid === pid && r.reloads > reloads) {
        if (r.last_reload?.ok) {
          process.stdout.write(`aisbf (PID ${pid}) reloaded the config from ${configDir}\n`);
          return;
        }
        throw new CliError(`the server could not reload (the running config stays):\n${r.last_reload?.error ?? 'see its log'}`);
      }
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new CliError(`sent SIGHUP to PID ${pid} but it did not confirm a reload within ${WAIT_MS / 1000}s; see its log`);
  },
});
