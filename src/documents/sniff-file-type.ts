/**
 * @module The real type of an uploaded document or image from its magic bytes (JPEG, PNG, WebP,
 * BMP, TIFF, PDF) — never from the client's declared type or file name.
 */

export const DOCUMENT_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/bmp', 'image/tiff', 'application/pdf'] as const;
export type DocumentType = (typeof DOCUMENT_TYPES)[number];

function startsWith(b: Uint8Array, sig: readonly number[], at = 0): boolean {
  if (b.length < at + sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (b[at + i] !== sig[i]) return false;
  return true;
}

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const RIFF = [0x52, 0x49, 0x46, 0x46];
const WEBP = [0x57, 0x45, 0x42, 0x50];
const PDF = [0x25, 0x50, 0x44, 0x46, 0x2d]; // %PDF-

/** How far into a file a PDF header may start (Acrobat accepts junk before it, up to 1024 bytes). */
const PDF_HEADER_WINDOW = 1024;

function findPdfHeader(b: Uint8Array): boolean {
  const end = Math.min(b.length - PDF.length, PDF_HEADER_WINDOW);
  for (let i = 0; i <= end; i++) if (b[i] === 0x25 && startsWith(b, PDF, i)) return true;
  return false;
}

/** The type the bytes say, or undefined when they are none of the supported types. */
export function sniffFileType(b: Uint8Array): DocumentType | undefined {
  if (startsWith(b, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(b, PNG)) return 'image/png';
  if (startsWith(b, RIFF) && startsWith(b, WEBP, 8)) return 'image/webp';
  // BMP: "BM", then the file size and two reserved zero words; the DIB header size at 14 is one of
  // the known ones, so a text file starting "BM" is not taken for a bitmap.
  if (startsWith(b, [0x42, 0x4d]) && b.length >= 18) {
    const dib = b[14]! | (b[15]! << 8) | (b[16]! << 16) | (b[17]! << 24);
    if ([12, 40, 52, 56, 64, 108, 124].includes(dib)) return 'image/bmp';
  }
  if (startsWith(b, [0x49, 0x49, 0x2a, 0x00]) || startsWith(b, [0x4d, 0x4d, 0x00, 0x2a])) return 'image/tiff';
  if (findPdfHeader(b)) return 'application/pdf';
  return undefined;
}

export function isImageType(t: DocumentType): boolean {
  return t !== 'application/pdf';
}

/** Declared types that name the same thing as a sniffed one. */
const ALIASES: Readonly<Record<string, DocumentType>> = {
  'image/jpg': 'image/jpeg',
  'image/pjpeg': 'image/jpeg',
  'image/x-ms-bmp': 'image/bmp',
  'image/x-bmp': 'image/bmp',
  'image/tif': 'image/tiff',
};
/** Declared types that say nothing about the content (browsers and curl send these). */
const GENERIC: ReadonlySet<string> = new Set(['', 'application/octet-stream', 'binary/octet-stream']);

/** A declared type that says nothing about the content (none, or application/octet-stream). */
export function isGenericType(declared: string): boolean {
  return GENERIC.has(normaliseDeclaredType(declared));
}

/** A declared content type, lower-cased, without parameters, aliases resolved. */
export function normaliseDeclaredType(declared: string): string {
  const d = declared.split(';')[0]!.trim().toLowerCase();
  return ALIASES[d] ?? d;
}

/**
 * True when a client's declared type contradicts the sniffed one: it names a concrete type, and the
 * bytes are another (or none we know). Generic types (`application/octet-stream`) never do.
 */
export function contradicts(declared: string, sniffed: DocumentType | undefined): boolean {
  const d = normaliseDeclaredType(declared);
  if (GENERIC.has(d)) return false;
  if (sniffed) return d !== sniffed;
  // Unknown bytes only contradict a declared document type (text is judged by its caller).
  return (DOCUMENT_TYPES as readonly string[]).includes(d);
}
