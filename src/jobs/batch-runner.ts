/**
 * @module The batch runner: validates new batches, runs their lines (and /api/chat jobs) a bounded
 * number at a time, and writes the output and error files. Each line is the request its client would
 * have sent, called in process through aisbf's own route for the endpoint (server/in-process-call.ts),
 * so it takes runRequest's stages (identity, limits, admission at `low` priority, cache, plan,
 * attempts, accounting) as the batch's creator. A line's outcome is committed (store/batch-lines.ts) before anything reports it; a crash
 * leaves running lines to run again and finished ones never.
 *
 * One runner per database: every process may start one, but only the holder of the database's
 * runner lease works (cluster workers: one at a time; a dead one's lease lapses and another takes over).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { callInProcess, type InProcessAnswer } from '../server/in-process-call.js';
import { HttpError } from '../errors/http-error.js';
import type { Logger } from 'pino';
import type { AppEnv } from '../server/app-env.js';
import type { Identity } from '../pipeline/request-meta.js';
import type { Runtime } from '../runtime.js';
import type { Db } from '../store/db.js';
import type { ClaimedLine, LineOutcome, LineRef } from '../store/batch-lines.js';
import type { BatchRow, BatchStatus } from '../store/batch-store.js';
import { filesDir, jobStores, type JobStores } from './jobs-stores.js';
import { openForLines, readRange } from './read-lines.js';
import type { FileHandle } from 'node:fs/promises';
import { validateBatchFile, type BatchLineError } from './validate-batch-lines.js';

export interface BatchRunnerOptions {
  db: Db;
  runtime(): Runtime;
  log: Logger;
  /** The server's app: lines are replayed through its routes, in process. */
  app: Hono<AppEnv>;
  /** Turns the creator's stored identity into the live one (scope, limits; revoked keys refused). */
  identity?: { stillValid(stored: Identity): Identity };
  /** How often the runner looks for new work when idle (ms). Default 250. */
  pollMs?: number;
  /** How long a claimed line is held without a renewal (ms). Default 60 s. */
  leaseMs?: number;
  /**
   * Take the runner lease at once (a single process: no one else can hold it). Otherwise (cluster
   * workers) wait for the holder's lease to lapse. Default true.
   */
  sole?: boolean;
}

/** The runner lease: renewed every few polls; a dead holder is replaced after this long. */
const RUNNER_LEASE_MS = 10_000;

/** What every line of one batch shares, read once per batch. */
interface LineContext {
  batch: BatchRow;
  identity: Identity | undefined;
  inputPath: string | undefined;
  /** The input file, opened once for all the batch's lines. */
  input?: Promise<FileHandle>;
  /** The creator's live identity, looked up again every few seconds (a revoked key stops the batch's lines). */
  live?: { identity: Identity | undefined; error?: HttpError; at: number };
}

/** How long a batch's looked-up identity is trusted before it is looked up again. */
const IDENTITY_RECHECK_MS = 5_000;

interface InFlight {
  line: ClaimedLine;
  ctl: AbortController;
}

/** A claimed line waiting for a free slot; a batch line's text comes from one read of its chunk of the file. */
interface ReadyLine extends ClaimedLine {
  chunk?: { from: number; bytes: Promise<Buffer> };
}

/**
 * Lines are claimed ahead of the free slots, in one transaction, but only as many as the runner gets
 * through in this long at its current pace (a newly created high-priority batch waits at most about
 * this long behind the lines already claimed), and never more than CLAIM_MAX.
 */
const CLAIM_AHEAD_MS = 50;
const CLAIM_MAX = 128;
/** One read of the input file serves a chunk of claimed lines up to this many bytes. */
const CHUNK_READ_MAX = 8 * 1024 * 1024;
/** Finished lines commit together: after this long, or at this many. */
const COMMIT_EVERY_MS = 10;
const COMMIT_MAX = 256;

const INSERT_CHUNK = 1000;
const RESULT_PAGE = 1000;
const CLEANUP_EVERY_MS = 3_600_000;
/** Backoff between attempts when the upstream gave no Retry-After. */
const BASE_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;

const lineKey = (l: { batchId: string; lineNo: number }) => `${l.batchId}#${l.lineNo}`;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function errorsObject(data: BatchLineError[]): string {
  return JSON.stringify({ object: 'list', data });
}

