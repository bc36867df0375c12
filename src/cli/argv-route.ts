/**
 * @module Decides, from the raw arguments and without yargs, what `aisbf …` is asking for: the
 * version, the top-level help, or a command (by the first word that is not an option or an option's
 * value). main.ts then loads only that command. Anything this cannot tell is left to yargs, which
 * reports mistakes the usual way.
 */
import { COMPLETION, DEFAULT_COMMAND, findCommand, type CommandEntry } from './commands.js';

/** Options that take a value at the top level (global, and the default command's). */
const VALUE_OPTIONS = new Set(['--config', '--host', '--port', '--log-level', '--log-file']);

export type Route =
  | { kind: 'version' }
  | { kind: 'help' }
  /** Hand to yargs with `entry` loaded for real (the others as one-line stubs). */
  | { kind: 'yargs'; entry: CommandEntry | undefined };

/**
 * The arguments of a command that declares `fast` options, parsed without yargs — or undefined when
 * they hold anything else (a positional, an unknown or repeated option, --help, a value that does
 * not pass its check), which then goes to yargs and its usual messages. Flags not given are false.
 */
export function fastArgs(entry: CommandEntry, args: readonly string[]): Record<string, unknown> | undefined {
  const spec = entry.fast;
  if (!spec) return undefined;
  const out: Record<string, unknown> = { _: [], $0: 'aisbf' };
  for (const f of spec.flags ?? []) out[f] = false;
  let i = 0;
  if (args[0] === entry.name) {
    out._ = [entry.name];
    i = 1;
  } else if (!entry.isDefault) return undefined;
  const seen = new Set<string>();
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--') || a === '--') return undefined;
    const eq = a.indexOf('=');
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    if (seen.has(name)) return undefined;
    seen.add(name);
    const check = name === 'config' ? (v: string) => v : spec.values?.[name];
    if (check) {
      const raw = eq < 0 ? args[++i] : a.slice(eq + 1);
      if (raw === undefined || raw.startsWith('-')) return undefined;
      try {
        out[name] = check(raw);
      } catch {
        return undefined;
      }
    } else if (eq < 0 && spec.flags?.includes(name)) out[name] = true;
    else return undefined;
  }
  return out;
}

/** The first word of `args` that is neither an option nor a value-taking option's value. */
export function firstWord(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return args[i + 1];
    if (!a.startsWith('-') || a === '-') return a;
    if (VALUE_OPTIONS.has(a)) i++;
  }
  return undefined;
}

function has(args: readonly string[], ...flags: string[]): boolean {
  for (const a of args) {
    if (a === '--') return false;
    if (flags.includes(a)) return true;
  }
  return false;
}

export function routeArgv(args: readonly string[]): Route {
  // Shell completion asks `aisbf --get-yargs-completions aisbf <words…>`: the command named so far
  // is loaded so its subcommands and options complete too.
  if (args[0] === '--get-yargs-completions') {
    const words = args.slice(2, -1); // drop the program name and the word being completed
    return { kind: 'yargs', entry: words.map(findCommand).find((c) => c !== undefined) };
  }
  const word = firstWord(args);
  if (has(args, '--version', '-v')) return { kind: 'version' };
  if (word === undefined) return has(args, '--help', '-h') ? { kind: 'help' } : { kind: 'yargs', entry: DEFAULT_COMMAND };
  if (word === COMPLETION.name) return { kind: 'yargs', entry: undefined };
  // An unknown word goes to yargs with the default command loaded: it names the unknown argument.
  return { kind: 'yargs', entry: findCommand(word) ?? DEFAULT_COMMAND };
}
