/**
 * @module Locating and checking the config dir and what lives under it (the PID file, logs), and
 * loading the config with every problem turned into one readable CliError.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { ConfigError, createConfigDirIfFresh, formatProblem, loadConfig, type Config } from '../config/load-config.js';
import { CliError, describeFsError } from './cli-error.js';

export const LOG_FILE_NAME = 'aisbf.log';

// Lives in a module of its own (no config schemas), so `status` and `stop` stay light; re-exported here
// for the commands that load the config anyway.
export { resolveConfigDir } from './resolve-config-dir.js';

/**
 * First run (no config dir, or one without any config file): creates it with the shipped defaults.
 * Returns whether it did. Checks that the server can write in it (PID file, database, logs).
 */
export function prepareConfigDir(dir: string): boolean {
  let created: boolean;
  try {
    created = createConfigDirIfFresh(dir);
  } catch (err) {
    throw new CliError(describeFsError(err, (err as NodeJS.ErrnoException).path ?? dir, 'set up the config dir at'));
  }
  try {
    accessSync(dir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (err) {
    throw new CliError(describeFsError(err, dir, 'write in the config dir'));
  }
  return created;
}

export function explainConfigError(err: ConfigError, dir: string): CliError {
  const lines = err.problems.map((p) => `  ${formatProblem(p)}`);
  return new CliError(`invalid config in ${dir} (${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`);
}

/** loadConfig, with a ConfigError or an unreadable file turned into a CliError. */
export function loadConfigOrExplain(dir: string, init = true): Config {
  try {
    return loadConfig({ dir, init });
  } catch (err) {
    if (err instanceof ConfigError) throw explainConfigError(err, dir);
    throw new CliError(describeFsError(err, (err as NodeJS.ErrnoException).path ?? dir, 'read the config in'));
  }
}

/**
 * `logging.dir` resolved against the config dir. A relative path must stay inside the config dir
 * (logs never wander into /tmp or a parent by accident); an absolute one is the user's explicit choice.
 */
export function resolveLogDir(config: Config): string {
  const raw = config.aisbf.logging.dir;
  if (raw.includes('\0')) throw new CliError('aisbf.json: logging.dir contains a NUL byte');
  const dir = config.resolvePath(raw);
  if (!isAbsolute(raw)) {
    const rel = relative(config.dir, dir);
    if (rel.startsWith('..') || isAbsolute(rel)) {
      throw new CliError(`aisbf.json: logging.dir "${raw}" leads outside the config dir ${config.dir}; use a path inside it or an absolute path`);
    }
  }
  try {
    if (!statSync(dir).isDirectory()) throw new CliError(`aisbf.json: logging.dir ${dir} is a file, not a directory`);
  } catch (err) {
    if (err instanceof CliError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new CliError(describeFsError(err, dir, 'use the log dir'));
  }
  return dir;
}

export function resolveLogFile(config: Config): string {
  return join(resolveLogDir(config), LOG_FILE_NAME);
}

/** A `--log-file` given on the command line: absolute, and not a directory. */
export function checkLogFileArg(raw: string): string {
  if (raw.trim() === '' || raw.includes('\0')) throw new CliError('--log-file needs a file path');
  const file = resolve(raw);
  try {
    if (statSync(file).isDirectory()) throw new CliError(`--log-file ${file} is a directory`);
  } catch (err) {
    if (err instanceof CliError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new CliError(describeFsError(err, file, 'use the log file'));
  }
  return file;
}
