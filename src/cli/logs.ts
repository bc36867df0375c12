/**
 * @module `aisbf logs [-f] [-n N] [--json]`: the daemon's log, as readable lines (pino-pretty), or raw
 * JSON. `-f` follows the file like `tail -F`: new lines as they come, across rotations (a renamed file
 * is read to its end, then the new one from its start).
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import type { Argv } from 'yargs';
import { CliError } from './cli-error.js';
import { defineCommand, type GlobalArgs } from './cli-options.js';
import { LOG_FILE_NAME, loadConfigOrExplain, resolveConfigDir, resolveLogFile } from './config-dir.js';
import { linesSince } from './log-tail.js';
import { findServer } from './pid-file.js';

interface LogsArgs extends GlobalArgs {
  follow: boolean;
  lines: number;
  json: boolean;
}

/** The log file of the running daemon, else the one the config names. */
function logFileOf(configDir: string): string {
  const found = findServer(configDir);
  if (found.state === 'running' && found.record.log_file) return found.record.log_file;
  return resolveLogFile(loadConfigOrExplain(configDir, false));
}

type Formatter = (line: string) => string;

async function formatter(json: boolean): Promise<Formatter> {
  if (json) return (line) => `${line}\n`;
  const { prettyFactory } = await import('pino-pretty');
  const { PRETTY_OPTIONS } = await import('../log.js');
  const pretty = prettyFactory({ ...PRETTY_OPTIONS, colorize: process.stdout.isTTY === true && !process.env.NO_COLOR });
  return (line) => {
    const out = pretty(line);
    return out.endsWith('\n') ? out : `${out}\n`;
  };
}

/** Follows `path` from `offset`; resolves when the signal aborts. */
export async function follow(path: string, offset: number, onLines: (lines: string[]) => void, signal: AbortSignal, pollMs = 200): Promise<void> {
  let fd: number | undefined;
  let ino = -1;
  let pos = offset;
  let partial = '';
  const open = (from: number) => {
    try {
      fd = openSync(path, 'r');
      ino = fstatSync(fd).ino;
      pos = from;
    } catch {
      fd = undefined;
    }
  };
  const drain = () => {
    if (fd === undefined) return;
    const size = fstatSync(fd).size;
    if (size < pos) pos = 0; // truncated in place
    while (pos < size) {
      const buf = Buffer.alloc(Math.min(size - pos, 1 << 20));
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n <= 0) break;
      pos += n;
      const text = partial + buf.subarray(0, n).toString('utf8');
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      const lines = parts.filter((l) => l.trim() !== '');
      if (lines.length) onLines(lines);
    }
  };
  open(offset);
  while (!signal.aborted) {
    drain();
    // Rotated: the path now names another file. Finish the old one, then start the new one at 0.
    let current: number | undefined;
    try {
      current = statSync(path).ino;
    } catch {
      current = undefined;
    }
    if (current !== undefined && current !== ino) {
      drain();
      if (fd !== undefined) closeSync(fd);
      partial = '';
      open(0);
      continue;
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, pollMs);
      signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });
  }
  if (fd !== undefined) closeSync(fd);
}

export const logsCommand = defineCommand<LogsArgs>({
  command: 'logs',
  describe: "Print the daemon's log readably (-f: keep following it)",
  builder: (y: Argv) =>
    y
      .option('follow', { alias: 'f', type: 'boolean', default: false, describe: 'Keep printing new lines (survives log rotation); Ctrl-C stops' })
      .option('lines', { alias: 'n', type: 'number', default: 50, describe: 'How many of the last lines to print first' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the raw JSON lines' })
      .example('$0 logs', `The last 50 lines of <config dir>/logs/${LOG_FILE_NAME}`)
      .example('$0 logs -f', 'Follow the log')
      .example('$0 logs --json -n 1000 | jq .reqId', 'Raw JSON for scripts')
      .epilogue('Exit codes: 0 printed; 1 no log file yet (the daemon has not run) or the config is invalid.') as Argv<LogsArgs>,
  handler: async (args) => {
    const lines = Number.isInteger(args.lines) && args.lines >= 0 ? args.lines : NaN;
    if (Number.isNaN(lines)) throw new CliError(`--lines needs a whole number >= 0 (got ${String(args.lines)})`);
    const configDir = resolveConfigDir(args.config);
    const file = logFileOf(configDir);
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      if (!args.follow) throw new CliError(`no log file at ${file} yet: "aisbf daemon" writes it (a foreground server logs to the terminal)`);
      size = 0;
    }
    const format = await formatter(args.json);
    const write = (ls: string[]) => process.stdout.write(ls.map(format).join(''));
    // At most the last 4 MiB are read for the first lines.
    if (lines > 0) write(linesSince(file, Math.max(0, size - (4 << 20)), lines, 4 << 20));
    if (!args.follow) return;
    const stop = new AbortController();
    process.once('SIGINT', () => stop.abort());
    process.once('SIGTERM', () => stop.abort());
    await follow(file, size, write, stop.signal);
  },
});
