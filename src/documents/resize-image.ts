/**
 * @module Image work for documents and OCR, with `sharp`: size checks against decompression bombs
 * (the header's pixel count is checked before any decode, and sharp's own `limitInputPixels` holds
 * as well), resizing to a long side, and cutting into tiles. sharp works on libuv's thread pool, so
 * none of this blocks the event loop.
 */
import type { Metadata, OutputInfo, Sharp } from 'sharp';
import { checkBmpSize, decodeBmp } from './decode-bmp.js';
import { DocumentError } from './document-error.js';
import { sniffFileType } from './sniff-file-type.js';

type SharpFn = (typeof import('sharp'))['default'];
let sharpLoad: Promise<SharpFn> | undefined;
/** sharp and libvips (~80 ms to load) come in on the first image, not at the server's start. */
function loadSharp(): Promise<SharpFn> {
  return (sharpLoad ??= import('sharp').then(({ default: sharp }) => {
    // Nothing is re-read: the operation cache only costs memory here.
    sharp.cache(false);
    return sharp;
  }));
}

/** Default pixel limit of one input image (≈ 8000 × 5000): far above any scan, far below a bomb. */
export const DEFAULT_MAX_PIXELS = 40_000_000;

export type OutputFormat = 'png' | 'jpeg';

export interface ImageOut {
  data: Buffer;
  width: number;
  height: number;
  mime: 'image/png' | 'image/jpeg';
}

export interface ImageLimits {
  maxPixels?: number;
}

function isBmp(bytes: Uint8Array): boolean {
  return sniffFileType(bytes) === 'image/bmp';
}

async function input(sharp: SharpFn, bytes: Uint8Array, maxPixels: number): Promise<Sharp> {
  if (isBmp(bytes)) {
    const raw = await decodeBmp(bytes, maxPixels);
    return sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: raw.channels }, limitInputPixels: maxPixels });
  }
  // failOn 'error': a truncated file is refused rather than decoded half-grey.
  return sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error', sequentialRead: true });
}

/** Width and height from the header (no decode); refuses more than `maxPixels` and unreadable files. */
export async function imageSize(bytes: Uint8Array, limits: ImageLimits = {}): Promise<{ width: number; height: number }> {
  const maxPixels = limits.maxPixels ?? DEFAULT_MAX_PIXELS;
  // sharp has no BMP loader: the header is read here (decode-bmp.ts).
  if (isBmp(bytes)) return checkBmpSize(bytes, maxPixels);
  const sharp = await loadSharp();
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch {
    throw new DocumentError('corrupt_image', 'the image could not be read (corrupt or truncated)');
  }
  const { width, height } = meta;
  if (!width || !height) throw new DocumentError('corrupt_image', 'the image has no width or height');
  if (width * height > maxPixels) {
    throw new DocumentError('image_too_large', `the image is ${width}x${height} pixels, over the limit of ${maxPixels} pixels`);
  }
  // EXIF orientations 5–8 swap the sides once rotated.
  return (meta.orientation ?? 1) >= 5 ? { width: height, height: width } : { width, height };
}

async function encode(img: Sharp, format: OutputFormat): Promise<ImageOut> {
  try {
    const out = format === 'png' ? img.png({ compressionLevel: 6 }) : img.flatten({ background: '#ffffff' }).jpeg({ quality: 90, mozjpeg: false });
    const { data, info } = await out.toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, mime: format === 'png' ? 'image/png' : 'image/jpeg' };
  } catch (err) {
    if (err instanceof Error && /pixel limit/i.test(err.message)) throw new DocumentError('image_too_large', 'the image is over the pixel limit');
    throw new DocumentError('corrupt_image', 'the image could not be decoded (corrupt or truncated)');
  }
}

/** Scales the image so its long side is `longSide` pixels (up or down), honouring EXIF rotation. */
export async function resizeToLongSide(bytes: Uint8Array, longSide: number, format: OutputFormat, limits: ImageLimits = {}): Promise<ImageOut> {
  const maxPixels = limits.maxPixels ?? DEFAULT_MAX_PIXELS;
  await imageSize(bytes, { maxPixels });
  return encode((await input(await loadSharp(), bytes, maxPixels)).rotate().resize({ width: longSide, height: longSide, fit: 'inside' }), format);
}

/**
 * Cuts the image into tiles of at most `tile`×`tile` pixels in reading order (rows top to bottom,
 * left to right), after scaling it down (never up) to a long side of at most `maxLongSide`.
 */
export async function tileImage(bytes: Uint8Array, tile: number, maxLongSide: number, format: OutputFormat, limits: ImageLimits = {}): Promise<ImageOut[]> {
  const maxPixels = limits.maxPixels ?? DEFAULT_MAX_PIXELS;
  const size = await imageSize(bytes, { maxPixels });
  const sharp = await loadSharp();
  const scale = Math.min(1, maxLongSide / Math.max(size.width, size.height));
  const width = Math.max(1, Math.round(size.width * scale));
  const height = Math.max(1, Math.round(size.height * scale));
  // One decode and scale, kept as raw pixels; every tile is cut from that buffer.
  let raw: { data: Buffer; info: OutputInfo };
  try {
    raw = await (await input(sharp, bytes, maxPixels)).rotate().resize({ width, height, fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  } catch {
    throw new DocumentError('corrupt_image', 'the image could not be decoded (corrupt or truncated)');
  }
  const rawOpts = { raw: { width: raw.info.width, height: raw.info.height, channels: raw.info.channels } } as const;
  const tiles: ImageOut[] = [];
  for (let top = 0; top < raw.info.height; top += tile) {
    for (let left = 0; left < raw.info.width; left += tile) {
      const region = { left, top, width: Math.min(tile, raw.info.width - left), height: Math.min(tile, raw.info.height - top) };
      tiles.push(await encode(sharp(raw.data, rawOpts).extract(region), format));
    }
  }
  return tiles;
}
