/**
 * @module Image bytes in and out of the platform routes: base64 or file uploads sniffed by the one
 * image sniffer (media/image-check.ts), the first image of a result, and the attachment response.
 */
import type { ImageResult } from '../../providers/openai-types.js';
import { HttpError } from '../../errors/http-error.js';
import { sniffImageMime } from '../../media/image-check.js';
import type { ServedBy } from '../../pipeline/run-request.js';
import { servedHeaders } from '../../inbound/served-headers.js';

export interface ImageBytes {
  data: Uint8Array;
  mimeType: string;
}

export const EXT: Readonly<Record<string, string>> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/gif': 'gif', 'image/webp': 'webp' };

/** base64 (a data: URI allowed) → image bytes and type; 400 invalid_format_error otherwise. */
export function decodeImage(value: string, field: string): ImageBytes {
  const b64 = value.startsWith('data:') ? value.slice(value.indexOf(',') + 1) : value;
  const data = Buffer.from(b64.trim(), 'base64');
  const mimeType = data.byteLength ? sniffImageMime(data) : undefined;
  if (!mimeType) throw new HttpError(400, `Invalid ${field}: expected a base64-encoded PNG, JPEG, GIF or WEBP image`);
  return { data, mimeType };
}

export async function fileImage(f: File, field: string): Promise<ImageBytes> {
  const data = new Uint8Array(await f.arrayBuffer());
  const mimeType = sniffImageMime(data);
  if (!mimeType) throw new HttpError(400, `Invalid ${field}: expected a PNG, JPEG, GIF or WEBP image file`);
  return { data, mimeType };
}

/** The first image of a result as bytes (b64_json, or a data: URI in `url`). */
export function firstImage(r: ImageResult): ImageBytes {
  const d = r.data[0];
  const b64 = d?.b64_json ?? (d?.url?.startsWith('data:') ? d.url.slice(d.url.indexOf(',') + 1) : undefined);
  if (!b64) throw new HttpError(502, 'The image model answered no image bytes');
  const data = Buffer.from(b64, 'base64');
  return { data, mimeType: sniffImageMime(data) ?? 'image/png' };
}

export function imageResponse(img: ImageBytes, stem: string, served: ServedBy): Response {
  return new Response(img.data as Uint8Array<ArrayBuffer>, {
    status: 200,
    headers: {
      'content-type': img.mimeType,
      'content-disposition': `attachment; filename=${stem}.${EXT[img.mimeType] ?? 'png'}`,
      'content-length': String(img.data.byteLength),
      ...servedHeaders(served),
    },
  });
}
