/**
 * @module Upload bodies (multipart/form-data) under aisbf.json's `server.upload_limit_mb`: a declared
 * Content-Length over the limit is refused before reading, a chunked body is counted as it arrives
 * and cut off at the limit; then the form is parsed into fields and files with OpenAI-worded 400s.
 */
import { HttpError } from './errors.js';
import { formatBytes, readRequestBytes } from './read-body.js';

export interface UploadedFile {
  data: Uint8Array;
  filename: string;
  mimeType: string;
}

export function uploadTooLarge(limit: number): HttpError {
  return new HttpError(413, `Upload is larger than the limit of ${formatBytes(limit)} (server.upload_limit_mb in aisbf.json).`, { code: 'request_too_large' });
}

/** Reads the whole body as bytes, refusing more than `limit`. */
export function readBodyBytes(req: Request, limit: number, tooLarge = uploadTooLarge): Promise<Uint8Array> {
  return readRequestBytes(req, limit, tooLarge);
}

export function isMultipart(req: Request): boolean {
  return (req.headers.get('content-type') ?? '').toLowerCase().startsWith('multipart/form-data');
}

/** A parsed form. Array fields sent as `name[]` (the openai SDK's encoding) are found under `name`. */
export class UploadForm {
  constructor(private readonly form: FormData) {}

  private all(name: string): Array<File | string> {
    return [...this.form.getAll(name), ...this.form.getAll(`${name}[]`)] as Array<File | string>;
  }

  /** A text field; a file sent where text was expected is a 400 naming the field. */
  text(name: string): string | undefined {
    const v = this.all(name)[0];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw new HttpError(400, `Invalid type for '${name}': expected a string, but got a file.`, { param: name, code: 'invalid_type' });
    return v;
  }

  requiredText(name: string): string {
    const v = this.text(name);
    if (v === undefined || v === '') throw new HttpError(400, `Missing required parameter: '${name}'.`, { param: name, code: 'missing_required_parameter' });
    return v;
  }

  number(name: string, opts: { int?: boolean; min?: number; max?: number } = {}): number | undefined {
    const v = this.text(name);
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || (opts.int && !Number.isInteger(n)) || (opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max)) {
      const range = opts.min !== undefined && opts.max !== undefined ? ` between ${opts.min} and ${opts.max}` : opts.min !== undefined ? ` of at least ${opts.min}` : '';
      throw new HttpError(400, `Invalid value for '${name}': expected ${opts.int ? 'an integer' : 'a number'}${range}, got ${JSON.stringify(v)}.`, { param: name, code: 'invalid_value' });
    }
    return n;
  }

  /** Every file sent under `name` or `name[]`. */
  async files(name: string): Promise<UploadedFile[]> {
    const out: UploadedFile[] = [];
    for (const v of this.all(name)) {
      if (typeof v === 'string') throw new HttpError(400, `Invalid type for '${name}': expected a file, but got a string.`, { param: name, code: 'invalid_type' });
      out.push({ data: new Uint8Array(await v.arrayBuffer()), filename: v.name || name, mimeType: v.type || 'application/octet-stream' });
    }
    return out;
  }

  async file(name: string): Promise<UploadedFile | undefined> {
    return (await this.files(name))[0];
  }

  async requiredFile(name: string): Promise<UploadedFile> {
    const f = await this.file(name);
    if (!f) throw new HttpError(400, `Missing required parameter: '${name}'.`, { param: name, code: 'missing_required_parameter' });
    return f;
  }

  /** Text fields not in `known`, for pass-through to OpenAI-type upstreams (array fields keep `[]`). */
  extras(known: ReadonlySet<string>): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {};
    for (const key of new Set(this.form.keys())) {
      const base = key.endsWith('[]') ? key.slice(0, -2) : key;
      if (known.has(base)) continue;
      const values = this.form.getAll(key).filter((v): v is string => typeof v === 'string');
      if (!values.length) continue;
      out[base] = key.endsWith('[]') ? values : values[0]!;
    }
    return out;
  }
}

/** Reads and parses a multipart body under the upload limit. */
export async function readUploadForm(req: Request, limit: number): Promise<UploadForm> {
  const type = req.headers.get('content-type') ?? '';
  if (!isMultipart(req)) {
    throw new HttpError(400, `Expected a multipart/form-data body for this endpoint, got '${type.split(';')[0] || 'no content-type'}'.`, { code: 'invalid_content_type' });
  }
  const bytes = await readBodyBytes(req, limit);
  try {
    return new UploadForm(await new Response(bytes, { headers: { 'content-type': type } }).formData());
  } catch (err) {
    throw new HttpError(400, `Could not parse the multipart/form-data body: ${(err as Error).message}`, { code: 'invalid_multipart' });
  }
}
