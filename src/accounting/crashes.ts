/**
 * @module Our own faults (uncaught errors, 5xx we caused, worker restarts) with the request id and
 * the stack, for `GET /admin/crashes`. The stack is kept only here, never in a log line or an answer.
 * Written at once (faults are rare), capped per minute so a bug on every request cannot flood SQLite.
 */
import type { CrashKind, CrashRow, CrashStore } from '../store/crashes.js';
import { redactText } from '../log.js';

export interface CrashContext {
  kind?: CrashKind;
  requestId?: string;
  /** Method and path, e.g. `POST /v1/chat/completions`. */
  route?: string;
}

export class CrashLog {
  private windowStart = 0;
  private inWindow = 0;
  /** Faults not written because the per-minute cap was reached. */
  suppressed = 0;

  constructor(
    private readonly store: CrashStore,
    private readonly perMinute = 60,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Never throws: a failing crash record must not turn into another crash. */
  record(err: unknown, ctx: CrashContext = {}): void {
    const now = this.clock();
    if (now - this.windowStart >= 60_000) {
      this.windowStart = now;
      this.inWindow = 0;
    }
    if (++this.inWindow > this.perMinute) {
      this.suppressed++;
      return;
    }
    const e = err instanceof Error ? err : new Error(String(err));
    try {
      this.store.add({
        ts: now,
        kind: ctx.kind ?? 'unhandled',
        request_id: ctx.requestId ?? null,
        route: ctx.route ?? null,
        name: e.name,
        // Redacted: a key inside an error message must not sit in the database either.
        message: redactText(String(e.message)).slice(0, 2000),
        stack: e.stack ? redactText(e.stack).slice(0, 16_000) : null,
      });
    } catch {
      // The database is busy or closed: the fault is lost, the server keeps going.
    }
  }

  list(limit: number): CrashRow[] {
    return this.store.list(limit);
  }
}
