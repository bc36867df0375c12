import { describe, expect, it } from 'vitest';
import { contradicts, sniffFileType } from '../../src/documents/sniff-file-type.js';
import { jpegImage, pngImage, twoPagePdf } from './make-documents.js';
import sharp from 'sharp';

describe('sniffFileType', () => {
  it('knows JPEG, PNG, WebP, TIFF and PDF by their bytes', async () => {
    expect(sniffFileType(await jpegImage(4, 4))).toBe('image/jpeg');
    expect(sniffFileType(await pngImage(4, 4))).toBe('image/png');
    const base = sharp({ create: { width: 4, height: 4, channels: 3, background: '#fff' } });
    expect(sniffFileType(await base.clone().webp().toBuffer())).toBe('image/webp');
    expect(sniffFileType(await base.clone().tiff().toBuffer())).toBe('image/tiff');
    expect(sniffFileType(await twoPagePdf())).toBe('application/pdf');
  });

  it('knows a BMP by its header, and does not take text that starts with "BM" for one', () => {
    const bmp = Buffer.alloc(60);
    bmp.write('BM', 0, 'latin1');
    bmp.writeUInt32LE(60, 2);
    bmp.writeUInt32LE(54, 10);
    bmp.writeUInt32LE(40, 14);
    expect(sniffFileType(bmp)).toBe('image/bmp');
    expect(sniffFileType(Buffer.from('BMW is a car maker, not a bitmap header at all'))).toBeUndefined();
  });

  it('finds a PDF header after leading junk, and refuses text, empty input and GIF', () => {
    expect(sniffFileType(Buffer.concat([Buffer.from('\r\n  '), Buffer.from('%PDF-1.4\n')]))).toBe('application/pdf');
    expect(sniffFileType(Buffer.from('hello world'))).toBeUndefined();
    expect(sniffFileType(Buffer.alloc(0))).toBeUndefined();
    expect(sniffFileType(Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1'))).toBeUndefined();
  });

  it('judges a declared type against the sniffed one: aliases agree, generic types never contradict', () => {
    expect(contradicts('image/jpg', 'image/jpeg')).toBe(false);
    expect(contradicts('application/pdf; name=x.pdf', 'application/pdf')).toBe(false);
    expect(contradicts('application/octet-stream', 'image/png')).toBe(false);
    expect(contradicts('', undefined)).toBe(false);
    expect(contradicts('image/png', 'image/jpeg')).toBe(true);
    expect(contradicts('text/plain', 'application/pdf')).toBe(true);
    expect(contradicts('application/pdf', undefined)).toBe(true);
    // Unknown bytes declared as text are judged as text by the caller.
    expect(contradicts('text/plain', undefined)).toBe(false);
  });
});
