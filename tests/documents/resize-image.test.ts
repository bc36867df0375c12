import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { imageSize, resizeToLongSide, tileImage } from '../../src/documents/resize-image.js';
import { DocumentError } from '../../src/documents/document-error.js';
import { bmpImage, jpegImage, pngBomb, pngImage } from './make-documents.js';

describe('resize-image', () => {
  it('scales to the long side, up or down, keeping the aspect ratio', async () => {
    const down = await resizeToLongSide(await pngImage(2000, 1000), 640, 'png');
    expect([down.width, down.height, down.mime]).toEqual([640, 320, 'image/png']);
    const up = await resizeToLongSide(await jpegImage(300, 600), 1280, 'jpeg');
    expect([up.width, up.height, up.mime]).toEqual([640, 1280, 'image/jpeg']);
    const meta = await sharp(up.data).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 640, 1280]);
  });

  it('cuts tiles of 640 in reading order after scaling down to the cap', async () => {
    const tiles = await tileImage(await pngImage(3000, 1500), 640, 1920, 'png');
    // 1920 × 960 → 3 columns × 2 rows.
    expect(tiles.map((t) => `${t.width}x${t.height}`)).toEqual(['640x640', '640x640', '640x640', '640x320', '640x320', '640x320']);
  });

  it('refuses a 30000×30000 decompression bomb from its header, with bounded memory', async () => {
    const bomb = await pngBomb();
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const before = process.memoryUsage().rss;
    // One at a time: started together, a later one could reject before anything listens to it.
    for (const attempt of [() => imageSize(bomb), () => resizeToLongSide(bomb, 1024, 'png'), () => tileImage(bomb, 640, 1920, 'png')]) {
      const err = await attempt().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DocumentError);
      expect((err as DocumentError).code).toBe('image_too_large');
      expect((err as DocumentError).message).toContain('30000x30000');
    }
    // Decoding it would take ≥ 900 MB.
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 1024 * 1024);
  });

  it('reads a BMP (which sharp cannot) with its rows the right way up, and refuses a BMP bomb from its header', async () => {
    const out = await resizeToLongSide(bmpImage(300, 150), 600, 'png');
    expect([out.width, out.height, out.mime]).toEqual([600, 300, 'image/png']);
    // The top-left pixel was black in the BMP; it still is after the resize.
    const { data } = await sharp(out.data).extract({ left: 0, top: 0, width: 1, height: 1 }).raw().toBuffer({ resolveWithObject: true });
    expect(data[0]).toBeLessThan(60);
    expect(await imageSize(bmpImage(30, 20))).toEqual({ width: 30, height: 20 });
    const err = await resizeToLongSide(bmpImage(4, 4, { width: 30_000, height: 30_000 }), 640, 'png').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as DocumentError).code).toBe('image_too_large');
    expect((err as DocumentError).message).toContain('30000x30000');
  });

  it('calls a truncated image corrupt', async () => {
    const png = await pngImage(400, 400);
    const err = await resizeToLongSide(png.subarray(0, 60), 512, 'png').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as DocumentError).code).toBe('corrupt_image');
  });
});
