/**
 * @module OpenAI `file` content parts for models that cannot read documents natively: each PDF
 * becomes its pages as PNG `image_url` parts (each after a short text label), an image file becomes
 * an `image_url` part, and a text file becomes a text part. The bytes are sniffed, never trusted
 * from the data URL's declared type.
 */
import type { ChatMessage, ChatRequest, ContentPart } from './provider-adapter.js';
import { DocumentError } from '../documents/document-error.js';
import { renderPdfPages } from '../documents/render-pdf-pages.js';
import { imageSize, resizeToLongSide } from '../documents/resize-image.js';
import { sniffFileType } from '../documents/sniff-file-type.js';

export interface RenderFileOptions {
  /** More pages than this in one PDF: 400. */
  maxPages: number;
  /** Long side of a rendered page, in pixels. */
  longSide: number;
  maxPixels: number;
  signal?: AbortSignal;
}

/** Long side of rendered pages in chat: readable print without a huge prompt. */
export const CHAT_PAGE_LONG_SIDE = 1280;

/** True when any message carries a `file` part (one pass, no allocation). */
export function hasFileParts(req: ChatRequest): boolean {
  for (const m of req.messages) {
    if (!Array.isArray(m.content)) continue;
    for (const p of m.content) if (p.type === 'file') return true;
  }
  return false;
}

interface FileField {
  file_data?: unknown;
  file_id?: unknown;
  filename?: unknown;
}

const DATA_URL_RE = /^data:([^;,]*)((?:;[^;,]*)*?)(;base64)?,/i;

function decodeFileData(fileData: string, param: string): { declared: string; bytes: Buffer } {
  const m = DATA_URL_RE.exec(fileData);
  if (!m) throw new DocumentError('unsupported_file_type', `${param} must be a data: URL (data:<type>;base64,…)`, param);
  const payload = fileData.slice(m[0].length);
  const bytes = m[3] ? Buffer.from(payload, 'base64') : Buffer.from(decodeURIComponent(payload), 'utf8');
  return { declared: (m[1] || 'application/octet-stream').toLowerCase(), bytes };
}

function dataUrl(mime: string, data: Buffer): string {
  return `data:${mime};base64,${data.toString('base64')}`;
}

/** Declared text types we pass as text (anything else that does not sniff as a document is refused). */
function isTextType(t: string): boolean {
  return t.startsWith('text/') || t === 'application/json' || t === 'application/xml';
}

async function convertPart(part: ContentPart, param: string, opts: RenderFileOptions): Promise<ContentPart[]> {
  const file = (part as { file?: FileField }).file;
  if (typeof file?.file_data !== 'string') {
    const which = file?.file_id !== undefined ? 'file_id is not supported for this model (it cannot read documents natively); send the file inline as file_data' : 'file.file_data is required';
    throw new DocumentError('unsupported_file_type', `${param}: ${which}`, `${param}.file_data`);
  }
  const name = typeof file.filename === 'string' && file.filename ? file.filename.slice(0, 200) : 'file';
  const { declared, bytes } = decodeFileData(file.file_data, `${param}.file_data`);
  const sniffed = sniffFileType(bytes);
  if (sniffed === 'application/pdf') {
    const pdf = await renderPdfPages(bytes, { longSide: opts.longSide, maxPages: opts.maxPages, maxPixels: opts.maxPixels, signal: opts.signal });
    const parts: ContentPart[] = [];
    for (const p of pdf.pages) {
      parts.push({ type: 'text', text: `[${name}, page ${p.page} of ${pdf.pageCount}]` });
      parts.push({ type: 'image_url', image_url: { url: dataUrl(p.mime, p.data) } });
    }
    return parts;
  }
  if (sniffed === 'image/jpeg' || sniffed === 'image/png' || sniffed === 'image/webp') {
    await imageSize(bytes, { maxPixels: opts.maxPixels });
    return [{ type: 'image_url', image_url: { url: dataUrl(sniffed, bytes) } }];
  }
  if (sniffed) {
    // BMP and TIFF: few vision APIs take them; PNG keeps every pixel.
    const img = await resizeToLongSide(bytes, Math.min(opts.longSide * 2, 4096), 'png', { maxPixels: opts.maxPixels });
    return [{ type: 'image_url', image_url: { url: dataUrl(img.mime, img.data) } }];
  }
  if (isTextType(declared)) {
    const text = bytes.toString('utf8');
    if (text.includes('\u0000')) throw new DocumentError('file_type_mismatch', `${param}: declared ${declared} but the bytes are binary`, `${param}.file_data`);
    return [{ type: 'text', text: `--- ${name} ---\n${text}\n--- end of ${name} ---` }];
  }
  throw new DocumentError('unsupported_file_type', `${param}: the file is not a PDF, JPEG, PNG, WebP, BMP, TIFF or text file`, `${param}.file_data`);
}

/**
 * A copy of the request with every `file` part replaced by what a vision model reads. Messages
 * without file parts are shared, not copied. Files are converted one after another: each PDF is
 * rendered by the bounded worker pool anyway.
 */
export async function renderFileParts(req: ChatRequest, opts: RenderFileOptions): Promise<ChatRequest> {
  const messages: ChatMessage[] = [];
  for (const [i, m] of req.messages.entries()) {
    if (!Array.isArray(m.content) || !m.content.some((p) => p.type === 'file')) {
      messages.push(m);
      continue;
    }
    const content: ContentPart[] = [];
    for (const [j, p] of m.content.entries()) {
      if (p.type === 'file') content.push(...(await convertPart(p, `messages[${i}].content[${j}].file`, opts)));
      else content.push(p);
    }
    messages.push({ ...m, content });
  }
  return { ...req, messages };
}
