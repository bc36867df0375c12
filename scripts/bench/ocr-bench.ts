/**
 * @module The /api/ocr rows of `npm run bench`: one image and one 10-page PDF, sent one at a time
 * to the running daemon (upstream: the mock), with latency and the daemon's peak RSS while they
 * run. What is measured is aisbf's own work: sniffing, rendering (pdf.js in a worker), resizing
 * (sharp), and the page calls.
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './load.js';
import { rssMb } from './proc-stats.js';
import { pngImage, textPdf } from '../../tests/documents/make-documents.js';

type Add = (scenario: string, metric: string, direct: number | undefined, aisbf: number, target?: string, pass?: boolean) => void;

async function runSerial(origin: string, pid: number, body: () => FormData, n: number): Promise<{ latencies: number[]; peakRss: number }> {
  let peakRss = rssMb(pid);
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMb(pid))), 25);
  const latencies: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      const res = await fetch(`${origin}/api/ocr`, { method: 'POST', body: body(), headers: { 'X-Resolution': 'large' } });
      if (!res.ok) throw new Error(`/api/ocr answered ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
      latencies.push(performance.now() - t);
    }
  } finally {
    clearInterval(sampler);
  }
  return { latencies, peakRss: Math.max(peakRss, rssMb(pid)) };
}

interface ProbeResult {
  longSide: number;
  firstPageMs: number;
  warmMsPerPage: number;
  idleRssMb: number;
  afterFirstPageRssMb: number;
  peakOnePageRssMb: number;
  peakTenPagesRssMb: number;
}

/** pdf-render-probe.ts in a fresh process: the renderer's own time and memory per page. */
function probeRender(): Promise<ProbeResult> {
  const probe = join(dirname(fileURLToPath(import.meta.url)), 'pdf-render-probe.ts');
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', probe], { timeout: 120_000 }, (err, stdout) => {
      if (err) return reject(err);
      resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as ProbeResult);
    });
  });
}

/** The renderer alone (issue 19 asks for time and memory per rendered page). */
export async function benchPdfRender(add: Add): Promise<void> {
  const r = await probeRender();
  const row = `PDF page render (pdf.js + @napi-rs/canvas worker), long side ${r.longSide}`;
  add(row, 'first page of a process ms', undefined, r.firstPageMs);
  add(row, 'warm ms per page (10-page PDF)', undefined, r.warmMsPerPage);
  add(row, 'RSS MB added by the first page', undefined, Math.round((r.afterFirstPageRssMb - r.idleRssMb) * 10) / 10);
  add(row, 'peak RSS MB, one page', undefined, r.peakOnePageRssMb - r.idleRssMb, 'over the idle process');
  add(row, 'peak RSS MB, 10 pages', undefined, r.peakTenPagesRssMb - r.idleRssMb, 'pages go to the caller one by one');
}

/** `model` is a provider/model of the mock that declares `ocr`. */
export async function benchOcr(origin: string, pid: number, model: string, add: Add): Promise<void> {
  const image = await pngImage(1600, 1200);
  const pdf = await textPdf(Array.from({ length: 10 }, (_, i) => `Bench page ${i + 1}. The quick brown fox jumps over the lazy dog.`));
  const form = (bytes: Buffer, type: string) => () => {
    const f = new FormData();
    f.set('file', new Blob([new Uint8Array(bytes)], { type }), 'upload');
    f.set('model', model);
    return f;
  };
  add('/api/ocr', 'daemon RSS MB before the OCR rows', undefined, rssMb(pid));
  // Images first (sharp only); then one PDF to start the render worker and load pdf.js, then the PDF rows.
  await runSerial(origin, pid, form(image, 'image/png'), 2);
  const img = await runSerial(origin, pid, form(image, 'image/png'), 20);
  await runSerial(origin, pid, form(pdf, 'application/pdf'), 1);
  add('/api/ocr, one 1600×1200 PNG (large), c=1', 'p50 ms', undefined, median(img.latencies));
  add('/api/ocr, one 1600×1200 PNG (large), c=1', 'peak RSS MB', undefined, img.peakRss);
  const doc = await runSerial(origin, pid, form(pdf, 'application/pdf'), 5);
  add('/api/ocr, 10-page PDF (large, 3 pages at once), c=1', 'p50 ms', undefined, median(doc.latencies));
  add('/api/ocr, 10-page PDF (large, 3 pages at once), c=1', 'ms per page', undefined, median(doc.latencies) / 10);
  add('/api/ocr, 10-page PDF (large, 3 pages at once), c=1', 'peak RSS MB', undefined, doc.peakRss);
  await benchPdfRender(add);
}
