/**
 * @module Reads a request body under a size limit: a declared Content-Length over the limit is refused
 * before reading; a chunked body is counted as it arrives and cut off at the limit.
 */
import { HttpError } from './errors.js';

export function tooLarge(limit: number): HttpError {
  return new HttpError(413, `Request body is larger than the limit of ${formatBytes(limit)} (server.body_limit_mb in aisbf.json).`, { code: 'request_too_large' });
}

export function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${Math.round((n / 1024 / 1024) * 10) / 10} MiB` : `${Math.round(n / 1024)} KiB`;
}

export async function readBodyText(req: Request, limit: number): Promise<string> {
  const declared = req.headers.get('content-length');
  if (declared !== null) {
    if (Number(declared) > limit) throw tooLarge(limit);
    return req.text();
  }
  if (!req.body) return '';
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
