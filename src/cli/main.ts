/**
 * @module The `aisbf` command line: yargs built from the command list in commands.ts. With no command
 * it runs the server in the foreground. Every failure ends as one `aisbf: …` message on stderr and a
 * non-zero exit code; set AISBF_DEBUG=1 to also see the stack of an unexpected error.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { CliError } from './cli-error.js';
import { VERSION } from './cli-options.js';
import { COMMANDS } from './commands.js';

function fail(message: string, code: number): never {
  process.stderr.write(`aisbf: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  const cli = yargs(hideBin(process.argv))
    .scriptName('aisbf')
    .usage('aisbf [command] [options]\n\nOne OpenAI-compatible API on 127.0.0.1:17765 for every AI provider.')
    .option('config', {
      type: 'string',
      global: true,
      describe: 'Config dir (default: $AISBF_CONFIG_DIR, else ~/.aisbf); holds the PID file and logs too',
    })
    .strict()
    .recommendCommands()
    .version(VERSION)
    .alias('version', 'v')
    .help()
    .alias('help', 'h')
    .wrap(Math.min(110, process.stdout.columns || 100))
    .epilogue('Docs: docs/cli.md. Files: <config dir>/aisbf.pid while running, <config dir>/logs/aisbf.log for the daemon.')
    .fail((msg, err) => {
      // Usage mistakes (unknown option, bad value) come as msg; errors thrown by a handler as err.
      throw err ?? new CliError(`${msg}\nrun "aisbf --help" for usage`, 1);
    });
  for (const command of COMMANDS) cli.command(command);

  try {
    await cli.parseAsync();
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
