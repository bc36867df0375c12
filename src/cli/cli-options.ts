/**
 * @module What every command shares: the `--config` option, the server options (`--host`, `--port`,
 * `--log-level`) of the commands that start a server, the command type, and the package version.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { PACKAGE_ROOT } from '../config/load-config.js';

export const VERSION: string = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface GlobalArgs {
  /** The config dir; undefined → $AISBF_CONFIG_DIR or ~/.aisbf. */
  config?: string;
}

export interface ServerArgs extends GlobalArgs {
  host?: string;
  port?: number;
  'log-level'?: LogLevel;
}

export type CliCommand = CommandModule<GlobalArgs, GlobalArgs>;

/**
 * A command module with its own argument type. yargs erases per-command argument types when commands
 * share one list, so this is the one place the two meet.
 */
export function defineCommand<A extends GlobalArgs>(m: CommandModule<GlobalArgs, A>): CliCommand {
  return m as unknown as CliCommand;
}

function parsePort(v: unknown): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port must be a whole number from 0 to 65535 (got ${String(v)})`);
  return n;
}

function parseHost(v: unknown): string {
  const s = String(v).trim();
  if (!s || /[\s/\\]/.test(s)) throw new Error(`--host must be a host name or IP address (got ${JSON.stringify(v)})`);
  return s;
}

/** `--host`, `--port`, `--log-level`: override aisbf.json for this run. */
export function withServerOptions<T>(y: Argv<T>): Argv<T & ServerArgs> {
  return y
    .option('host', { type: 'string', describe: 'Address to listen on (overrides server.host; keep 127.0.0.1 unless you mean it)', coerce: parseHost })
    .option('port', { type: 'number', describe: 'Port to listen on (overrides server.port, default 17765)', coerce: parsePort })
    .option('log-level', { choices: LOG_LEVELS, describe: 'Log level (overrides logging.level)' }) as Argv<T & ServerArgs>;
}

/** The server options given on this command line, as arguments for a child `aisbf serve`. */
export function serverOptionArgs(args: ServerArgs): string[] {
  const out: string[] = [];
  if (args.host !== undefined) out.push('--host', args.host);
  if (args.port !== undefined) out.push('--port', String(args.port));
  if (args['log-level'] !== undefined) out.push('--log-level', args['log-level']);
  return out;
}
