/**
 * @module An error nothing caught (a throw in a timer or an event handler, a rejection nobody
 * awaited) ends the server process, as node's default does — but node would print its stack to
 * stderr, which the daemon writes into its log. Here the stack goes to the crash log
 * (`/admin/crashes`) and the log gets one line without it; then the process exits 1 (a cluster
 * primary starts a new worker).
 */
import type { Logger } from 'pino';
import { redactText } from '../log.js';
import type { CrashLog } from './crashes.js';

export interface FatalHandlerOptions {
  log: Logger;
  /** Absent in a process without the database (a cluster primary). */
  crashes?: CrashLog;
  /** Flushes the log before the exit. */
  flush?(): Promise<void>;
}

/** Installs the handler; returns its removal. */
export function installFatalHandler(opts: FatalHandlerOptions): () => void {
  let exiting = false;
  const onFatal = (err: unknown) => {
    if (exiting) return;
    exiting = true;
    const e = err instanceof Error ? err : new Error(String(err));
    opts.crashes?.record(e, { kind: 'unhandled' });
    opts.log.fatal({ err: { name: e.name, message: redactText(String(e.message)) } }, `uncaught error; aisbf exits${opts.crashes ? ' (its stack is in /admin/crashes)' : ''}`);
    // A flush that hangs must not keep a broken process alive.
    setTimeout(() => process.exit(1), 2000).unref();
    void (opts.flush?.() ?? Promise.resolve()).catch(() => undefined).finally(() => process.exit(1));
  };
  process.on('uncaughtException', onFatal);
  return () => process.off('uncaughtException', onFatal);
}
