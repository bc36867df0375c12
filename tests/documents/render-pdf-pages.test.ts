import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { renderPdfPages } from '../../src/documents/render-pdf-pages.js';
import { DocumentError } from '../../src/documents/document-error.js';
import { corruptPdf, encryptedPdf, hugePagePdf, imageBombPdf, mixedSizePdf, textPdf, twoPagePdf } from './make-documents.js';

async function failure(p: Promise<unknown>): Promise<DocumentError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DocumentError);
  return err as DocumentError;
}

describe('renderPdfPages', () => {
  it('renders every page of a two-page PDF as a PNG at the requested long side', async () => {
    const pdf = await renderPdfPages(await twoPagePdf(), { longSide: 1024, maxPages: 50 });
    expect(pdf.pageCount).toBe(2);
    expect(pdf.pages.map((p) => p.page)).toEqual([1, 2]);
    for (const p of pdf.pages) {
      // A US-letter page (612 × 792 pt) at a long side of 1024.
      expect([p.width, p.height]).toEqual([791, 1024]);
      const meta = await sharp(p.data).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', 791, 1024]);
      // Text was drawn: the page is not blank white.
      const stats = await sharp(p.data).stats();
      expect(stats.channels[0]!.min).toBeLessThan(100);
    }
  });

  it('renders each page at its own size (portrait, then landscape)', async () => {
    const pdf = await renderPdfPages(await mixedSizePdf(), { longSide: 1024, maxPages: 50 });
    expect(pdf.pages.map((p) => [p.width, p.height])).toEqual([
      [791, 1024],
      [1024, 791],
    ]);
    for (const p of pdf.pages) expect((await sharp(p.data).stats()).channels[0]!.min).toBeLessThan(100);
  });

  it('refuses a PDF with more pages than the limit before rendering any', async () => {
    const err = await failure(renderPdfPages(await textPdf(['a', 'b', 'c']), { longSide: 512, maxPages: 2 }));
    expect(err.code).toBe('too_many_pages');
    expect(err.message).toContain('3 pages');
  });

  it('names an encrypted PDF as such', async () => {
    const err = await failure(renderPdfPages(encryptedPdf(), { longSide: 512, maxPages: 50 }));
    expect(err.code).toBe('encrypted_pdf');
    expect(err.status).toBe(400);
  });

  it('names a corrupt PDF as such', async () => {
    const err = await failure(renderPdfPages(corruptPdf(), { longSide: 512, maxPages: 50 }));
    expect(err.code).toBe('corrupt_pdf');
  });

  it('keeps a page that would render huge under the pixel limit', async () => {
    const pdf = await renderPdfPages(hugePagePdf(), { longSide: 100_000, maxPages: 50, maxPixels: 4_000_000 });
    const p = pdf.pages[0]!;
    expect(p.width * p.height).toBeLessThanOrEqual(4_000_000);
    expect(p.width).toBeGreaterThan(1000);
  });

  it('does not decode an embedded image over the pixel limit (a bomb inside a page), with bounded memory', async () => {
    const bomb = await imageBombPdf();
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const before = process.memoryUsage().rss;
    const pdf = await renderPdfPages(bomb, { longSide: 512, maxPages: 50, maxPixels: 4_000_000 });
    expect(pdf.pages).toHaveLength(1);
    expect([pdf.pages[0]!.width, pdf.pages[0]!.height]).toEqual([512, 512]);
    // Decoding it would take ≥ 900 MB (the worker's heap is capped at 512 MB besides).
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024);
  });

  it('stops rendering when the client goes away, and the pool keeps serving', async () => {
    const ac = new AbortController();
    const pending = renderPdfPages(await textPdf(Array.from({ length: 20 }, (_, i) => `page ${i}`)), { longSide: 2000, maxPages: 50, signal: ac.signal });
    setImmediate(() => ac.abort());
    const err = await pending.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as Error).name).toBe('AbortError');
    const pdf = await renderPdfPages(await textPdf(['after the abort']), { longSide: 512, maxPages: 50 });
    expect(pdf.pages).toHaveLength(1);
  });

  it('keeps working after a document failed (the worker pool recovers)', async () => {
    await failure(renderPdfPages(corruptPdf(), { longSide: 512, maxPages: 50 }));
    const pdf = await renderPdfPages(await textPdf(['again']), { longSide: 512, maxPages: 50 });
    expect(pdf.pages).toHaveLength(1);
  });
});
