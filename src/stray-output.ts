/**
 * @module What dependencies print on their own — `console.warn` / `console.error` and node's process
 * warnings — goes into aisbf's log as a JSON line instead of onto stderr. The daemon's stderr is its log
 * file, whose lines `aisbf logs --json` hands to scripts as JSON, and such prints were plain text:
 * the Anthropic SDK `console.warn`s a deprecated model on every request it sends (two lines each),
 * @hono/node-server `console.error`s an error it caught with its stack.
 *
 * A line never holds a stack (an Error is its name and message) or a key (redacted), and a text that
 * repeats, as a per-request warning does, is logged once per REPEAT_MS with the count of the ones
 * left out. Only the serve process installs it (src/cli/serve.ts): the CLI's own commands print to
 * a terminal.
 */
import { inspect } from 'node:util';
import type { Logger } from 'pino';
import { redactText } from './log.js';

/** A repeated text is logged again after this long, with how many were left out. */
export const REPEAT_MS = 3600_000;
/** Distinct texts remembered; past this the memory starts over (texts can hold request data). */
const MAX_TEXTS = 256;
/** A longer text is cut (a dependency printing a whole body must not make a megabyte line). */
const MAX_CHARS = 2000;

export interface StrayOutputOptions {
  log: Logger;
  clock?: () => number;
}

/** One printed argument as text: an Error by its name and message only. */
function argText(a: unknown): string {
  if (typeof a === 'string') return a;
  if (a instanceof Error) return `${a.name}: ${a.message}`;
  return inspect(a, { depth: 2, breakLength: Infinity });
}

function rawTextOf(args: unknown[]): string {
  return args.map(argText).join(' ');
}

/** Redacted first, then cut: a cut through a key would leave a prefix too short to be recognized. */
function loggedText(raw: string): string {
  const text = redactText(raw);
  return text.length > MAX_CHARS ? `${text.slice(0, MAX_CHARS)}…` : text;
}

/** Installs it; returns the removal (console and node's warning printer as they were). */
export function routeStrayOutput(opts: StrayOutputOptions): () => void {
  const clock = opts.clock ?? Date.now;
  const seen = new Map<string, { at: number; left: number }>();
  // A warning a dependency prints per request comes here per request: a repeat costs one map lookup,
  // and the redaction runs only for a line that is written.
  const emit = (source: string, level: 'warn' | 'error', raw: string) => {
    const now = clock();
    // Held in memory only, bounded: the first MAX_CHARS characters identify a repeat.
    const key = `${source}\n${raw.slice(0, MAX_CHARS)}`;
    const prev = seen.get(key);
    if (prev && now - prev.at < REPEAT_MS) {
      prev.left++;
      return;
    }
    if (!prev && seen.size >= MAX_TEXTS) seen.clear();
    seen.set(key, { at: now, left: 0 });
    opts.log[level]({ source, ...(prev?.left ? { repeats_left_out: prev.left } : {}) }, loggedText(raw));
  };
  const original = { warn: console.warn, error: console.error };
  console.warn = (...args: unknown[]) => emit('console.warn', 'warn', rawTextOf(args));
  console.error = (...args: unknown[]) => emit('console.error', 'error', rawTextOf(args));
  // node prints a process warning (a deprecation, MaxListenersExceededWarning) to stderr from its own
  // listener; with ours in its place the warning is a log line.
  const nodePrinters = process.listeners('warning');
  process.removeAllListeners('warning');
  const onWarning = (w: Error) => emit('process warning', 'warn', rawTextOf([w]));
  process.on('warning', onWarning);
  return () => {
    console.warn = original.warn;
    console.error = original.error;
    process.off('warning', onWarning);
    for (const l of nodePrinters) process.on('warning', l);
  };
}
