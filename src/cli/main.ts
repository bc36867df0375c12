/**
 * @module The `aisbf` command line. It loads only what the command asked for: `--version` and
 * `--help` load no yargs and no command; a command with simple options it declares `fast` (the
 * server's start, `status`) runs without yargs; any other loads yargs and that command's module alone (the rest are one-line stubs, so
 * yargs can still name an unknown command and complete every name). With no command it runs the
 * server in the foreground. Every failure ends as one `aisbf: …` message on stderr and a non-zero
 * exit code; set AISBF_DEBUG=1 to also see the stack of an unexpected error.
 */
import { fastArgs, routeArgv } from './argv-route.js';
import { CliError } from './cli-error.js';
import { CONFIG_OPTION_HELP, VERSION, type CliCommand } from './cli-options.js';
import { COMMANDS, COMPLETION, type CommandEntry } from './commands.js';

function fail(message: string, code: number): never {
  process.stderr.write(`aisbf: ${message}\n`);
  process.exit(code);
}

/** A command other than the one running: its name and description, for help, suggestions and completion. */
function stub(entry: CommandEntry): CliCommand {
  return {
    command: entry.isDefault ? [entry.usage, '$0'] : entry.usage,
    describe: entry.describe,
    handler: () => {
      throw new CliError(`internal: the "${entry.name}" command was not loaded`);
    },
  };
}

async function runWithYargs(args: string[], entry: CommandEntry | undefined): Promise<void> {
  const [{ default: yargs }, loaded] = await Promise.all([import('yargs'), entry?.load()]);
  const cli = yargs(args)
    .scriptName('aisbf')
    .usage('aisbf [command] [options]\n\nOne OpenAI-compatible API on 127.0.0.1:17765 for every AI provider.')
    .option('config', { type: 'string', global: true, describe: CONFIG_OPTION_HELP })
    .strict()
    .recommendCommands()
    .version(VERSION)
    .alias('version', 'v')
    .help()
    .alias('help', 'h')
    .wrap(Math.min(110, process.stdout.columns || 100))
    .completion(COMPLETION.name, COMPLETION.describe)
    .epilogue('Docs: docs/cli.md. Files: <config dir>/aisbf.pid while running, <config dir>/logs/aisbf.log for the daemon.')
    .fail((msg, err) => {
      // Usage mistakes (unknown option, bad value) come as msg; errors thrown by a handler as err.
      throw err ?? new CliError(`${msg}\nrun "aisbf --help" for usage`, 1);
    });
  for (const c of COMMANDS) cli.command(c === entry && loaded ? loaded : stub(c));
  await cli.parseAsync();
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  try {
    const route = routeArgv(args);
    if (route.kind === 'version') process.stdout.write(`${VERSION}\n`);
    else if (route.kind === 'help') process.stdout.write((await import('./top-help.js')).topHelp());
    else {
      // `aisbf`, `aisbf --port 8000`, `aisbf status --json` …: parsed here, sparing yargs' ~100 ms.
      const fast = route.entry && fastArgs(route.entry, args);
      if (fast && route.entry) await (await route.entry.load()).handler(fast as never);
      else await runWithYargs(args, route.entry);
    }
  } catch (err) {
    if (err instanceof CliError) fail(err.message, err.exitCode);
    const e = err as Error;
    if (process.env.AISBF_DEBUG && /^(1|true|yes)$/i.test(process.env.AISBF_DEBUG)) process.stderr.write(`${e.stack ?? e.message}\n`);
    fail(e.message, 1);
  }
  // Commands are done (a foreground server has shut down); leave without waiting on idle sockets.
  process.exit(process.exitCode ?? 0);
}

void main();
