/**
 * @module What every command shares: the `--config` option, the server options (`--host`, `--port`,
 * `--log-level`) of the commands that start a server, the command type, and the package version.
 */
import type { Argv, CommandModule } from 'yargs';

// From the leaf module, so no command pays for the config schemas just to know the version.
export { VERSION } from '../package-info.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Help text of the options, shared by yargs and the static top-level help (top-help.ts). */
export const CONFIG_OPTION_HELP = 'Config dir (default: $AISBF_CONFIG_DIR, else ~/.aisbf); holds the PID file and logs too';
export const GLOBAL_OPTION_HELP = [['--config', CONFIG_OPTION_HELP]] as const;
export const SERVER_OPTION_HELP = [
  ['--host', 'Address to listen on (overrides server.host; keep 127.0.0.1 unless you mean it)'],
  ['--port', 'Port to listen on (overrides server.port, default 17765)'],
  ['--log-level', `Log level (overrides logging.level): ${LOG_LEVELS.join(', ')}`],
  ['--log-file', 'Write logs to this file, rotated by size, instead of stdout (serve only)'],
] as const;

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

/** The option is read as a string so the message can quote what was typed (a number type would say "NaN"). */
export function parsePort(v: unknown): number {
  const text = String(v).trim();
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port needs a number from 0 to 65535 (got ${JSON.stringify(String(v))})`);
  return n;
}

export function parseHost(v: unknown): string {
  const s = String(v).trim();
  if (!s || /[\s/\\]/.test(s)) throw new Error(`--host must be a host name or IP address (got ${JSON.stringify(v)})`);
  return s;
}

function parseLogLevel(v: unknown): LogLevel {
  if (!(LOG_LEVELS as readonly unknown[]).includes(v)) throw new Error(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  return v as LogLevel;
}

/** The server options' checks, for the parse main.ts does without yargs (commands.ts `fast`). */
export const SERVER_OPTION_CHECKS = { host: parseHost, port: parsePort, 'log-level': parseLogLevel, 'log-file': (v: string) => v } as const;

/** `--host`, `--port`, `--log-level`: override aisbf.json for this run. */
export function withServerOptions<T>(y: Argv<T>): Argv<T & ServerArgs> {
  return y
    .option('host', { type: 'string', describe: 'Address to listen on (overrides server.host; keep 127.0.0.1 unless you mean it)', coerce: parseHost })
    .option('port', { type: 'string', describe: 'Port to listen on (overrides server.port, default 17765)', coerce: parsePort })
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
