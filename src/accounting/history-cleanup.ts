/**
 * @module Retention of usage records (`history.retention_days`, default 15): hourly, deleting at most
 * a bounded number of the oldest expired rows per run, so a large backlog is worked off over several
 * runs instead of holding the write lock for long.
 */
import type { Logger } from 'pino';
import type { UsageStore } from '../store/usage.js';

export interface HistoryCleanupOptions {
  usage: Pick<UsageStore, 'deleteOlderThan'>;
  /** Read at each run, so a reload takes effect. */
  retentionDays(): number;
  clock?: () => number;
  log?: Logger;
  /** Rows deleted per run at most. Default 50,000. */
  maxRowsPerRun?: number;
  /** Default one hour. */
  intervalMs?: number;
}

export class HistoryCleanup {
  private timer: NodeJS.Timeout | undefined;
  private readonly clock: () => number;
  private readonly maxRows: number;

  constructor(private readonly opts: HistoryCleanupOptions) {
    this.clock = opts.clock ?? Date.now;
    this.maxRows = opts.maxRowsPerRun ?? 50_000;
  }

  /** One run: returns the rows deleted. Never throws (a busy database waits for the next run). */
  runOnce(): number {
    const cutoff = this.clock() - this.opts.retentionDays() * 86_400_000;
    try {
      const n = this.opts.usage.deleteOlderThan(cutoff, this.maxRows);
      if (n > 0) this.opts.log?.info({ deleted: n, before: new Date(cutoff).toISOString() }, 'usage history cleaned');
      return n;
    } catch (err) {
      this.opts.log?.warn({ err: (err as Error).message }, 'usage history cleanup failed; retrying next run');
      return 0;
    }
  }

  start(): void {
    if (this.timer) return;
    // First run shortly after start-up (not during it), then hourly.
    const first = setTimeout(() => {
      this.runOnce();
      this.timer = setInterval(() => this.runOnce(), this.opts.intervalMs ?? 3_600_000);
      this.timer.unref();
    }, 30_000);
    first.unref();
    this.timer = first;
  }

  stop(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      clearInterval(this.timer);
    }
    this.timer = undefined;
  }
}
