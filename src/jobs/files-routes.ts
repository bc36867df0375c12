/**
 * @module OpenAI's Files API for batches: `POST /v1/files` (multipart, streamed to disk: never held in
 * memory; over `batches.max_upload_mb` → 413 and nothing left behind), `GET /v1/files[/{id}]`,
 * `GET /v1/files/{id}/content`, `DELETE /v1/files/{id}`. An upload with purpose `batch` is checked
 * line by line; problems show in the file's `status_details`, naming the lines, and a batch made from
 * it fails validation with OpenAI's `errors` object.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Context, Hono } from 'hono';
import busboy from 'busboy';
import type { AppDeps, AppEnv } from '../server/app-env.js';
import { HttpError } from '../errors/http-error.js';
import { incomingOf, headerOf } from '../server/node-request.js';
import { newFileId, type BatchFileRow } from '../store/batch-files.js';
import { fileObject, listPage } from './batch-objects.js';
import { filesDir, jobStores, ownerOf, visibleOwner } from './jobs-stores.js';
import { validateBatchFile } from './validate-batch-lines.js';

/** Purposes a file may be uploaded for: batches, and `user_data` for chat `file_id` parts (issue 19). */
const PURPOSES = new Set(['batch', 'user_data']);
/** Lines named in `status_details` at most. */
const DETAILS_LINES = 5;

export function notFoundFile(id: string): HttpError {
  return new HttpError(404, `No such File object: ${id}`, { type: 'invalid_request_error', param: 'id', code: null });
}

function tooLarge(limitMb: number): HttpError {
  return new HttpError(413, `File is larger than the upload limit of ${limitMb} MB (batches.max_upload_mb in aisbf.json).`, { code: 'file_too_large', param: 'file' });
}

/** A visible file or 404 (another owner's file does not exist for this caller). */
export function fileFor(c: Context<AppEnv>, deps: AppDeps, id: string): BatchFileRow {
  const f = jobStores(deps.db).files.get(id);
  const owner = visibleOwner(c.get('identity'));
  if (!f || (owner !== undefined && f.owner !== owner)) throw notFoundFile(id);
  return f;
}

interface Received {
  path?: string;
  filename?: string;
  bytes: number;
  truncated: boolean;
  purpose?: string;
}

/** Streams the multipart body: the `file` part straight into `dest`, the other fields into memory. */
async function receive(c: Context<AppEnv>, dest: string, limit: number): Promise<Received> {
  const got: Received = { bytes: 0, truncated: false };
  const headers = { 'content-type': headerOf(c, 'content-type') ?? '' };
  let bb: busboy.Busboy;
  try {
    bb = busboy({ headers, limits: { fileSize: limit, files: 1, fields: 20, fieldSize: 64 * 1024 } });
  } catch {
    throw new HttpError(400, "Expected a multipart/form-data body with a 'file' part and a 'purpose' field.", { param: 'file', code: 'invalid_request' });
  }
  const writes: Array<Promise<void>> = [];
  bb.on('field', (name, value) => {
    if (name === 'purpose') got.purpose = value;
  });
  bb.on('file', (name, file, info) => {
    if (name !== 'file' || got.path) {
      file.resume();
      return;
    }
    got.path = dest;
    got.filename = info.filename || 'upload.jsonl';
    file.on('data', (d: Buffer) => (got.bytes += d.length));
    file.on('limit', () => {
      got.truncated = true;
    });
    writes.push(pipeline(file, createWriteStream(dest, { mode: 0o600 })));
  });
  const incoming = incomingOf(c);
  const source = incoming ?? (c.req.raw.body ? Readable.fromWeb(c.req.raw.body as import('node:stream/web').ReadableStream) : Readable.from([]));
  try {
    await pipeline(source, bb);
    await Promise.all(writes);
  } catch (err) {
    await rm(dest, { force: true });
    if (err instanceof HttpError) throw err;
    throw new HttpError(400, `The multipart body could not be read: ${(err as Error).message}`, { param: 'file', code: 'invalid_request' });
  }
  return got;
}

