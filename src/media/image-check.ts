/**
 * @module The one image sniffer (glasses frames, VisionAI, platform compat). Validates an upload without decoding it: the real type from its magic bytes
 * (JPEG, PNG, WebP, GIF only — never the client's declared type or file name), and its pixel size
 * from the format's header, which must be non-zero and sane.
 */

export type ImageKind = 'jpeg' | 'png' | 'webp' | 'gif';

export interface CheckedImage {
  kind: ImageKind;
  mime: string;
  /** File extension we use when storing it. */
  ext: string;
  width: number;
  height: number;
}

export const MAX_IMAGE_SIDE = 10_000;

const MIME: Record<ImageKind, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif' };
const EXT: Record<ImageKind, string> = { jpeg: 'jpg', png: 'png', webp: 'webp', gif: 'gif' };

/** Why an upload is not an image we accept; the message follows "Invalid image: ". */
export class ImageCheckError extends Error {
  override readonly name = 'ImageCheckError';
}

/** The image's real mime type from its magic bytes, or undefined for anything but JPEG/PNG/WebP/GIF. */
export function sniffImageMime(b: Uint8Array): string | undefined {
  const kind = sniffImageKind(b);
  return kind && MIME[kind];
}

export function sniffImageKind(b: Uint8Array): ImageKind | undefined {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a) return 'png';
  if (b.length >= 6 && ascii(b, 0, 6) === 'GIF87a') return 'gif';
  if (b.length >= 6 && ascii(b, 0, 6) === 'GIF89a') return 'gif';
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP') return 'webp';
  return undefined;
}

/** Checks type and dimensions; throws ImageCheckError saying what is wrong. */
export function checkImage(bytes: Uint8Array, maxSide = MAX_IMAGE_SIDE): CheckedImage {
  if (bytes.length === 0) throw new ImageCheckError('the file is empty');
  const kind = sniffImageKind(bytes);
  if (!kind) throw new ImageCheckError('not a JPEG, PNG, WebP or GIF file');
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = kind === 'png' ? pngSize(b) : kind === 'gif' ? gifSize(b) : kind === 'webp' ? webpSize(b) : jpegSize(b);
  if (!size) throw new ImageCheckError(`truncated or corrupt ${kind.toUpperCase()} header`);
  if (size.width === 0 || size.height === 0) throw new ImageCheckError(`${kind.toUpperCase()} has zero width or height`);
  if (size.width > maxSide || size.height > maxSide) {
    throw new ImageCheckError(`${size.width}x${size.height} pixels is larger than ${maxSide} pixels a side`);
  }
  return { kind, mime: MIME[kind], ext: EXT[kind], ...size };
}

function ascii(b: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...b.subarray(start, end));
}

type Size = { width: number; height: number };

function pngSize(b: Buffer): Size | undefined {
  // Signature, then the IHDR chunk must come first: length 13, type, width, height (big-endian).
  if (b.length < 33 || b.readUInt32BE(8) !== 13 || b.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

function gifSize(b: Buffer): Size | undefined {
  if (b.length < 13) return undefined;
  return { width: b.readUInt16LE(6), height: b.readUInt16LE(8) };
}

function webpSize(b: Buffer): Size | undefined {
  if (b.length < 30) return undefined;
  const chunk = b.toString('latin1', 12, 16);
  if (chunk === 'VP8 ') {
    // Lossy: a 3-byte frame tag, the start code 9d 01 2a, then 14-bit width and height.
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return undefined;
    return { width: b.readUInt16LE(26) & 0x3fff, height: b.readUInt16LE(28) & 0x3fff };
  }
  if (chunk === 'VP8L') {
    if (b[20] !== 0x2f) return undefined;
    const bits = b.readUInt32LE(21);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X') {
    return { width: b.readUIntLE(24, 3) + 1, height: b.readUIntLE(27, 3) + 1 };
  }
  return undefined;
}

/** Walks the JPEG segments to the first start-of-frame marker, which holds the size. */
function jpegSize(b: Buffer): Size | undefined {
  let i = 2;
  while (i + 3 < b.length) {
    if (b[i] !== 0xff) return undefined;
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    // Markers without a length field.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      i += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return undefined; // end of image / scan before any frame
    const len = b.readUInt16BE(i + 2);
    if (len < 2) return undefined;
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (i + 9 > b.length) return undefined;
      return { height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7) };
    }
    i += 2 + len;
  }
  return undefined;
}
