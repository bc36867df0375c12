import { describe, expect, it } from 'vitest';
import { OCR_DEFAULTS, ocrConfigSchema } from '../../src/config/ocr-config.js';

describe('aisbf.json ocr', () => {
  it('has the documented defaults', () => {
    expect(OCR_DEFAULTS).toEqual({ max_pages: 50, max_mb: 10, parallelism: 3, default_resolution: 'large', max_pixels: 40_000_000 });
    expect(ocrConfigSchema.parse(undefined)).toBeUndefined();
    expect(ocrConfigSchema.parse({ target: 'vllm/deepseek-ocr', max_pages: 10 })).toMatchObject({ target: 'vllm/deepseek-ocr', max_pages: 10, parallelism: 3 });
  });

  it('refuses unknown keys and bad values', () => {
    expect(ocrConfigSchema.safeParse({ max_page: 10 }).success).toBe(false);
    expect(ocrConfigSchema.safeParse({ default_resolution: 'huge' }).success).toBe(false);
    expect(ocrConfigSchema.safeParse({ parallelism: 0 }).success).toBe(false);
  });
});