async function upload(c: Context<AppEnv>, deps: AppDeps): Promise<Response> {
  const rt = deps.runtime();
  const cfg = rt.config.aisbf.batches;
  const limit = Math.floor(cfg.max_upload_mb * 1024 * 1024);
  // A declared length far over the limit is refused before a byte is read (multipart adds a little).
  const declared = Number(headerOf(c, 'content-length') ?? NaN);
  if (declared > limit + 1024 * 1024) throw tooLarge(cfg.max_upload_mb);
  if (!(headerOf(c, 'content-type') ?? '').toLowerCase().startsWith('multipart/form-data'))
    throw new HttpError(400, "Expected a multipart/form-data body with a 'file' part and a 'purpose' field.", { param: 'file', code: 'invalid_request' });
  const id = newFileId();
  const path = join(filesDir(rt), `${id}.jsonl`);
  const got = await receive(c, path, limit);
  const fail = async (err: HttpError): Promise<never> => {
    await rm(path, { force: true });
    throw err;
  };
  if (got.truncated) await fail(tooLarge(cfg.max_upload_mb));
  if (!got.path) await fail(new HttpError(400, "Missing the 'file' part of the form.", { param: 'file', code: 'missing_required_parameter' }));
  if (got.purpose === undefined) await fail(new HttpError(400, "Missing the 'purpose' field of the form.", { param: 'purpose', code: 'missing_required_parameter' }));
  if (!PURPOSES.has(got.purpose!)) await fail(new HttpError(400, `Invalid 'purpose': aisbf keeps files for 'batch' and 'user_data' only, got '${String(got.purpose).slice(0, 40)}'.`, { param: 'purpose', code: 'invalid_value' }));
  // Only batch input is JSONL; a user_data file (a PDF for chat) is kept as it came.
  const { errors } = got.purpose !== 'batch' ? { errors: [] } : await validateBatchFile(path, undefined, rt.config.aisbf.server.body_limit_mb * 1024 * 1024).catch(() => ({ errors: [{ line: null, message: 'The file could not be read back.' }] }));
  const details = errors.slice(0, DETAILS_LINES).map((e) => (e.line === null ? e.message : `Line ${e.line}: ${e.message}`));
  const row: BatchFileRow = {
    id,
    filename: got.filename!,
    purpose: got.purpose!,
    bytes: (await stat(path)).size,
    path,
    owner: ownerOf(c.get('identity')),
    created_at: Math.floor(Date.now() / 1000),
    status: errors.length ? 'error' : 'processed',
    status_details: errors.length ? details.join(' ') + (errors.length > DETAILS_LINES ? ` (${errors.length - DETAILS_LINES} more)` : '') : null,
  };
  jobStores(deps.db).files.insert(row);
  return c.json(fileObject(row));
}

function limitOf(c: Context<AppEnv>, max: number, dflt: number): number {
  const v = c.req.query('limit');
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new HttpError(400, `Invalid 'limit': an integer from 1 to ${max}.`, { param: 'limit', code: 'invalid_value' });
  return n;
}

export function registerFileRoutes(app: Hono<AppEnv>, deps: AppDeps, base: string): void {
  app.post(`${base}/files`, (c) => upload(c, deps));
  app.get(`${base}/files`, (c) => {
    const limit = limitOf(c, 10_000, 10_000);
    const order = c.req.query('order') === 'asc' ? 'asc' : 'desc';
    const rows = jobStores(deps.db).files.list(visibleOwner(c.get('identity')), { purpose: c.req.query('purpose'), limit: limit + 1, after: c.req.query('after'), order });
    return c.json(listPage(rows, limit, fileObject));
  });
  app.get(`${base}/files/:file_id`, (c) => c.json(fileObject(fileFor(c, deps, c.req.param('file_id')))));
  app.get(`${base}/files/:file_id/content`, (c) => {
    const f = fileFor(c, deps, c.req.param('file_id'));
    const body = Readable.toWeb(createReadStream(f.path)) as unknown as ReadableStream;
    return new Response(body, { status: 200, headers: { 'content-type': 'application/jsonl', 'content-length': String(f.bytes) } });
  });
  app.delete(`${base}/files/:file_id`, async (c) => {
    const f = fileFor(c, deps, c.req.param('file_id'));
    jobStores(deps.db).files.delete(f.id);
    await rm(f.path, { force: true });
    return c.json({ id: f.id, object: 'file', deleted: true });
  });
}