export class BatchRunner {
  /** This runner's lease owner id. */
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly stores: JobStores;
  private readonly inFlight = new Map<string, InFlight>();
  /** Claimed (leased to this runner), not started yet. */
  private ready: ReadyLine[] = [];
  /** Finished lines whose outcomes are committed together (COMMIT_EVERY_MS). */
  private done: Array<{ line: ClaimedLine; outcome: LineOutcome }> = [];
  private commitTimer: NodeJS.Timeout | undefined;
  /** Moving average of a line's time, for how far ahead to claim. */
  private lineMs = 1000;
  /** Output line ids: this runner's random prefix and a counter (one randomBytes per process, not per line). */
  private readonly reqIdPrefix = randomBytes(6).toString('hex');
  private reqIdSeq = 0;
  private readonly contexts = new Map<string, LineContext>();
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private ticking = false;
  private lastRenew = 0;
  private lastCleanup = 0;
  private idle: Array<() => void> = [];
  private holding = false;
  private lastHold = 0;

  constructor(private readonly opts: BatchRunnerOptions) {
    this.stores = jobStores(opts.db);
    this.pollMs = opts.pollMs ?? 250;
    this.leaseMs = opts.leaseMs ?? 60_000;
  }

  /** Starts working (once it holds the runner lease). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedule(0);
  }

  /** Holds (or takes) the runner lease; on taking it, lines left running by the previous holder are pending again. */
  private hold(now: number): boolean {
    if (this.holding && now - this.lastHold < RUNNER_LEASE_MS / 4) return true;
    const held = this.stores.batches.holdRunner(this.owner, RUNNER_LEASE_MS, !this.holding && this.opts.sole !== false, now);
    if (held && !this.holding) {
      const requeued = this.stores.batches.lines.requeueRunning();
      if (requeued) this.opts.log.info({ lines: requeued }, 'batch lines interrupted by a restart are pending again');
    }
    this.holding = held;
    this.lastHold = now;
    return held;
  }

