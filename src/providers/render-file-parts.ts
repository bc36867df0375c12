/**
 * @module OpenAI `file` content parts, checked and put in the shape a model reads. Every file is
 * sniffed from its bytes (the declared type is never trusted) and held to the `ocr` limits (size,
 * pages, pixels) before anything goes upstream. For a model that reads documents natively, a PDF
 * stays a `file` part (with its true type; its pages are counted, not rendered); for one that only
 * sees images, each PDF page becomes a PNG `image_url` part after a short text label. Either way an
 * image file becomes an `image_url` part and a text file text. A `file_id` is looked up among the
 * caller's uploads (/v1/files) and sent inline.
 */
import type { ChatMessage, ChatRequest, ContentPart, FileResolver } from './provider-adapter.js';
import { HttpError } from '../errors/http-error.js';
import { DocumentError } from '../documents/document-error.js';
import { countPdfPages, renderPdfPages } from '../documents/render-pdf-pages.js';
import { imageSize, resizeToLongSide } from '../documents/resize-image.js';
import { contradicts, isGenericType, normaliseDeclaredType, sniffFileType } from '../documents/sniff-file-type.js';

export interface FilePartOptions {
  /** native: PDFs stay `file` parts; render: PDF pages become images. */
  mode: 'native' | 'render';
  /** Largest file, in bytes (413 over it). */
  maxBytes: number;
  /** More pages than this in one PDF: 400. */
  maxPages: number;
  /** Pixel limit of an image or a rendered page. */
  maxPixels: number;
  /** Long side of a rendered page, in pixels. */
  longSide: number;
  signal: AbortSignal;
  resolveFile?: FileResolver;
  /** Text files as `file` parts (Anthropic's text source, Gemini's inline text) rather than text parts. */
  textAsDocument: boolean;
  /** An id aisbf does not know stays as it is (an OpenAI upstream's own file ids). */
  keepUnknownFileIds: boolean;
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

/** A file part's bytes, wherever they came from. */
interface FileBytes {
  bytes: Uint8Array;
  /** The data URL's declared type ('' for an uploaded file: only its bytes speak). */
  declared: string;
  name: string;
  /** The client's own data URL, reused when it already says what the bytes are. */
  dataUrl?: string;
}

const DATA_URL_RE = /^data:([^;,]*)((?:;[^;,]*)*?)(;base64)?,/i;
const FILE_ID_RE = /^[\x21-\x7e]{1,256}$/;

function decodeFileData(fileData: string, param: string): { declared: string; bytes: Buffer } {
  const m = DATA_URL_RE.exec(fileData);
  if (!m) throw new DocumentError('unsupported_file_type', `${param} must be a data: URL (data:<type>;base64,…)`, param);
  const payload = fileData.slice(m[0].length);
  let bytes: Buffer;
  try {
    bytes = m[3] ? Buffer.from(payload, 'base64') : Buffer.from(decodeURIComponent(payload), 'utf8');
  } catch {
    throw new DocumentError('unsupported_file_type', `${param} is not a valid data: URL (bad percent-encoding)`, param);
  }
  return { declared: m[1] || '', bytes };
}

function dataUrl(mime: string, data: Uint8Array): string {
  return `data:${mime};base64,${Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64')}`;
}

function mib(n: number): string {
  return `${Math.round((n / 1024 / 1024) * 10) / 10} MiB`;
}

/** Declared text types, passed as text. */
function isTextType(t: string): boolean {
  return t.startsWith('text/') || t === 'application/json' || t === 'application/xml';
}

/** Control characters that plain text does not hold (tab, newlines, form feed and escape aside). */
const BINARY_RE = /[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]/;

/** Valid UTF-8 without binary control characters: what a file must be to go as text. */
function asText(bytes: Uint8Array): string | undefined {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return BINARY_RE.test(text) ? undefined : text;
  } catch {
    return undefined;
  }
}

function checkSize(size: number, field: string, opts: FilePartOptions): void {
  if (size > opts.maxBytes) {
    throw new HttpError(413, `${field}: the file is ${mib(size)}, over the limit of ${mib(opts.maxBytes)} (ocr.max_mb in aisbf.json).`, { param: field, code: 'file_too_large' });
  }
}

/** The part's bytes: inline data, or an upload found by its id; undefined keeps the part unchanged. */
async function bytesOf(file: FileField | undefined, param: string, opts: FilePartOptions): Promise<FileBytes | undefined> {
  const filename = typeof file?.filename === 'string' && file.filename ? file.filename.slice(0, 200) : undefined;
  if (typeof file?.file_data === 'string') {
    const { declared, bytes } = decodeFileData(file.file_data, `${param}.file_data`);
    return { bytes, declared, name: filename ?? 'file', dataUrl: file.file_data };
  }
  if (typeof file?.file_id === 'string' && file.file_id) {
    if (!FILE_ID_RE.test(file.file_id)) throw new HttpError(400, `Invalid '${param}.file_id'.`, { param: `${param}.file_id`, code: 'invalid_value' });
    const found = opts.resolveFile ? await opts.resolveFile(file.file_id, opts.signal) : undefined;
    if (found) {
      // The size is checked before the bytes are read: an upload may be far larger than a chat file.
      checkSize(found.bytes, `${param}.file_id`, opts);
      const bytes = await found.read().catch(() => {
        throw new HttpError(400, `${param}.file_id: the uploaded file could not be read (it may have been deleted).`, { param: `${param}.file_id`, code: 'invalid_file_id' });
      });
      return { bytes, declared: '', name: filename ?? found.filename };
    }
    if (opts.keepUnknownFileIds) return undefined;
    throw new HttpError(400, `${param}.file_id: no uploaded file with id ${JSON.stringify(file.file_id)} (upload it with POST /v1/files, or send the file inline as file_data).`, {
      param: `${param}.file_id`,
      code: 'invalid_file_id',
    });
  }
  throw new HttpError(400, `Missing required parameter: '${param}.file_data' (or '${param}.file_id').`, { param: `${param}.file_data`, code: 'missing_required_parameter' });
}

