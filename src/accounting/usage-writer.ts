/**
 * @module Write-behind for usage records: a bounded in-memory queue drained into SQLite in one
 * transaction every ~250 ms (sooner once a batch is full). `push` is O(1) and never waits; a full
 * queue (SQLite stalled or too slow) drops the record and counts it.
 */
import type { Logger } from 'pino';
import type { UsageRow } from '../store/usage.js';

/** Where batches go: UsageStore.insert (throws on failure). */
export interface UsageSink {
  insert(rows: readonly UsageRow[]): void;
}

export interface UsageWriterOptions {
  sink: UsageSink;
  log?: Logger;
  /** Records kept in memory at most; beyond it new records are dropped and counted. Default 20,000. */
  capacity?: number;
  /** Rows that trigger a flush without waiting for the timer. Default 500. */
  batchRows?: number;
  /** Longest a record waits in memory. Default 250 ms. */
  intervalMs?: number;
  /** Told how many records were just dropped (the metrics' drop counter). */
  onDrop?: (n: number) => void;
}

export class UsageWriter {
  private queue: UsageRow[] = [];
  private readonly sink: UsageSink;
  private readonly log: Logger | undefined;
  private readonly capacity: number;
  private readonly batchRows: number;
  private readonly intervalMs: number;
  private readonly onDrop: ((n: number) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private closed = false;
  private lastErrorLogAt = 0;
  /** Records dropped since start (queue full or a batch SQLite refused for good). */
  dropped = 0;
  /** Records written since start. */
  written = 0;

  constructor(opts: UsageWriterOptions) {
    this.sink = opts.sink;
    this.log = opts.log;
    this.capacity = opts.capacity ?? 20_000;
    this.batchRows = opts.batchRows ?? 500;
    this.intervalMs = opts.intervalMs ?? 250;
    this.onDrop = opts.onDrop;
  }

  /** Records waiting in memory. */
  get pending(): number {
    return this.queue.length;
  }

  /** Queues one record; false when it was dropped (queue full or writer closed). Never blocks. */
  push(row: UsageRow): boolean {
    if (this.closed || this.queue.length >= this.capacity) {
      this.drop(1);
      return false;
    }
    this.queue.push(row);
    if (this.queue.length >= this.batchRows) {
      this.immediate ??= setImmediate(() => this.flush());
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.intervalMs);
      this.timer.unref();
    }
    return true;
  }

  /**
   * Writes everything queued. A busy database (another process holds the write lock) keeps the rows
   * for the next run; any other failure drops the batch with a count and a (rate-limited) log line.
   */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    if (!this.queue.length) return;
    const batch = this.queue;
    this.queue = [];
    try {
      this.sink.insert(batch);
      this.written += batch.length;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (!this.closed && (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED')) {
        // Put the batch back in front, within the bound: the newest records beyond it are dropped.
        const keep = batch.concat(this.queue);
        if (keep.length > this.capacity) this.drop(keep.length - this.capacity);
        this.queue = keep.length > this.capacity ? keep.slice(0, this.capacity) : keep;
        this.timer = setTimeout(() => this.flush(), this.intervalMs);
        this.timer.unref();
      } else {
        this.drop(batch.length);
      }
      this.logError(err as Error, batch.length);
    }
  }

  /** Writes what is queued and stops; later pushes are dropped. */
  close(): void {
    this.flush();
    this.closed = true;
  }

  private drop(n: number): void {
    this.dropped += n;
    this.onDrop?.(n);
  }

  private logError(err: Error, rows: number): void {
    const now = Date.now();
    if (now - this.lastErrorLogAt < 60_000) return;
    this.lastErrorLogAt = now;
    this.log?.error({ err: err.message, rows, dropped_total: this.dropped }, 'writing usage records failed');
  }
}
