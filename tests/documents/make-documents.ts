/**
 * @module Test documents made in code: PDFs with text (pdf-lib), a hand-written encrypted PDF, a
 * corrupt one, images (sharp) and a PNG decompression bomb (30000×30000, ~110 KB on the wire).
 */
import { randomBytes } from 'node:crypto';
import { createDeflate } from 'node:zlib';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import sharp from 'sharp';

/** `count` copies of `row`, deflated as a stream (the inflated size never sits in memory). */
async function deflateRows(row: Buffer, count: number): Promise<Buffer> {
  const deflate = createDeflate({ level: 9 });
  const parts: Buffer[] = [];
  deflate.on('data', (d: Buffer) => parts.push(d));
  const done = new Promise<void>((resolve, reject) => {
    deflate.on('end', resolve);
    deflate.on('error', reject);
  });
  for (let y = 0; y < count; y++) {
    if (!deflate.write(row)) await new Promise((r) => deflate.once('drain', r));
  }
  deflate.end();
  await done;
  return Buffer.concat(parts);
}

/** A PDF whose page i (1-based) reads `Page <i>: <text>` in large type. */
export async function textPdf(pageTexts: string[], size: [number, number] = [612, 792]): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  pageTexts.forEach((text, i) => {
    const page = doc.addPage(size);
    page.drawText(`Page ${i + 1}: ${text}`, { x: 40, y: size[1] - 80, size: 24, font });
  });
  return Buffer.from(await doc.save());
}

/** A portrait US-letter page, then a landscape one, each with text. */
export async function mixedSizePdf(): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (const [i, size] of ([[612, 792], [792, 612]] as const).entries()) {
    const page = doc.addPage([size[0], size[1]]);
    page.drawText(`Page ${i + 1}`, { x: 40, y: size[1] - 80, size: 24, font });
  }
  return Buffer.from(await doc.save());
}

/** The two-page PDF of the tests. */
export function twoPagePdf(): Promise<Buffer> {
  return textPdf(['hello from the first page', 'and the second page']);
}

/** A PDF from raw object bodies, with a correct xref table. */
function rawPdf(objects: string[], trailerExtra: string): Buffer {
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R ${trailerExtra} >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** Password-protected (RC4, revision 2): the empty user password does not open it. */
export function encryptedPdf(): Buffer {
  const hex = (n: number) => randomBytes(n).toString('hex');
  return rawPdf(
    [
      '<< /Type /Catalog /Pages 2 0 R >>',
      '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
      '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>',
      `<< /Filter /Standard /V 1 /R 2 /O <${hex(32)}> /U <${hex(32)}> /P -44 >>`,
    ],
    `/Encrypt 4 0 R /ID [<${hex(16)}> <${hex(16)}>]`,
  );
}

/** A page far larger than any screen (200000 pt a side): rendering must stay under the pixel limit. */
export function hugePagePdf(): Buffer {
  return rawPdf(['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [3 0 R] /Count 1 >>', '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200000 200000] >>'], '');
}

/**
 * A page showing one embedded image of 30000×30000 one-bit pixels (~110 KB deflated, 900 M pixels
 * decoded): a bomb inside a PDF, which the renderer must not decode.
 */
export async function imageBombPdf(): Promise<Buffer> {
  const side = 30_000;
  const data = (await deflateRows(Buffer.alloc(Math.ceil(side / 8)), side)).toString('latin1');
  const content = 'q 200 0 0 200 0 0 cm /Im1 Do Q';
  return rawPdf(
    [
      '<< /Type /Catalog /Pages 2 0 R >>',
      '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
      '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Resources << /XObject << /Im1 5 0 R >> >> /Contents 4 0 R >>',
      `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
      `<< /Type /XObject /Subtype /Image /Width ${side} /Height ${side} /ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /FlateDecode /Length ${data.length} >>\nstream\n${data}\nendstream`,
    ],
    '',
  );
}

/** Starts like a PDF, then nothing a PDF reader can use. */
export function corruptPdf(): Buffer {
  return Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(4096)]);
}

export function pngImage(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 250, g: 250, b: 240 } } }).png().toBuffer();
}

export function jpegImage(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 220, b: 240 } } }).jpeg().toBuffer();
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * A real PNG decompression bomb: 30000×30000 one-bit grey, every row zero. About 110 KB compressed;
 * 900 M pixels once decoded (≥ 900 MB as 8-bit grey, 3.6 GB as RGBA).
 */
export async function pngBomb(side = 30_000): Promise<Buffer> {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  // Each row: filter byte 0, then the bits.
  const idat = await deflateRows(Buffer.alloc(1 + Math.ceil(side / 8)), side);
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

export function webpImage(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 240, g: 230, b: 220 } } }).webp().toBuffer();
}

export function tiffImage(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 230, g: 240, b: 250 } } }).tiff().toBuffer();
}

/**
 * A 24-bit bottom-up BMP (sharp writes none): white, with a black top-left pixel so that row order
 * can be checked. `claimed` overrides the header's size (a bomb that claims more than it holds).
 */
export function bmpImage(width: number, height: number, claimed?: { width: number; height: number }): Buffer {
  const stride = Math.ceil((width * 3) / 4) * 4;
  const b = Buffer.alloc(54 + stride * height, 0xff);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(b.length, 2);
  b.writeUInt32LE(0, 6);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(claimed?.width ?? width, 18);
  b.writeInt32LE(claimed?.height ?? height, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  b.writeUInt32LE(0, 30);
  b.writeUInt32LE(stride * height, 34);
  // Bottom-up rows: the image's top row is the file's last one.
  b.fill(0, 54 + stride * (height - 1), 54 + stride * (height - 1) + 3);
  return b;
}
