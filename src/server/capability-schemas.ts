/**
 * @module Small helpers the capability routes share for inbound bodies: required-field checks worded
 * as OpenAI words them, and file types guessed from names when a client sends no content type.
 */
import { HttpError } from './errors.js';

/** A missing field is OpenAI's `Missing required parameter: 'x'.` (zod unions would say less). */
export function requireFields(body: Record<string, unknown>, fields: readonly string[]): void {
  for (const f of fields) {
    if (body[f] === undefined || body[f] === null || body[f] === '') {
      throw new HttpError(400, `Missing required parameter: '${f}'.`, { param: f, code: 'missing_required_parameter' });
    }
  }
}

const BY_EXTENSION: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  flac: 'audio/flac',
  mp3: 'audio/mpeg',
  mpga: 'audio/mpeg',
  mpeg: 'audio/mpeg',
  mp4: 'audio/mp4',
  m4a: 'audio/mp4',
  ogg: 'audio/ogg',
  oga: 'audio/ogg',
  opus: 'audio/ogg',
  wav: 'audio/wav',
  webm: 'audio/webm',
};

export function extensionOf(filename: string): string {
  const dot = filename.lastIndexOf('.');
  return dot >= 0 ? filename.slice(dot + 1).toLowerCase() : '';
}

/** The file's type: the one sent, or guessed from its name when the client sent none. */
export function fileType(f: { filename: string; mimeType: string }): string {
  const sent = f.mimeType.split(';')[0]!.trim().toLowerCase();
  if (sent && sent !== 'application/octet-stream') return sent;
  return BY_EXTENSION[extensionOf(f.filename)] ?? sent;
}
