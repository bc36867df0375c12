/**
 * @module BMP → raw RGBA pixels for sharp, which has no BMP loader (libvips reads BMP only through
 * ImageMagick, which sharp's binaries leave out). Skia decodes it, through @napi-rs/canvas: already
 * a dependency for PDF pages, and loaded here only when the first BMP arrives. The size in the
 * header is checked against the pixel limit before anything is decoded.
 */
import { DocumentError } from './document-error.js';

export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
  channels: 4;
}

/** Width and height from a BMP header (core or info header), or undefined when it has none. */
export function bmpSize(b: Uint8Array): { width: number; height: number } | undefined {
  if (b.length < 26) return undefined;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const dib = view.getUint32(14, true);
  // OS/2 core header: 16-bit sides; every later header: 32-bit, height negative for top-down rows.
  const width = dib === 12 ? view.getUint16(18, true) : view.getInt32(18, true);
  const height = dib === 12 ? view.getUint16(20, true) : Math.abs(view.getInt32(22, true));
  return width > 0 && height > 0 ? { width, height } : undefined;
}

/** The header's size, refused when unreadable or over `maxPixels` (before any decode). */
export function checkBmpSize(bytes: Uint8Array, maxPixels: number): { width: number; height: number } {
  const size = bmpSize(bytes);
  if (!size) throw new DocumentError('corrupt_image', 'the BMP image has no valid width or height');
  if (size.width * size.height > maxPixels) {
    throw new DocumentError('image_too_large', `the image is ${size.width}x${size.height} pixels, over the limit of ${maxPixels} pixels`);
  }
  return size;
}

type Canvas = typeof import('@napi-rs/canvas');
let canvasModule: Promise<Canvas> | undefined;

export async function decodeBmp(bytes: Uint8Array, maxPixels: number): Promise<RawImage> {
  checkBmpSize(bytes, maxPixels);
  const { loadImage, createCanvas } = await (canvasModule ??= import('@napi-rs/canvas'));
  let img: Awaited<ReturnType<Canvas['loadImage']>>;
  try {
    img = await loadImage(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch {
    throw new DocumentError('corrupt_image', 'the BMP image could not be decoded (corrupt or truncated)');
  }
  // Skia's own reading of the header decides the canvas, never more pixels than checked above.
  if (!img.width || !img.height || img.width * img.height > maxPixels) throw new DocumentError('corrupt_image', 'the BMP image could not be decoded');
  const canvas = createCanvas(img.width, img.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const pixels = ctx.getImageData(0, 0, img.width, img.height).data;
  return { data: Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength), width: img.width, height: img.height, channels: 4 };
}
