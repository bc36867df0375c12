/**
 * @module Every `aisbf` command, in help order. Adding a command is one line here: its module
 * exports a `defineCommand(...)` (see serve.ts for the shape). Modules stay light at import time;
 * a handler imports the server stack only when it needs it.
 */
import type { CliCommand } from './cli-options.js';

export const COMMANDS: readonly CliCommand[] = [
  (await import('./serve.js')).serveCommand,
  (await import('./daemon.js')).daemonCommand,
  (await import('./status.js')).statusCommand,
  (await import('./stop.js')).stopCommand,
  (await import('./restart.js')).restartCommand,
  (await import('./reload.js')).reloadCommand,
  (await import('./config.js')).configCommand,
  (await import('./profile.js')).profileCommand,
  (await import('./prompt.js')).promptCommand,
  (await import('./blacklist.js')).blacklistCommand,
];
