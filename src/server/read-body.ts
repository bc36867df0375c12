/**
 * @module Reads a request body under a size limit: a declared Content-Length over the limit is refused
 * before reading; a chunked body is counted as it arrives and cut off at the limit. Under node it
 * reads the IncomingMessage directly: building a WHATWG Request and web stream per request costs
 * more CPU than the rest of the body handling.
 */
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { HttpError } from './errors.js';
import { incomingOf } from './node-request.js';
import { inProcessOf } from './in-process-call.js';

export function tooLarge(limit: number): HttpError {
  return new HttpError(413, `Request body is larger than the limit of ${formatBytes(limit)} (server.body_limit_mb in aisbf.json).`, { code: 'request_too_large' });
}

export function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${Math.round((n / 1024 / 1024) * 10) / 10} MiB` : `${Math.round(n / 1024)} KiB`;
}

function readIncoming(incoming: IncomingMessage, limit: number): Promise<string> {
  const declared = incoming.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // No more chunks, and the ones held go (the later 'end' then resolves nothing).
        incoming.off('data', onData);
        chunks.length = 0;
        incoming.resume(); // drain the rest; the 413 goes out on the same connection
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    // After 'end' or 'error' the listeners stay: no data follows, a late error meets a settled
    // promise, and the message is garbage with its request. Taking them off (or `once`, which takes
    // itself off) deletes keys from the emitter's event map, ~1k instructions each on this path.
    const onEnd = () => resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'));
    const onError = (err: Error) => reject(err);
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
  });
}

/** Reads a web Request's body as bytes, refusing more than `limit` (declared, or counted as it arrives). */
export async function readRequestBytes(req: Request, limit: number, refuse: (limit: number) => Error = tooLarge): Promise<Buffer> {
  const declared = req.headers.get('content-length');
  if (declared !== null && Number(declared) > limit) throw refuse(limit);
  if (!req.body) return Buffer.alloc(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw refuse(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

export function readBodyText(c: Context, limit: number): Promise<string> {
  const inProcess = inProcessOf(c);
  if (inProcess) return Buffer.byteLength(inProcess.inProcess.bodyText) > limit ? Promise.reject(tooLarge(limit)) : Promise.resolve(inProcess.inProcess.bodyText);
  const incoming = incomingOf(c);
  return incoming && !incoming.readableEnded ? readIncoming(incoming, limit) : readRequestBytes(c.req.raw, limit).then((b) => b.toString('utf8'));
}
