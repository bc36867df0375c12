/**
 * @module Every `aisbf` command, in help order, as static metadata: its name, how help shows it, one
 * line of description, and how to load it. A command's module is imported only when that command runs
 * (or its own `--help` is asked for), so `aisbf --help`, `status` and `stop` never load the server,
 * the config schemas or the other commands. Adding a command is one entry here; its module exports a
 * `defineCommand(...)` (see status.ts) whose `describe` matches the entry's (a test checks they agree).
 */
import { SERVER_OPTION_CHECKS, type CliCommand } from './cli-options.js';

export interface CommandEntry {
  /** The word that selects it. */
  name: string;
  /** How `aisbf --help` lists it, e.g. `profile <command>`. */
  usage: string;
  describe: string;
  /** The command run when none is named (`aisbf` alone, or only options). */
  isDefault?: boolean;
  /**
   * Options main.ts may parse without loading yargs (besides --config): boolean `flags` (false when
   * absent) and `values` with their check. Any other argument sends the command through yargs, so
   * listing too few is safe; list only options whose yargs definition has no other default.
   */
  fast?: { flags?: readonly string[]; values?: Readonly<Record<string, (raw: string) => unknown>> };
  load(): Promise<CliCommand>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'serve',
    usage: 'serve',
    describe: 'Run the server in the foreground (the default command); Ctrl-C stops it gracefully',
    isDefault: true,
    fast: { flags: ['config-created'], values: SERVER_OPTION_CHECKS },
    load: async () => (await import('./serve.js')).serveCommand,
  },
  { name: 'daemon', usage: 'daemon', describe: 'Start the server in the background; returns once it answers /health', load: async () => (await import('./daemon.js')).daemonCommand },
  { name: 'status', usage: 'status', describe: 'Show whether the server is running: PID, URL, uptime, version, providers', fast: { flags: ['json'] }, load: async () => (await import('./status.js')).statusCommand },
  { name: 'stop', usage: 'stop', describe: 'Stop the server gracefully (in-flight requests and streams may finish)', fast: { flags: ['force'] }, load: async () => (await import('./stop.js')).stopCommand },
  { name: 'restart', usage: 'restart', describe: 'Stop the server gracefully (if running) and start it again in the background', load: async () => (await import('./restart.js')).restartCommand },
  { name: 'reload', usage: 'reload', describe: 'Re-read the config in the running server (SIGHUP) without dropping requests', load: async () => (await import('./reload.js')).reloadCommand },
  { name: 'logs', usage: 'logs', describe: "Print the daemon's log readably (-f: keep following it)", load: async () => (await import('./logs.js')).logsCommand },
  { name: 'config', usage: 'config', describe: 'Config tools: path, init, check, migrate', load: async () => (await import('./config.js')).configCommand },
  { name: 'service', usage: 'service <command>', describe: 'Run aisbf as a systemd service: install or uninstall its unit file', load: async () => (await import('./service.js')).serviceCommand },
  { name: 'profile', usage: 'profile <command>', describe: 'Glasses profiles: add, list, delete, report', load: async () => (await import('./profile.js')).profileCommand },
  { name: 'prompt', usage: 'prompt <user> [text]', describe: "Show or set a glasses profile's prompt", load: async () => (await import('./prompt.js')).promptCommand },
  { name: 'user', usage: 'user <command>', describe: 'Users of a shared gateway: add, list, delete, passwd', load: async () => (await import('./user.js')).userCommand },
  { name: 'key', usage: 'key <command>', describe: 'API keys (sk-aisbf-…): create, list, revoke', load: async () => (await import('./key.js')).keyCommand },
  { name: 'usage', usage: 'usage', describe: 'Requests, errors, tokens and cost from the usage records, as a table (by model, key, user, client, provider or day)', load: async () => (await import('./usage.js')).usageCommand },
  { name: 'batches', usage: 'batches [action] [id]', describe: 'OpenAI batches (/v1/batches) of this config dir: list, show ID, cancel ID', load: async () => (await import('./batches.js')).batchesCommand },
  { name: 'blacklist', usage: 'blacklist <command>', describe: 'Glasses IP blacklist: add, remove, list', load: async () => (await import('./blacklist.js')).blacklistCommand },
];

/** yargs' own `completion` command (registered in main.ts, no module of ours). */
export const COMPLETION = { name: 'completion', usage: 'completion', describe: 'Print a bash/zsh completion script: aisbf completion >> ~/.bashrc' } as const;

export function findCommand(name: string): CommandEntry | undefined {
  return COMMANDS.find((c) => c.name === name);
}

export const DEFAULT_COMMAND: CommandEntry = COMMANDS.find((c) => c.isDefault)!;
