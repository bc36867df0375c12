/**
 * @module Documents → the images of each page, at the requested resolution: an image is one page,
 * a PDF one page per PDF page (rendered in the worker pool). Every image is sized here, so the
 * model receives exactly the resolution asked for.
 */
import { DocumentError } from '../../documents/document-error.js';
import { renderPdfPages } from '../../documents/render-pdf-pages.js';
import { resizeToLongSide, tileImage, type ImageOut, type OutputFormat } from '../../documents/resize-image.js';
import type { OcrDocument } from './parse-ocr-input.js';
import type { ResolutionPlan } from './ocr-resolution.js';

export interface OcrPage {
  /** 1-based, across all documents of the request. */
  page: number;
  /** One image, or the tiles in reading order. */
  images: ImageOut[];
}

export interface PrepareOptions {
  plan: ResolutionPlan;
  maxPages: number;
  maxPixels: number;
  signal?: AbortSignal;
}

async function sizeImage(bytes: Uint8Array, format: OutputFormat, opts: PrepareOptions): Promise<ImageOut[]> {
  const limits = { maxPixels: opts.maxPixels };
  if (opts.plan.kind === 'tiles') return tileImage(bytes, opts.plan.tile, opts.plan.maxLongSide, format, limits);
  return [await resizeToLongSide(bytes, opts.plan.longSide, format, limits)];
}

export async function prepareOcrPages(documents: readonly OcrDocument[], opts: PrepareOptions): Promise<OcrPage[]> {
  const pages: OcrPage[] = [];
  for (const doc of documents) {
    const remaining = opts.maxPages - pages.length;
    if (doc.type === 'application/pdf') {
      const longSide = opts.plan.kind === 'tiles' ? opts.plan.maxLongSide : opts.plan.longSide;
      let pdf;
      try {
        pdf = await renderPdfPages(doc.bytes, { longSide, maxPages: remaining, maxPixels: opts.maxPixels, signal: opts.signal });
      } catch (err) {
        if (err instanceof DocumentError && err.code === 'too_many_pages') {
          throw new DocumentError('too_many_pages', `${doc.param}: ${err.message} (ocr.max_pages in aisbf.json)`, doc.param);
        }
        if (err instanceof DocumentError) throw new DocumentError(err.code, `${doc.param}: ${err.message}`, doc.param);
        throw err;
      }
      for (const p of pdf.pages) {
        // A scaled page is already the right size; gundam cuts the rendered page into tiles.
        const images = opts.plan.kind === 'tiles' ? await sizeImage(p.data, 'png', opts) : [{ data: p.data, width: p.width, height: p.height, mime: p.mime }];
        pages.push({ page: pages.length + 1, images });
      }
    } else {
      if (remaining < 1) throw new DocumentError('too_many_pages', `more than ${opts.maxPages} pages in one request (ocr.max_pages in aisbf.json)`, doc.param);
      // Lossless sources stay lossless (scans, screenshots); photos go as JPEG.
      const format: OutputFormat = doc.type === 'image/jpeg' || doc.type === 'image/webp' ? 'jpeg' : 'png';
      try {
        pages.push({ page: pages.length + 1, images: await sizeImage(doc.bytes, format, opts) });
      } catch (err) {
        if (err instanceof DocumentError) throw new DocumentError(err.code, `${doc.param}: ${err.message}`, doc.param);
        throw err;
      }
    }
  }
  return pages;
}
