/**
 * @module `aisbf --help`, written from the command table without loading yargs or any command: the
 * same layout as yargs' help (which each command's own `aisbf <command> --help` still uses).
 */
import { COMMANDS, COMPLETION } from './commands.js';
import { GLOBAL_OPTION_HELP, SERVER_OPTION_HELP } from './cli-options.js';

/** Breaks `text` into lines of at most `width` characters, at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

function table(rows: ReadonlyArray<readonly [string, string]>, columns: number): string[] {
  const left = Math.max(...rows.map(([l]) => l.length)) + 2;
  const width = Math.max(30, columns - left - 2);
  const out: string[] = [];
  for (const [l, r] of rows) {
    wrap(r, width).forEach((line, i) => out.push(`  ${(i === 0 ? l : '').padEnd(left)}${line}`));
  }
  return out;
}

export function topHelp(columns = Math.min(110, process.stdout.columns || 100)): string {
  const commands = [...COMMANDS, COMPLETION].map((c) => [`aisbf ${c.usage}`, `${c.describe}${'isDefault' in c && c.isDefault ? ' [default]' : ''}`] as const);
  const options = [...GLOBAL_OPTION_HELP, ['-v, --version', 'Show version number'], ['-h, --help', 'Show help']] as const;
  return [
    'aisbf [command] [options]',
    '',
    'One OpenAI-compatible API on 127.0.0.1:17765 for every AI provider.',
    '',
    'Commands:',
    ...table(commands, columns),
    '',
    'Options:',
    ...table(options, columns),
    '',
    'Options of the default command (aisbf serve), also taken by daemon and restart:',
    ...table(SERVER_OPTION_HELP, columns),
    '',
    'Examples:',
    ...table(
      [
        ['aisbf', 'Run on 127.0.0.1:17765 with the config in ~/.aisbf'],
        ['aisbf daemon && aisbf status', 'Start in the background, then show how it runs'],
        ['aisbf <command> --help', "A command's own options and examples"],
      ],
      columns,
    ),
    '',
    ...wrap('Docs: docs/cli.md. Files: <config dir>/aisbf.pid while running, <config dir>/logs/aisbf.log for the daemon.', columns),
    '',
  ].join('\n');
}
