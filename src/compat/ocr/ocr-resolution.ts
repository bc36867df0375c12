/**
 * @module X-Resolution (the seed's DeepSeek-OCR modes): the long side an image or page is scaled to,
 * or for gundam the tiles of 640 it is cut into.
 */
import { HttpError } from '../../errors/http-error.js';
import { OCR_RESOLUTIONS, type OcrResolution } from '../../config/ocr-config.js';

export type ResolutionPlan = { kind: 'scale'; longSide: number } | { kind: 'tiles'; tile: number; maxLongSide: number };

export const RESOLUTION_PLANS: Readonly<Record<OcrResolution, ResolutionPlan>> = {
  tiny: { kind: 'scale', longSide: 512 },
  small: { kind: 'scale', longSide: 640 },
  base: { kind: 'scale', longSide: 1024 },
  large: { kind: 'scale', longSide: 1280 },
  // Up to 3 × 3 tiles a page, as DeepSeek-OCR's gundam mode; images are never enlarged for it.
  gundam: { kind: 'tiles', tile: 640, maxLongSide: 1920 },
};

/** The header's value, or the configured default when absent; anything else is a 400 naming the header. */
export function parseResolution(header: string | undefined, fallback: OcrResolution): OcrResolution {
  if (header === undefined || header.trim() === '') return fallback;
  const v = header.trim().toLowerCase();
  if ((OCR_RESOLUTIONS as readonly string[]).includes(v)) return v as OcrResolution;
  throw new HttpError(400, `Invalid 'X-Resolution' header: expected one of ${OCR_RESOLUTIONS.join(', ')}.`, { param: 'X-Resolution', code: 'invalid_header' });
}
