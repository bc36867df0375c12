/** @module The messages between render-pdf-pages.ts and its worker (pdf-render-worker.ts). */

export interface RenderJob {
  id: number;
  bytes: Uint8Array;
  /** Long side of each rendered page, in pixels. */
  longSide: number;
  /** Pixel limit of one rendered page (and of an image embedded in it). */
  maxPixels: number;
  maxPages: number;
  /** Only open the document and count its pages (a PDF sent natively is checked, not rendered). */
  countOnly?: boolean;
}

export type WorkerReply =
  | { id: number; type: 'info'; pageCount: number }
  | { id: number; type: 'page'; page: number; width: number; height: number; data: ArrayBuffer }
  | { id: number; type: 'done' }
  | { id: number; type: 'error'; code: 'encrypted_pdf' | 'corrupt_pdf' | 'too_many_pages'; message: string };
