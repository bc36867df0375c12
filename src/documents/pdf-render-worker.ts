/**
 * @module Worker-thread entry that renders PDF pages with pdf.js onto @napi-rs/canvas. Rendering is
 * synchronous JavaScript and native drawing (~30–100 ms a page): in a worker it never stalls the
 * gateway's event loop, and a runaway document can be terminated with its thread.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import type { RenderJob, WorkerReply } from './pdf-render-protocol.js';

const pdfjsDir = dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));
// pdf.js joins file names onto these; on node they are plain paths ending in a separator.
const assets = {
  standardFontDataUrl: join(pdfjsDir, 'standard_fonts') + '/',
  cMapUrl: join(pdfjsDir, 'cmaps') + '/',
  wasmUrl: join(pdfjsDir, 'wasm') + '/',
};
const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
/** The canvas (native Skia) comes in with the first page rendered: a page count does not need it. */
let canvasModule: Promise<typeof import('@napi-rs/canvas')> | undefined;

function post(reply: WorkerReply, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(reply, transfer);
}

function classify(err: unknown): { code: 'encrypted_pdf' | 'corrupt_pdf'; message: string } {
  const name = (err as { name?: string } | null)?.name;
  if (name === 'PasswordException') return { code: 'encrypted_pdf', message: 'the PDF is encrypted (password protected); send it unlocked' };
  return { code: 'corrupt_pdf', message: 'the PDF is corrupt or not a PDF that can be read' };
}

async function run(job: RenderJob): Promise<void> {
  const task = pdfjs.getDocument({
    data: job.bytes,
    ...assets,
    cMapPacked: true,
    disableFontFace: true,
    isEvalSupported: false,
    stopAtErrors: true,
    // Embedded images over the pixel limit are not decoded (a bomb inside a page).
    maxImageSize: job.maxPixels,
    verbosity: 0,
  });
  let doc: Awaited<typeof task.promise>;
  try {
    doc = await task.promise;
  } catch (err) {
    post({ id: job.id, type: 'error', ...classify(err) });
    return;
  }
  try {
    post({ id: job.id, type: 'info', pageCount: doc.numPages });
    if (doc.numPages > job.maxPages) {
      post({ id: job.id, type: 'error', code: 'too_many_pages', message: `the PDF has ${doc.numPages} pages, more than the limit of ${job.maxPages}` });
      return;
    }
    if (job.countOnly) {
      post({ id: job.id, type: 'done' });
      return;
    }
    const { createCanvas } = await (canvasModule ??= import('@napi-rs/canvas'));
    // One canvas for the whole document, resized (and so cleared) per page: a page's pixels are
    // freed when the next page starts, not whenever the garbage collector gets to them.
    const canvas = createCanvas(1, 1);
    const ctx = canvas.getContext('2d');
    for (let n = 1; n <= doc.numPages; n++) {
      const page = await doc.getPage(n);
      const base = page.getViewport({ scale: 1 });
      // The long side the caller asked for, unless that would exceed the pixel limit.
      const scale = Math.min(job.longSide / Math.max(base.width, base.height), Math.sqrt(job.maxPixels / (base.width * base.height)));
      const viewport = page.getViewport({ scale });
      canvas.width = Math.max(1, Math.floor(viewport.width));
      canvas.height = Math.max(1, Math.floor(viewport.height));
      // A white page: PDFs paint on paper, and a transparent PNG reads badly to a model.
      ctx.fillStyle = '#ffffff';
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      // @napi-rs/canvas implements the 2D context pdf.js draws on; its types are not the DOM's.
      await page.render({ canvas: canvas as never, canvasContext: ctx as never, viewport }).promise;
      const png = await canvas.encode('png');
      page.cleanup();
      const data = png.buffer.slice(png.byteOffset, png.byteOffset + png.byteLength) as ArrayBuffer;
      post({ id: job.id, type: 'page', page: n, width: canvas.width, height: canvas.height, data }, [data]);
    }
    post({ id: job.id, type: 'done' });
  } catch (err) {
    post({ id: job.id, type: 'error', ...classify(err) });
  } finally {
    await doc.destroy();
  }
}

parentPort!.on('message', (job: RenderJob) => {
  void run(job);
});