/** A PDF's failure, named with the part it came from. */
function withParam(err: unknown, param: string, opts: FilePartOptions): never {
  if (!(err instanceof DocumentError)) throw err;
  const limit = err.code === 'too_many_pages' ? ` (ocr.max_pages in aisbf.json: ${opts.maxPages})` : '';
  throw new DocumentError(err.code, `${param}: ${err.message}${limit}`, param);
}

async function convertPart(part: ContentPart, param: string, opts: FilePartOptions): Promise<ContentPart[]> {
  const file = (part as { file?: FileField }).file;
  const got = await bytesOf(file, param, opts);
  if (!got) return [part];
  const field = got.dataUrl !== undefined ? `${param}.file_data` : `${param}.file_id`;
  const { bytes, name } = got;
  checkSize(bytes.byteLength, field, opts);
  if (bytes.byteLength === 0) throw new DocumentError('unsupported_file_type', `${field}: the file is empty`, field);
  const sniffed = sniffFileType(bytes);
  const declared = normaliseDeclaredType(got.declared);
  if (contradicts(declared, sniffed)) {
    throw new DocumentError('file_type_mismatch', `${field} is declared as ${JSON.stringify(declared.slice(0, 80))} but its content is ${sniffed ?? 'of no supported type'}`, field);
  }
  if (sniffed === 'application/pdf') {
    if (opts.mode === 'native') {
      await countPdfPages(bytes, { maxPages: opts.maxPages, signal: opts.signal }).catch((err: unknown) => withParam(err, field, opts));
      // A part that already says what it is goes on exactly as the client sent it.
      if (got.dataUrl !== undefined && declared === 'application/pdf') return [part];
      return [{ type: 'file', file: { file_data: dataUrl('application/pdf', bytes), filename: name } }];
    }
    const pdf = await renderPdfPages(bytes, { longSide: opts.longSide, maxPages: opts.maxPages, maxPixels: opts.maxPixels, signal: opts.signal }).catch((err: unknown) => withParam(err, field, opts));
    const parts: ContentPart[] = [];
    for (const p of pdf.pages) {
      parts.push({ type: 'text', text: `[${name}, page ${p.page} of ${pdf.pageCount}]` });
      parts.push({ type: 'image_url', image_url: { url: dataUrl(p.mime, p.data) } });
    }
    return parts;
  }
  try {
    if (sniffed === 'image/jpeg' || sniffed === 'image/png' || sniffed === 'image/webp') {
      await imageSize(bytes, { maxPixels: opts.maxPixels });
      return [{ type: 'image_url', image_url: { url: got.dataUrl !== undefined && declared === sniffed ? got.dataUrl : dataUrl(sniffed, bytes) } }];
    }
    if (sniffed) {
      // BMP and TIFF: few vision APIs take them; PNG keeps every pixel.
      const img = await resizeToLongSide(bytes, Math.min(opts.longSide * 2, 4096), 'png', { maxPixels: opts.maxPixels });
      return [{ type: 'image_url', image_url: { url: dataUrl(img.mime, img.data) } }];
    }
  } catch (err) {
    withParam(err, field, opts);
  }
  const text = isTextType(declared) || isGenericType(declared) ? asText(bytes) : undefined;
  if (text === undefined) {
    const what = isTextType(declared) ? `declared ${declared} but the bytes are not UTF-8 text` : 'the file is not a PDF, JPEG, PNG, WebP, BMP, TIFF or text file (judged by its content)';
    throw new DocumentError(isTextType(declared) ? 'file_type_mismatch' : 'unsupported_file_type', `${field}: ${what}`, field);
  }
  if (opts.textAsDocument) return [{ type: 'file', file: { file_data: got.dataUrl !== undefined && declared === 'text/plain' ? got.dataUrl : dataUrl('text/plain', bytes), filename: name } }];
  return [{ type: 'text', text: `--- ${name} ---\n${text}\n--- end of ${name} ---` }];
}

/**
 * A copy of the request with every `file` part checked and converted (see the module comment).
 * Messages without file parts are shared, not copied. Files are converted one after another: each
 * PDF is rendered by the bounded worker pool anyway.
 */
export async function prepareFileParts(req: ChatRequest, opts: FilePartOptions): Promise<ChatRequest> {
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
