/**
 * @module PDF → one PNG per page, at a requested long side, under a pixel limit per page. Pages are
 * rendered by pdf.js in a small pool of worker threads (started on first use, stopped when idle),
 * so a document never blocks the event loop; a render that stops making progress, or whose client
 * left, is ended by terminating its thread. Encrypted, corrupt and over-long PDFs become a
 * DocumentError (400).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DocumentError } from './document-error.js';
import type { RenderJob, WorkerReply } from './pdf-render-protocol.js';

export interface RenderedPage {
  /** 1-based page number. */
  page: number;
  data: Buffer;
  width: number;
  height: number;
  mime: 'image/png';
}

export interface RenderPdfOptions {
  /** Long side of each page image, in pixels. */
  longSide: number;
  /** Pixel limit of one page image (default 16 M ≈ 4000 × 4000). */
  maxPixels?: number;
  /** More pages than this: DocumentError too_many_pages, before any page is rendered. */
  maxPages: number;
  /** The client's signal: when it aborts, the render stops. */
  signal?: AbortSignal;
}

export interface RenderedPdf {
  pageCount: number;
  pages: RenderedPage[];
}

export const DEFAULT_PAGE_MAX_PIXELS = 16_000_000;
/** A render that shows no progress for this long is stopped (a pathological document). */
const STALL_MS = 30_000;
/** Idle workers are stopped after this long (each holds pdf.js and its caches, ~50 MB). */
const IDLE_MS = 60_000;
const POOL_SIZE = Math.max(1, Math.min(2, availableParallelism() - 1));
/** Bounds a worker's JS heap: a document that needs more is refused, the gateway keeps running. */
const WORKER_HEAP_MB = 512;

interface PooledWorker {
  worker: Worker;
  idleTimer?: NodeJS.Timeout;
}

const idle: PooledWorker[] = [];
const waiting: Array<(w: PooledWorker) => void> = [];
let live = 0;
let nextId = 1;

/** tsx's ESM register API (test runs only): its `import` export, which a require.resolve would not give. */
function tsxEsmApi(from: string): string {
  const pkgPath = createRequire(from).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  return pathToFileURL(join(dirname(pkgPath), pkg.exports['./esm/api']!.import.default)).href;
}

function spawn(): PooledWorker {
  const self = import.meta.url;
  const resourceLimits = { maxOldGenerationSizeMb: WORKER_HEAP_MB };
  // Tests run the TypeScript sources: the worker then registers tsx's loader before importing its
  // entry (node 20 does not apply `--import` hooks to a worker's own entry). The build runs .js.
  const worker = self.endsWith('.ts')
    ? new Worker(
        `import(${JSON.stringify(tsxEsmApi(self))})` +
          `.then((m) => { m.register(); return import(${JSON.stringify(new URL('./pdf-render-worker.ts', self).href)}); })`,
        { eval: true, resourceLimits },
      )
    : new Worker(new URL('./pdf-render-worker.js', self), { resourceLimits });
  worker.unref();
  live++;
  worker.once('exit', () => {
    live--;
    const i = idle.findIndex((p) => p.worker === worker);
    if (i >= 0) idle.splice(i, 1);
    // A terminated worker's place goes to a fresh one if a render waits for it.
    const next = waiting.shift();
    if (next) next(spawn());
  });
  return { worker };
}

function acquire(): Promise<PooledWorker> {
  const w = idle.pop();
  if (w) {
    clearTimeout(w.idleTimer);
    return Promise.resolve(w);
  }
  if (live < POOL_SIZE) return Promise.resolve(spawn());
  return new Promise((resolve) => waiting.push(resolve));
}

function release(w: PooledWorker): void {
  const next = waiting.shift();
  if (next) return next(w);
  w.idleTimer = setTimeout(() => void w.worker.terminate(), IDLE_MS).unref();
  idle.push(w);
}

/** A worker that was stopped mid-render or died; its 'exit' hands its place on. */
function discard(w: PooledWorker): void {
  void w.worker.terminate();
}

/** Renders every page of a PDF (after checking the page count against `maxPages`). */
export function renderPdfPages(bytes: Uint8Array, opts: RenderPdfOptions): Promise<RenderedPdf> {
  return runJob(bytes, { longSide: opts.longSide, maxPixels: opts.maxPixels ?? DEFAULT_PAGE_MAX_PIXELS, maxPages: opts.maxPages }, opts.signal);
}

/**
 * Opens a PDF and counts its pages without rendering any: a PDF sent to a model that reads it
 * natively is still refused here when it is encrypted, corrupt or over `maxPages`.
 */
export async function countPdfPages(bytes: Uint8Array, opts: { maxPages: number; signal?: AbortSignal }): Promise<number> {
  const r = await runJob(bytes, { longSide: 1, maxPixels: 1, maxPages: opts.maxPages, countOnly: true }, opts.signal);
  return r.pageCount;
}

async function runJob(bytes: Uint8Array, spec: Omit<RenderJob, 'id' | 'bytes'>, signal: AbortSignal | undefined): Promise<RenderedPdf> {
  signal?.throwIfAborted();
  const w = await acquire();
  // The client may have left while this waited for a worker.
  if (signal?.aborted) {
    release(w);
    signal.throwIfAborted();
  }
  const id = nextId++;
  const job: RenderJob = { ...spec, id, bytes };
  const pages: RenderedPage[] = [];
  let pageCount = 0;
  return new Promise<RenderedPdf>((resolve, reject) => {
    let stall: NodeJS.Timeout;
    const armStall = () => {
      clearTimeout(stall);
      stall = setTimeout(() => finish(new DocumentError('corrupt_pdf', 'the PDF could not be rendered in time (stalled)'), true), STALL_MS);
    };
    const onAbort = () => finish(signal!.reason ?? new Error('aborted'), true);
    const onError = () => finish(new DocumentError('corrupt_pdf', 'the PDF could not be rendered (the renderer ran out of memory or failed)'), true);
    const onMessage = (m: WorkerReply) => {
      if (m.id !== id) return;
      armStall();
      if (m.type === 'info') pageCount = m.pageCount;
      else if (m.type === 'page') pages.push({ page: m.page, data: Buffer.from(m.data), width: m.width, height: m.height, mime: 'image/png' });
      else if (m.type === 'done') finish(undefined, false);
      else finish(new DocumentError(m.code, m.message), false);
    };
    let settled = false;
    const finish = (err: unknown, broken: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(stall);
      w.worker.off('message', onMessage);
      w.worker.off('error', onError);
      w.worker.off('exit', onError);
      signal?.removeEventListener('abort', onAbort);
      if (broken) discard(w);
      else release(w);
      if (err) reject(err);
      else resolve({ pageCount, pages });
    };
    w.worker.on('message', onMessage);
    w.worker.once('error', onError);
    w.worker.once('exit', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
    armStall();
    // A copy goes to the worker: the caller keeps its bytes (a failover may need them again).
    w.worker.postMessage(job);
  });
}
