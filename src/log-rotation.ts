/**
 * @module A log file that rotates by size, usable as a pino destination: before a write would take
 * `aisbf.log` past maxBytes it is renamed to `aisbf.log.1` (older ones shift up to `.maxFiles`, the
 * oldest is dropped) and a new file is started. Writes are asynchronous and batched; rotation happens
 * only between writes, so every line lands whole in exactly one file.
 */
import { closeSync, mkdirSync, openSync, renameSync, rmSync, statSync, write, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export interface RotatingFileOptions {
  path: string;
  /** A file is rotated before a write would take it past this many bytes. */
  maxBytes: number;
  /** How many rotated files to keep (`.1` … `.maxFiles`). */
  maxFiles: number;
}

export class RotatingFileStream {
  readonly path: string;
  private readonly maxBytes: number;
  private readonly maxFiles: number;
  private fd: number;
  private size: number;
  private queue: Buffer[] = [];
  private writing = false;
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  private reportedError = false;

  constructor(opts: RotatingFileOptions) {
    if (!(opts.maxBytes > 0) || !Number.isInteger(opts.maxFiles) || opts.maxFiles < 1) {
      throw new RangeError(`log rotation needs maxBytes > 0 and maxFiles >= 1 (got ${opts.maxBytes}, ${opts.maxFiles})`);
    }
    this.path = opts.path;
    this.maxBytes = opts.maxBytes;
    this.maxFiles = opts.maxFiles;
    mkdirSync(dirname(opts.path), { recursive: true, mode: 0o700 });
    this.fd = openSync(opts.path, 'a', 0o600);
    this.size = statSync(opts.path).size;
  }

  /** Queues a chunk (pino hands over whole lines); never blocks. */
  write(chunk: string): boolean {
    if (this.closed) return false;
    this.queue.push(Buffer.from(chunk));
    if (!this.writing) this.drain();
    return true;
  }

  /** Calls back once everything queued so far is in the file. */
  flush(cb?: (err?: Error) => void): void {
    void this.idle().then(() => cb?.());
  }

  /**
   * At exit: writes what is queued synchronously (an asynchronous write already under way finishes
   * on its own thread). Rotation is left for the next start.
   */
  flushSync(): void {
    if (this.closed || this.fd < 0) return;
    for (const buf of this.queue.splice(0)) {
      let off = 0;
      while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
      this.size += buf.length;
    }
  }

  /** Writes what is queued and closes the file. */
  async end(): Promise<void> {
    await this.idle();
    if (this.closed) return;
    this.closed = true;
    if (this.fd >= 0) closeSync(this.fd);
  }

  private idle(): Promise<void> {
    if (!this.writing && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private drain(): void {
    const first = this.queue[0];
    if (!first) {
      this.writing = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
      return;
    }
    this.writing = true;
    if (this.size > 0 && this.size + first.length > this.maxBytes) this.rotate();
    if (this.fd < 0 && !this.reopen()) {
      this.queue = []; // nowhere to write; reported once, try again with the next line
      return this.drain();
    }
    // Take whole lines while they fit in what is left of this file (always at least one).
    let bytes = 0;
    let count = 0;
    while (count < this.queue.length && (count === 0 || this.size + bytes + this.queue[count]!.length <= this.maxBytes)) {
      bytes += this.queue[count]!.length;
      count++;
    }
    const batch = count === 1 ? first : Buffer.concat(this.queue.slice(0, count), bytes);
    this.queue.splice(0, count);
    this.writeAll(batch, () => {
      this.size += batch.length;
      this.drain();
    });
  }

  private writeAll(buf: Buffer, done: () => void): void {
    write(this.fd, buf, 0, buf.length, null, (err, n) => {
      if (err) {
        this.reportError(err);
        return done(); // the batch is lost; later lines still get their chance
      }
      if (n < buf.length) return this.writeAll(buf.subarray(n), done);
      done();
    });
  }

  private rotate(): void {
    try {
      if (this.fd >= 0) closeSync(this.fd);
      rmSync(`${this.path}.${this.maxFiles}`, { force: true });
      for (let i = this.maxFiles - 1; i >= 1; i--) renameIfExists(`${this.path}.${i}`, `${this.path}.${i + 1}`);
      renameIfExists(this.path, `${this.path}.1`);
    } catch (err) {
      this.reportError(err as Error);
    }
    this.fd = -1;
    this.reopen();
  }

  /** Opens (or re-creates) the file; false if that is impossible right now. */
  private reopen(): boolean {
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      this.fd = openSync(this.path, 'a', 0o600);
      this.size = statSync(this.path).size;
      return true;
    } catch (err) {
      this.reportError(err as Error);
      return false;
    }
  }

  private reportError(err: Error): void {
    // A log that cannot be written must not take the server down; say it once on stderr.
    if (this.reportedError) return;
    this.reportedError = true;
    process.stderr.write(`aisbf: cannot write the log file ${this.path}: ${err.message}\n`);
  }
}

function renameIfExists(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
