/**
 * @module Gets the bytes of an `image_url` for providers that need bytes: decodes `data:` URLs, and
 * fetches http(s) URLs with a size limit and a timeout. Loopback, private, link-local and other
 * special addresses are refused (the gateway must not become a way into the user's network) unless
 * `images.allow_private_addresses` is set.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ProviderError } from './provider-error.js';
import { sniffImageMime } from '../media/image-check.js';
import { toAbortSignal, type AbortLike } from './lite-abort.js';

export interface ImageBytes {
  mediaType: string;
  base64: string;
}

export interface FetchImageOptions {
  signal: AbortLike;
  timeoutMs?: number;
  maxBytes?: number;
  allowPrivate?: boolean;
  /** For error messages. */
  provider?: string;
  model?: string;
}

export const DEFAULT_IMAGE_MAX_BYTES = 20 * 1024 * 1024;
export const DEFAULT_IMAGE_TIMEOUT_MS = 10_000;

const DATA_URL_RE = /^data:([^;,]+)?((?:;[^;,]+)*?)(;base64)?,/i;

/** Parses a `data:` URL; undefined for anything else. Non-base64 payloads are re-encoded. */
export function parseDataUrl(url: string): ImageBytes | undefined {
  const m = DATA_URL_RE.exec(url);
  if (!m) return undefined;
  const mediaType = (m[1] ?? 'application/octet-stream').toLowerCase();
  const payload = url.slice(m[0].length);
  const base64 = m[3] ? payload : Buffer.from(decodeURIComponent(payload), 'utf8').toString('base64');
  return { mediaType, base64 };
}

/** True for addresses a gateway should not fetch on a client's behalf. */
export function isPrivateAddress(ip: string): boolean {
  if (isIP(ip) === 4) {
    const [a, b] = ip.split('.').map(Number) as [number, number];
    return (
      a === 0 || a === 10 || a === 127 || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 192 && b === 0) || (a === 198 && (b === 18 || b === 19)) || a >= 224
    );
  }
  const v6 = ip.toLowerCase();
  if (v6 === '::' || v6 === '::1') return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(v6);
  if (mapped) return isPrivateAddress(mapped[1]!);
  return /^(fc|fd|fe8|fe9|fea|feb|ff)/.test(v6);
}

function bad(message: string, opts: FetchImageOptions): ProviderError {
  return new ProviderError(message, { kind: 'bad_request', status: 400, provider: opts.provider ?? '-', model: opts.model ?? '-', param: 'messages', code: 'invalid_image_url' });
}

/** The bytes of an image URL (data: or http(s)), as base64 with its media type. */
export async function fetchImage(url: string, opts: FetchImageOptions): Promise<ImageBytes> {
  const data = parseDataUrl(url);
  if (data) return data;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw bad(`image_url is neither a data: URL nor a valid http(s) URL`, opts);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw bad(`image_url scheme ${parsed.protocol} is not supported; use data: or http(s)`, opts);
  if (!opts.allowPrivate) {
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    const addresses = isIP(host) ? [host] : (await lookup(host, { all: true }).catch(() => [])).map((a) => a.address);
    if (addresses.length === 0) throw bad(`image_url host ${host} could not be resolved`, opts);
    if (addresses.some(isPrivateAddress)) throw bad(`image_url points at a private or loopback address (${host}); refused`, opts);
  }
  const maxBytes = opts.maxBytes ?? DEFAULT_IMAGE_MAX_BYTES;
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_IMAGE_TIMEOUT_MS);
  let res: Response;
  try {
    // redirect: 'error' so a public URL cannot bounce the fetch to a private address.
    res = await fetch(parsed, { signal: AbortSignal.any([toAbortSignal(opts.signal), timeout]), redirect: 'error' });
  } catch (err) {
    if (opts.signal.aborted) throw err;
    throw bad(`image_url could not be fetched: ${timeout.aborted ? 'timed out' : (err as Error).message}`, opts);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw bad(`image_url answered HTTP ${res.status}`, opts);
  }
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw bad(`image at image_url is larger than ${maxBytes} bytes`, opts);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > maxBytes) throw bad(`image at image_url is larger than ${maxBytes} bytes`, opts);
    chunks.push(chunk);
  }
  const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase() || sniffImageType(chunks[0]) || 'application/octet-stream';
  return { mediaType: mediaType.startsWith('image/') ? mediaType : (sniffImageType(chunks[0]) ?? mediaType), base64: Buffer.concat(chunks).toString('base64') };
}

/** The image type from its first bytes (JPEG, PNG, GIF, WebP): the one sniffer, media/image-check.ts. */
export function sniffImageType(head: Uint8Array | undefined): string | undefined {
  return head ? sniffImageMime(head) : undefined;
}
