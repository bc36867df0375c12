/**
 * @module Time and memory of rendering PDF pages (issue 19: pdf.js + @napi-rs/canvas in the render
 * worker pool), in a fresh process so its RSS is the renderer's alone: the first page of a process
 * (worker start, pdf.js, fonts), then warm pages of a 10-page text PDF at the chat long side (1280).
 * It loads the built module (dist/, as the daemon runs it: the worker is plain JS, not tsx). Prints
 * one JSON line. Run by ocr-bench.ts; by hand, after `npm run build`:
 * `node --import tsx scripts/bench/pdf-render-probe.ts`.
 */
import { textPdf } from '../../tests/documents/make-documents.js';

// A path the type checker does not follow: dist/ is built output.
const built = '../../dist/documents/render-pdf-pages.js';
const { renderPdfPages } = (await import(built)) as typeof import('../../src/documents/render-pdf-pages.js');

const LONG_SIDE = 1280;
const ROUNDS = 5;
const mb = (n: number) => Math.round((n / 1024 / 1024) * 10) / 10;

const one = await textPdf(['Bench page. The quick brown fox jumps over the lazy dog.']);
const ten = await textPdf(Array.from({ length: 10 }, (_, i) => `Bench page ${i + 1}. The quick brown fox jumps over the lazy dog.`));
let peak = process.memoryUsage().rss;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
const idle = process.memoryUsage().rss;

let t = performance.now();
await renderPdfPages(one, { longSide: LONG_SIDE, maxPages: 50 });
const firstPageMs = performance.now() - t;
const afterFirst = process.memoryUsage().rss;
const peakOnePage = peak;

const perPage: number[] = [];
peak = process.memoryUsage().rss;
for (let r = 0; r < ROUNDS; r++) {
  t = performance.now();
  const pdf = await renderPdfPages(ten, { longSide: LONG_SIDE, maxPages: 50 });
  perPage.push((performance.now() - t) / pdf.pages.length);
}
clearInterval(sampler);
perPage.sort((a, b) => a - b);
console.log(
  JSON.stringify({
    longSide: LONG_SIDE,
    firstPageMs: Math.round(firstPageMs),
    warmMsPerPage: Math.round(perPage[Math.floor(perPage.length / 2)]! * 10) / 10,
    idleRssMb: mb(idle),
    afterFirstPageRssMb: mb(afterFirst),
    peakOnePageRssMb: mb(peakOnePage),
    peakTenPagesRssMb: mb(peak),
  }),
);
process.exit(0);
