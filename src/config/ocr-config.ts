/** @module aisbf.json `ocr`: the OCR route POST /api/ocr, and the limits of chat `file` parts (issue 19; docs/ocr.md). */
import { z } from 'zod';

export const OCR_RESOLUTIONS = ['tiny', 'small', 'base', 'large', 'gundam'] as const;
export type OcrResolution = (typeof OCR_RESOLUTIONS)[number];

const ocrSection = z
  .strictObject({
    /** A PDF with more pages is refused (400), before any page is rendered; chat files too. */
    max_pages: z.number().int().positive().max(1000).default(50),
    /** Largest upload, or one chat file, in MB (413 over it). */
    max_mb: z.number().positive().max(100).default(10),
    /** What serves OCR when the request names no model: `provider/model`, a rotation or autoselect id. */
    target: z.string().min(1).optional(),
    /** Pages of one PDF sent to the model at once. */
    parallelism: z.number().int().positive().max(16).default(3),
    /** When X-Resolution is absent (the seed's default is large). */
    default_resolution: z.enum(OCR_RESOLUTIONS).default('large'),
    /** Pixel limit of one input image or rendered page (decompression bombs are refused). */
    max_pixels: z.number().int().positive().max(200_000_000).default(40_000_000),
  });

export const ocrConfigSchema = ocrSection.optional();
export type OcrSettings = z.output<typeof ocrSection>;
/** The settings when aisbf.json has no `ocr` section. */
export const OCR_DEFAULTS: OcrSettings = Object.freeze(ocrSection.parse({}));
