/**
 * @module Locating and checking the config dir and what lives under it (the PID file, logs), and
 * loading the config with every problem turned into one readable CliError.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { ConfigError, defaultConfigDir, ensureConfigDir, formatProblem, loadConfig, type Config } from '../config/load-config.js';
import { CliError, describeFsError } from './cli-error.js';

export const LOG_FILE_NAME = 'aisbf.log';

/** `--config DIR`, else $AISBF_CONFIG_DIR, else ~/.aisbf — absolute, and a directory if it exists. */
export function resolveConfigDir(raw: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (raw !== undefined && raw.trim() === '') throw new CliError('--config needs a directory');
  if (raw?.includes('\0')) throw new CliError('--config contains a NUL byte');
  const dir = raw !== undefined ? resolve(raw) : defaultConfigDir(env);
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return dir;
    throw new CliError(describeFsError(err, dir, 'read the config dir'));
  }
  if (!isDir) throw new CliError(`the config dir ${dir} is a file, not a directory`);
  return dir;
}

/** Creates the dir with the shipped defaults on first run; the server needs to write in it. */
export function prepareConfigDir(dir: string): string[] {
  let copied: string[];
  try {
    copied = ensureConfigDir(dir);
  } catch (err) {
    throw new CliError(describeFsError(err, (err as NodeJS.ErrnoException).path ?? dir, 'set up the config dir at'));
  }
  try {
    accessSync(dir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (err) {
    throw new CliError(describeFsError(err, dir, 'write in the config dir'));
  }
  return copied;
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