  /** Stops claiming, gives back the lines in flight (pending again, to run after a restart). */
  async stop(): Promise<void> {
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const f of this.inFlight.values()) f.ctl.abort();
    if (this.inFlight.size) await new Promise<void>((resolve) => this.idle.push(resolve));
    this.commit();
    this.giveBack(() => true);
    for (const id of [...this.contexts.keys()]) this.forget(id);
    if (this.holding) this.stores.batches.releaseRunner(this.owner);
    this.holding = false;
  }

  private schedule(ms: number): void {
    if (!this.started) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.ticking || !this.started) return;
    this.ticking = true;
    try {
      if (!this.hold(Date.now())) return;
      const { batches } = this.stores;
      for (const b of batches.withStatus('validating')) await this.validate(b);
      for (const b of batches.withStatus('cancelling')) await this.windDown(b);
      for (const b of batches.withStatus('in_progress')) if (b.completed + b.failed >= b.total) await this.finalize(b, 'in_progress');
      // A crash while writing the results: write them again.
      for (const b of batches.withStatus('finalizing')) await this.finalize(b, 'finalizing');
      this.fill();
      const now = Date.now();
      if (now - this.lastRenew > this.leaseMs / 3) this.renew(now);
      if (now - this.lastCleanup > CLEANUP_EVERY_MS) this.cleanup(now);
    } catch (err) {
      this.opts.log.error({ err: { message: (err as Error).message } }, 'batch runner pass failed; retrying');
    } finally {
      this.ticking = false;
      this.schedule(this.pollMs);
    }
  }

  /** Starts lines while slots are free (batches.max_concurrent_lines), claiming more when none is ready. */
  private fill(): void {
    if (!this.started || !this.holding) return;
    const max = this.opts.runtime().config.aisbf.batches.max_concurrent_lines;
    while (this.inFlight.size < max) {
      if (this.ready.length === 0 && !this.claim(max - this.inFlight.size, max)) return;
      this.launch(this.ready.shift()!);
    }
  }

  /** Claims at least `free` lines, more when lines are quick (CLAIM_AHEAD_MS); false when there is no work. */
  private claim(free: number, max: number): boolean {
    const want = Math.max(free, Math.min(CLAIM_MAX, Math.ceil((max * CLAIM_AHEAD_MS) / this.lineMs)));
    const lines: ReadyLine[] = this.stores.batches.leases.claim(this.owner, want, this.leaseMs);
    if (lines.length === 0) return false;
    // Claimed lines come in line order, i.e. in file order: the lines of a batch that follow each
    // other are read in one go (up to CHUNK_READ_MAX bytes). /api/chat jobs carry their body inline.
    for (let i = 0; i < lines.length; ) {
      const first = lines[i]!;
      let j = i + 1;
      if (first.body !== null) {
        i = j;
        continue;
      }
      const fits = (l: ReadyLine) => l.batchId === first.batchId && l.body === null && l.offset >= first.offset && l.offset + l.length - first.offset <= CHUNK_READ_MAX;
      while (j < lines.length && fits(lines[j]!)) j++;
      const last = lines[j - 1]!;
      const chunk = { from: first.offset, bytes: this.readChunk(first.batchId, first.offset, last.offset + last.length - first.offset) };
      // A failed read is seen (and reported) by each line; no unhandled rejection meanwhile.
      chunk.bytes.catch(() => undefined);
      for (let k = i; k < j; k++) lines[k]!.chunk = chunk;
      i = j;
    }
    this.ready.push(...lines);
    return true;
  }

  private async readChunk(batchId: string, offset: number, length: number): Promise<Buffer> {
    const ctx = this.contextOf(batchId);
    if (!ctx?.inputPath) throw new Error('no input file');
    ctx.input ??= openForLines(ctx.inputPath);
    return readRange(await ctx.input, offset, length);
  }

  /** Gives claimed lines that have not started back to the queue (shutdown, a cancelled batch). */
  private giveBack(which: (l: ReadyLine) => boolean): void {
    const back = this.ready.filter(which);
    if (back.length === 0) return;
    this.ready = this.ready.filter((l) => !which(l));
    this.stores.batches.leases.release(
      this.owner,
      back.map((line) => ({ line, attempts: line.attempts })),
    );
  }

  private launch(line: ReadyLine): void {
    const f: InFlight = { line, ctl: new AbortController() };
    const key = lineKey(line);
    this.inFlight.set(key, f);
    const t0 = performance.now();
    this.runLine(line, f.ctl.signal)
      .catch((err: unknown) => this.opts.log.error({ batch: line.batchId, line: line.lineNo, err: { message: (err as Error).message } }, 'batch line failed in aisbf'))
      .finally(() => {
        this.inFlight.delete(key);
        this.lineMs += (performance.now() - t0 - this.lineMs) / 8;
        if (this.inFlight.size === 0) for (const r of this.idle.splice(0)) r();
        if (this.started) this.fill();
      });
  }

  /**
   * Queues a finished line's outcome; the lines that finish within COMMIT_EVERY_MS commit together
   * (one transaction instead of one per line). A crash before the commit runs those lines again,
   * as it would a line still waiting for its answer: nothing has reported them yet.
   */
  private finish(line: ClaimedLine, outcome: LineOutcome): void {
    this.done.push({ line, outcome });
    if (this.done.length >= COMMIT_MAX) return this.commit();
    if (this.commitTimer) return;
    this.commitTimer = setTimeout(() => this.commit(), COMMIT_EVERY_MS);
  }

  /** Commits the finished lines (nothing reports a line before this); a batch whose last line it was is finalized now. */
  private commit(): void {
    clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    const done = this.done;
    if (done.length === 0) return;
    this.done = [];
    let lost: LineRef[];
    try {
      lost = this.stores.batches.leases.complete(this.owner, done);
    } catch (err) {
      // Not committed: the lines stay running under our lease and run again after it lapses.
      this.opts.log.error({ lines: done.length, err: { message: (err as Error).message } }, 'committing finished batch lines failed; they will run again');
      return;
    }
    for (const l of lost) this.opts.log.warn({ batch: l.batchId, line: l.lineNo }, 'batch line lease lost before its result was committed; it runs again elsewhere');
    const touched = new Set(done.map((d) => d.line.batchId));
    for (const id of touched) {
      const b = this.stores.batches.get(id);
      if (b && b.completed + b.failed >= b.total) this.schedule(0);
    }
  }

  /** Drops a batch's context and closes its input file. */
  private forget(batchId: string): void {
    const ctx = this.contexts.get(batchId);
    this.contexts.delete(batchId);
    void ctx?.input?.then((fh) => fh.close()).catch(() => undefined);
  }

  private contextOf(batchId: string): LineContext | undefined {
    let ctx = this.contexts.get(batchId);
    if (ctx) return ctx;
    const batch = this.stores.batches.get(batchId);
    if (!batch) return undefined;
    const identity = JSON.parse(batch.identity) as Identity | null;
    const inputPath = batch.input_file_id ? this.stores.files.get(batch.input_file_id)?.path : undefined;
    ctx = { batch, identity: identity ?? undefined, inputPath };
    this.contexts.set(batchId, ctx);
    return ctx;
  }

  private async runLine(line: ReadyLine, signal: AbortSignal): Promise<void> {
    const ctx = this.contextOf(line.batchId);
    let outcome: LineOutcome | undefined;
    let text: string | undefined;
    try {
      if (line.body !== null) text = line.body;
      else if (line.chunk) {
        const at = line.offset - line.chunk.from;
        const bytes = await line.chunk.bytes;
        if (at + line.length <= bytes.length) text = bytes.toString('utf8', at, at + line.length);
      }
    } catch {
      text = undefined;
    }
    let request: { custom_id: string; body: Record<string, unknown> } | undefined;
    try {
      request = text === undefined ? undefined : (JSON.parse(text) as typeof request);
    } catch {
      request = undefined; // the file changed under us: reported as unreadable below
    }
    if (!ctx || !request) outcome = this.failure(line, line.attempts, 'input_unavailable', 'The input line could not be read back (the input file was deleted or changed).');
    else {
      try {
        outcome = await this.execute(ctx, line, request.body, signal);
      } catch (err) {
        // Our own fault: the line ends with it (never retried, never blamed on the provider).
        if (signal.aborted) outcome = undefined;
        else {
          this.opts.log.error({ batch: line.batchId, line: line.lineNo, err: { message: (err as Error).message } }, 'batch line failed in aisbf');
          outcome = this.failure(line, line.attempts + 1, 'internal_error', 'aisbf failed to run this line (see /admin/crashes).');
        }
      }
    }
    if (!outcome) {
      this.stores.batches.leases.release(this.owner, [{ line, attempts: line.attempts }]);
      return;
    }
    this.finish(line, outcome);
  }

  /** An output line's id: OpenAI's `batch_req_` and a unique suffix. */
  private reqId(): string {
    return `batch_req_${this.reqIdPrefix}${(this.reqIdSeq++).toString(16).padStart(12, '0')}`;
  }

  /** A line's attempts: provider failures (429, 5xx) are retried up to batches.max_attempts; client errors never. */
  private async execute(ctx: LineContext, line: ClaimedLine, body: Record<string, unknown>, signal: AbortSignal): Promise<LineOutcome | undefined> {
    const max = this.opts.runtime().config.aisbf.batches.max_attempts;
    const { batch } = ctx;
    // Batch results are JSON documents: a line asking for a stream gets the whole answer instead.
    const payload = JSON.stringify(body.stream === true ? { ...body, stream: false } : body);
    const requestId = `${batch.id}-${line.lineNo}`;
    let attempts = line.attempts;
    const who = this.liveIdentity(ctx);
    if (who.error) {
      const e = who.error;
      const body = { error: { message: e.message, type: e.options.type ?? 'authentication_error', param: null, code: e.options.code ?? null } };
      return { ok: false, statusCode: e.status, attempts: attempts + 1, result: JSON.stringify({ id: this.reqId(), custom_id: line.customId, response: { status_code: e.status, request_id: requestId, body }, error: null }) };
    }
    for (;;) {
      attempts++;
      let res: InProcessAnswer;
      try {
        res = await callInProcess(this.opts.app, {
          path: `${batch.base}${batch.endpoint.slice(3)}`,
          headers: { 'content-type': 'application/json', 'x-priority': batch.priority, 'x-client-id': batch.client_id, 'x-request-id': requestId },
          bodyText: payload,
          signal,
          ...(who.identity ? { identity: who.identity } : {}),
        });
      } catch (err) {
        if (signal.aborted) return undefined;
        return this.failure(line, attempts, 'internal_error', `aisbf could not run this line: ${(err as Error).message}`);
      }
      if (signal.aborted) return undefined;
      let json: unknown = res.text;
      try {
        json = JSON.parse(res.text);
      } catch {
        // not JSON: kept as text
      }
      const ok = res.status >= 200 && res.status < 300;
      const code = (json as { error?: { code?: unknown } } | null)?.error?.code;
      // Our own faults (internal_error) are not the provider's: no retry for them either.
      const retryable = !ok && (res.status === 429 || res.status >= 500) && code !== 'internal_error';
      if (retryable && attempts < max) {
        const after = Number(res.header('retry-after'));
        await sleep(Number.isFinite(after) && after > 0 ? Math.min(after * 1000, MAX_BACKOFF_MS) : Math.min(BASE_BACKOFF_MS * 2 ** (attempts - 1), MAX_BACKOFF_MS), signal);
        if (signal.aborted) return undefined;
        continue;
      }
      return {
        ok,
        statusCode: res.status,
        attempts,
        result: JSON.stringify({
          id: this.reqId(),
          custom_id: line.customId,
          response: { status_code: res.status, request_id: res.header('x-request-id') ?? requestId, body: json },
          error: null,
        }),
      };
    }
  }

  /** The creator as they are now; a key revoked since the batch was made answers its lines 401. */
  private liveIdentity(ctx: LineContext): { identity: Identity | undefined; error?: HttpError } {
    const now = Date.now();
    if (ctx.live && now - ctx.live.at < IDENTITY_RECHECK_MS) return ctx.live;
    let live: LineContext['live'];
    try {
      live = { identity: ctx.identity && this.opts.identity ? this.opts.identity.stillValid(ctx.identity) : ctx.identity, at: now };
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      live = { identity: undefined, error: err, at: now };
    }
    ctx.live = live;
    return live;
  }

  /** A line that ended without any HTTP answer (OpenAI's top-level `error`). */
  private failure(line: ClaimedLine, attempts: number, code: string, message: string): LineOutcome {
    return {
      ok: false,
      statusCode: 0,
      attempts,
      result: JSON.stringify({ id: this.reqId(), custom_id: line.customId, response: null, error: { code, message } }),
    };
  }

  /** Streams the input file into batch_lines; any bad line fails the batch with OpenAI's `errors`. */
  private async validate(b: BatchRow): Promise<void> {
    const { batches, files } = this.stores;
    const rt = this.opts.runtime();
    const file = b.input_file_id ? files.get(b.input_file_id) : undefined;
    const fail = (errors: BatchLineError[]) => {
      batches.lines.deleteOf(b.id);
      batches.transition(b.id, ['validating'], 'failed', { errors: errorsObject(errors) });
    };
    if (!file) return fail([{ code: 'file_not_found', message: `The input file ${b.input_file_id ?? ''} no longer exists.`, param: 'input_file_id', line: null }]);
    // A restart during validation starts it over.
    batches.lines.deleteOf(b.id);
    const dupErrors: BatchLineError[] = [];
    let rows: Array<[string, number, string, number, number, null]> = [];
    const flush = () => {
      // A long file: keep the runner lease while reading it (another worker would otherwise take over).
      this.hold(Date.now());
      for (const d of batches.lines.insertMany(rows))
        dupErrors.push({ code: 'duplicate_custom_id', message: `The custom_id '${d.customId.slice(0, 64)}' is used by an earlier line of this file.`, param: 'custom_id', line: d.lineNo });
      rows = [];
    };
    let errors: BatchLineError[];
    let count: number;
    try {
      ({ errors, lines: count } = await validateBatchFile(file.path, b.endpoint, rt.config.aisbf.server.body_limit_mb * 1024 * 1024, ({ line, customId }) => {
        rows.push([b.id, line.lineNo, customId, line.offset, line.length, null]);
        if (rows.length >= INSERT_CHUNK) flush();
      }));
      flush();
    } catch (err) {
      return fail([{ code: 'file_unreadable', message: `The input file could not be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`, param: 'input_file_id', line: null }]);
    }
    const all = [...errors, ...dupErrors].sort((x, y) => (x.line ?? 0) - (y.line ?? 0)).slice(0, 50);
    if (all.length) return fail(all);
    if (!batches.transition(b.id, ['validating'], 'in_progress', { total: count })) batches.lines.deleteOf(b.id);
    this.opts.log.info({ batch: b.id, lines: count }, 'batch validated');
  }

  /** A cancelled batch: stop its lines here; when none runs, write what finished and mark it cancelled. */
  private async windDown(b: BatchRow): Promise<void> {
    this.giveBack((l) => l.batchId === b.id);
    let running = 0;
    for (const f of this.inFlight.values())
      if (f.line.batchId === b.id) {
        f.ctl.abort();
        running++;
      }
    if (running === 0) await this.finalize(b, 'cancelling');
  }

  /** Writes the output and error files page by page from the committed lines, then the final status. */
  private async finalize(b: BatchRow, from: BatchStatus): Promise<void> {
    const { batches, files } = this.stores;
    if (from === 'in_progress') {
      if (!batches.transition(b.id, ['in_progress'], 'finalizing')) return;
      from = 'finalizing';
    }
    const final: BatchStatus = from === 'cancelling' ? 'cancelled' : 'completed';
    if (b.kind === 'job') {
      // An /api/chat job's answer stays in its line (GET /api/requests/{id}); no files.
      batches.transition(b.id, [from], final);
      this.forget(b.id);
      return;
    }
    const dir = filesDir(this.opts.runtime());
    const hex = b.id.replace(/^batch_/, '');
    const out = { id: `file-out-${hex}`, path: join(dir, `${b.id}_output.jsonl`), n: 0, bytes: 0 };
    const err = { id: `file-err-${hex}`, path: join(dir, `${b.id}_error.jsonl`), n: 0, bytes: 0 };
    const outFh = await open(out.path, 'w', 0o600).catch((e: unknown) => e as Error);
    const errFh = await open(err.path, 'w', 0o600).catch((e: unknown) => e as Error);
    try {
      if (outFh instanceof Error) throw outFh;
      if (errFh instanceof Error) throw errFh;
      for (let after = 0; ; ) {
        const page = batches.lines.resultsPage(b.id, after, RESULT_PAGE);
        if (page.length === 0) break;
        let o = '';
        let e = '';
        for (const r of page) {
          if (r.ok) (o += r.result + '\n'), out.n++;
          else (e += r.result + '\n'), err.n++;
        }
        if (o) out.bytes += (await outFh.write(o)).bytesWritten;
        if (e) err.bytes += (await errFh.write(e)).bytesWritten;
        after = page[page.length - 1]!.lineNo;
      }
      await outFh.sync();
      await errFh.sync();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      this.opts.log.error({ batch: b.id, code }, 'writing the batch results failed');
      await Promise.all([outFh, errFh].map((fh) => (fh instanceof Error ? undefined : fh.close().catch(() => undefined))));
      await Promise.all([rm(out.path, { force: true }), rm(err.path, { force: true })]).catch(() => undefined);
      const now = batches.get(b.id) ?? b;
      const reason = code === 'ENOSPC' ? 'ENOSPC: no space left on device' : (code ?? (e as Error).message);
      batches.transition(b.id, [from], 'failed', {
        errors: errorsObject([
          {
            code: 'output_write_failed',
            message: `Writing the batch results failed (${reason}). The ${now.completed + now.failed} lines that finished are kept in aisbf's database; no output file was made.`,
            param: null,
            line: null,
          },
        ]),
      });
      this.forget(b.id);
      return;
    }
    await outFh.close();
    await errFh.close();
    const now = Math.floor(Date.now() / 1000);
    const owner = b.owner;
    if (out.n) files.insert({ id: out.id, filename: `${b.id}_output.jsonl`, purpose: 'batch_output', bytes: out.bytes, path: out.path, owner, created_at: now, status: 'processed', status_details: null });
    else await rm(out.path, { force: true });
    if (err.n) files.insert({ id: err.id, filename: `${b.id}_error.jsonl`, purpose: 'batch_output', bytes: err.bytes, path: err.path, owner, created_at: now, status: 'processed', status_details: null });
    else await rm(err.path, { force: true });
    batches.transition(b.id, [from], final, { output_file_id: out.n ? out.id : null, error_file_id: err.n ? err.id : null });
    this.forget(b.id);
    this.opts.log.info({ batch: b.id, status: final, completed: out.n, failed: err.n }, 'batch finished');
  }

  /** Keeps the leases of the lines in flight; a line whose lease went elsewhere stops here. */
  private renew(now: number): void {
    this.lastRenew = now;
    if (this.inFlight.size === 0 && this.ready.length === 0) return;
    const lost = this.stores.batches.leases.renew(this.owner, [...[...this.inFlight.values()].map((f) => f.line), ...this.ready], this.leaseMs, now);
    for (const l of lost) this.inFlight.get(lineKey(l))?.ctl.abort();
    if (lost.length) {
      const gone = new Set(lost.map(lineKey));
      this.ready = this.ready.filter((l) => !gone.has(lineKey(l)));
    }
  }

  /** /api/chat jobs older than history.retention_days go. */
  private cleanup(now: number): void {
    this.lastCleanup = now;
    const days = this.opts.runtime().config.aisbf.history.retention_days;
    const n = this.stores.batches.deleteJobsOlderThan(Math.floor(now / 1000 - days * 86_400), 10_000);
    if (n) this.opts.log.info({ deleted: n }, 'old /api/chat jobs removed');
  }
}
