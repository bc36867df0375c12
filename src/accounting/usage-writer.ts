/**
 * @module Write-behind for usage records: a bounded in-memory queue drained into SQLite every ~250 ms,
 * or on the next turn of the event loop once a batch is full. `push` is O(1) and never waits; a full
 * queue (SQLite stalled or too slow) drops the record and counts it.
 *
 * A write is synchronous (better-sqlite3), so it holds the event loop: ~3 µs a row on the bench host.
 * The scheduled drain therefore writes at most one batch per turn of the loop and leaves the rest for
 * the next turn. With 500 rows a transaction (the first default) every request that arrived during a
 * write waited up to ~1.6 ms (part of the c=1 tail; scavenges are the rest); 100 rows hold it ~0.3 ms
 * at the same cost a row.
 *
 * A written row must not stay reachable from the queue: under concurrent load a drain nearly always
 * leaves a few rows behind, so the array is rarely emptied, and rows kept in its consumed front lived
 * until its front passed 1,024 rows (~170 ms at 6,000 req/s) — across two scavenges, so V8 promoted
 * nearly every one (~0.3–0.5 KB a request at c=16 and c=64, ~55 B since), and that old-space garbage
 * was what grew the c=64 peak within seconds (docs/performance.md).
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
  /** Rows per transaction of the scheduled drain, and the count that starts one without waiting for the timer. Default 100. */
  batchRows?: number;
  /** Longest a record waits in memory. Default 250 ms. */
  intervalMs?: number;
  /** Told how many records were just dropped (the metrics' drop counter). */
  onDrop?: (n: number) => void;
}

export class UsageWriter {
  /**
   * Records waiting are queue[head..]: a drained batch moves `head` instead of copying the rest, and
   * its slots are cleared so that the rows it took can be collected young.
   */
  private queue: Array<UsageRow | undefined> = [];
  private head = 0;
  private readonly sink: UsageSink;
  private readonly log: Logger | undefined;
  private readonly capacity: number;
  private readonly batchRows: number;
  private readonly intervalMs: number;
  private readonly onDrop: ((n: number) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  /** The timer is a busy database's back-off: a full batch does not cut it short. */
  private backingOff = false;
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
    this.batchRows = opts.batchRows ?? 100;
    this.intervalMs = opts.intervalMs ?? 250;
    this.onDrop = opts.onDrop;
  }

  /** Records waiting in memory. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  /** Queues one record; false when it was dropped (queue full or writer closed). Never blocks. */
  push(row: UsageRow): boolean {
    if (this.closed || this.pending >= this.capacity) {
      this.drop(1);
      return false;
    }
    this.queue.push(row);
    this.schedule();
    return true;
  }

  /** Writes everything queued, in one transaction (close, tests). */
  flush(): void {
    this.write(this.pending);
  }

  /** Writes everything queued and stops; later pushes are dropped. */
  close(): void {
    this.flush();
    this.closed = true;
  }

  /** The timer's and the full batch's drain: one batch this turn, the rest on later turns. */
  private readonly drain = (): void => {
    this.write(this.batchRows);
    if (!this.closed) this.schedule();
  };

  /** Next turn when a batch is waiting, else within the interval when anything is. */
  private schedule(): void {
    if (this.immediate || this.backingOff) return;
    if (this.pending >= this.batchRows) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.immediate = setImmediate(this.drain);
    } else if (this.pending > 0 && !this.timer) {
      this.timer = setTimeout(this.drain, this.intervalMs);
      this.timer.unref();
    }
  }

  /**
   * Writes the oldest `max` records. A busy database (another process holds the write lock) keeps
   * them for a later try; any other failure drops them with a count and a (rate-limited) log line.
   */
  private write(max: number): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    this.backingOff = false;
    const batch = this.take(max);
    if (!batch.length) return;
    try {
      this.sink.insert(batch);
      this.written += batch.length;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (!this.closed && (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED')) {
        // Put the batch back in front, within the bound: the newest records beyond it are dropped.
        const keep = batch.concat(this.waiting(this.head));
        if (keep.length > this.capacity) this.drop(keep.length - this.capacity);
        this.queue = keep.length > this.capacity ? keep.slice(0, this.capacity) : keep;
        this.head = 0;
        this.backingOff = true;
        this.timer = setTimeout(this.drain, this.intervalMs);
        this.timer.unref();
      } else {
        this.drop(batch.length);
      }
      this.logError(err as Error, batch.length);
    }
  }

  /**
   * Removes and returns the oldest `max` records. Under a backlog (up to `capacity`, drained a batch a
   * turn) copying the rest each time would be O(backlog) per batch; the consumed front is cut off only
   * once it is most of the array, and until then its slots are cleared (see the module note).
   */
  private take(max: number): UsageRow[] {
    const n = Math.min(max, this.pending);
    if (this.head === 0 && n === this.queue.length) {
      const all = this.queue as UsageRow[];
      this.queue = [];
      return all;
    }
    const from = this.head;
    this.head += n;
    const batch = this.waiting(from, this.head);
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    } else {
      this.queue.fill(undefined, from, this.head);
    }
    return batch;
  }

  /** The rows in queue[from..to], `from` ≥ head: slots are cleared only below head. */
  private waiting(from: number, to = this.queue.length): UsageRow[] {
    return this.queue.slice(from, to) as UsageRow[];
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
