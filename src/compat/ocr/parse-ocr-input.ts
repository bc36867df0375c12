/**
 * @module POST /api/ocr input: a multipart `file` (with optional `language` and `model` fields), or
 * the seed's OpenAI-style JSON whose messages carry data-URI `image_url` parts (each one a document;
 * `language` and `model` at the top level). Sizes are checked here (413 over `ocr.max_mb`), types
 * are sniffed from the bytes, and a declared type that disagrees with them is a 400 — all before any
 * upstream call.
 */
import { z } from 'zod';
import { HttpError } from '../../errors/http-error.js';
import { DocumentError } from '../../documents/document-error.js';
import { contradicts, normaliseDeclaredType, sniffFileType, type DocumentType } from '../../documents/sniff-file-type.js';
import { formatBytes, readRequestBytes } from '../../server/read-body.js';
import { isMultipart } from '../../server/multipart.js';

export interface OcrDocument {
  bytes: Uint8Array;
  type: DocumentType;
  /** Where it came from, for error messages: `file` or `messages[0].content[1]`. */
  param: string;
}

export interface OcrInput {
  documents: OcrDocument[];
  language?: string;
  model?: string;
}

/** Form/JSON overhead allowed on top of the file itself. */
const ENVELOPE_BYTES = 256 * 1024;
const LANGUAGE_RE = /^[\p{L}\p{M} ,()'-]{1,64}$/u;
const MODEL_RE = /^[\x21-\x7e]{1,256}$/;

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, `The file is larger than the OCR limit of ${formatBytes(maxBytes)} (ocr.max_mb in aisbf.json).`, { param: 'file', code: 'file_too_large' });
}

function checkDocument(bytes: Uint8Array, declared: string, param: string, maxBytes: number): OcrDocument {
  if (bytes.byteLength > maxBytes) throw tooLarge(maxBytes);
  if (bytes.byteLength === 0) throw new DocumentError('unsupported_file_type', `${param} is empty`, param);
  const type = sniffFileType(bytes);
  if (!type) throw new DocumentError('unsupported_file_type', `${param} is not a JPEG, PNG, WebP, BMP, TIFF or PDF file (judged by its content)`, param);
  if (contradicts(declared, type)) {
    throw new DocumentError('file_type_mismatch', `${param} is declared as ${JSON.stringify(normaliseDeclaredType(declared).slice(0, 80))} but its content is ${type}`, param);
  }
  return { bytes, type, param };
}

function optionalText(v: unknown, name: string, re: RegExp): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || !re.test(v)) {
    throw new HttpError(400, `Invalid value for '${name}'.`, { param: name, code: 'invalid_value' });
  }
  return v;
}

async function parseMultipart(req: Request, maxBytes: number): Promise<OcrInput> {
  const body = await readRequestBytes(req, maxBytes + ENVELOPE_BYTES, () => tooLarge(maxBytes));
  let form: FormData;
  try {
    form = await new Response(body, { headers: { 'content-type': req.headers.get('content-type') ?? '' } }).formData();
  } catch {
    throw new HttpError(400, 'Could not parse the multipart/form-data body.', { code: 'invalid_multipart' });
  }
  const files = form.getAll('file');
  if (files.length === 0) throw new HttpError(400, "Missing required parameter: 'file'.", { param: 'file', code: 'missing_required_parameter' });
  if (files.length > 1) throw new HttpError(400, "Send one 'file' per request.", { param: 'file', code: 'invalid_value' });
  const f = files[0]!;
  if (typeof f === 'string') throw new HttpError(400, "Invalid type for 'file': expected a file, but got a string.", { param: 'file', code: 'invalid_type' });
  const text = (name: string) => {
    const v = form.get(name);
    if (v !== null && typeof v !== 'string') throw new HttpError(400, `Invalid type for '${name}': expected a string, but got a file.`, { param: name, code: 'invalid_type' });
    return v ?? undefined;
  };
  return {
    documents: [checkDocument(new Uint8Array(await f.arrayBuffer()), f.type, 'file', maxBytes)],
    language: optionalText(text('language'), 'language', LANGUAGE_RE),
    model: optionalText(text('model'), 'model', MODEL_RE),
  };
}

const jsonBody = z.looseObject({
  model: z.unknown().optional(),
  language: z.unknown().optional(),
  messages: z.array(z.looseObject({ content: z.unknown().optional() })).min(1),
});

const DATA_URI_RE = /^data:([^;,]*)((?:;[^;,]*)*?);base64,/i;

async function parseJson(req: Request, maxBytes: number): Promise<OcrInput> {
  // base64 carries 4 bytes for every 3.
  const limit = Math.ceil((maxBytes * 4) / 3) + ENVELOPE_BYTES;
  const raw = await readRequestBytes(req, limit, () => tooLarge(maxBytes));
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'The request body is not valid JSON.', { code: 'invalid_json' });
  }
  const body = jsonBody.safeParse(parsed);
  if (!body.success) throw new HttpError(400, "Expected a JSON body with 'messages' (data-URI image_url parts) or a multipart 'file'.", { param: 'messages', code: 'invalid_value' });
  const documents: OcrDocument[] = [];
  let total = 0;
  body.data.messages.forEach((m, i) => {
    if (!Array.isArray(m.content)) return;
    m.content.forEach((p: unknown, j: number) => {
      const part = p as { type?: unknown; image_url?: { url?: unknown } | string };
      if (part?.type !== 'image_url') return;
      const param = `messages[${i}].content[${j}].image_url.url`;
      const url = typeof part.image_url === 'string' ? part.image_url : part.image_url?.url;
      if (typeof url !== 'string') throw new HttpError(400, `Missing required parameter: '${param}'.`, { param, code: 'missing_required_parameter' });
      const match = DATA_URI_RE.exec(url);
      if (!match) throw new HttpError(400, `${param} must be a base64 data URI (data:<type>;base64,…).`, { param, code: 'invalid_image_url' });
      const bytes = Buffer.from(url.slice(match[0].length), 'base64');
      total += bytes.byteLength;
      if (total > maxBytes) throw tooLarge(maxBytes);
      documents.push(checkDocument(bytes, match[1] ?? '', param, maxBytes));
    });
  });
  if (documents.length === 0) throw new HttpError(400, "No image to read: send data-URI 'image_url' parts in 'messages', or a multipart 'file'.", { param: 'messages', code: 'missing_required_parameter' });
  return {
    documents,
    language: optionalText(body.data.language, 'language', LANGUAGE_RE),
    model: optionalText(body.data.model, 'model', MODEL_RE),
  };
}

export function parseOcrInput(req: Request, maxBytes: number): Promise<OcrInput> {
  return isMultipart(req) ? parseMultipart(req, maxBytes) : parseJson(req, maxBytes);
}
