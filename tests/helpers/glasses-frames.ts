/**
 * @module Camera frames for the glasses routes (`POST /process`): real image bytes built in memory,
 * and the multipart form a pair of glasses sends. `makeTestFrame()` is what the benchmark sends at
 * 1 FPS (with `addGlassesProfile` for each simulated pair); the other builders cover each format.
 */
import type { Db } from '../../src/store/db.js';
import { hashAuthKey } from '../../src/glasses/auth-key.js';
import { openGlassesStores } from '../../src/glasses/glasses-data.js';
import { makePng } from './png.js';

/** A valid 1x1 JPEG (a tiny well-formed JFIF: SOI, APP0, DQT, SOF2, DHT, SOS and scan data). */
const JPEG_1X1 = Buffer.from(
  '/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=',
  'base64',
);

/** The 1x1 JPEG with its start-of-frame size rewritten (header-level tests: zero or huge dimensions). */
export function makeJpeg(width = 1, height = 1): Buffer {
  const b = Buffer.from(JPEG_1X1);
  const sof = b.indexOf(Buffer.from([0xff, 0xc2]));
  b.writeUInt16BE(height, sof + 5);
  b.writeUInt16BE(width, sof + 7);
  return b;
}

/** A GIF89a, one colour, the given size. */
export function makeGif(width = 1, height = 1): Buffer {
  const header = Buffer.from('GIF89a', 'ascii');
  const lsd = Buffer.alloc(7);
  lsd.writeUInt16LE(width, 0);
  lsd.writeUInt16LE(height, 2);
  lsd[4] = 0x80; // global colour table, 2 entries
  const gct = Buffer.from([0, 0, 0, 255, 255, 255]);
  const image = Buffer.alloc(10);
  image[0] = 0x2c;
  image.writeUInt16LE(width, 5);
  image.writeUInt16LE(height, 7);
  const data = Buffer.from([0x02, 0x02, 0x44, 0x01, 0x00]); // LZW min size 2, one sub-block, terminator
  return Buffer.concat([header, lsd, gct, image, data, Buffer.from([0x3b])]);
}

/** A lossless WebP (VP8L) header for the given size; the pixel data is a single-colour stub. */
export function makeWebp(width = 1, height = 1): Buffer {
  const vp8l = Buffer.alloc(5 + 5);
  vp8l[0] = 0x2f;
  const bits = ((width - 1) & 0x3fff) | (((height - 1) & 0x3fff) << 14);
  vp8l.writeUInt32LE(bits >>> 0, 1);
  const chunk = Buffer.concat([Buffer.from('VP8L', 'ascii'), Buffer.alloc(4), vp8l]);
  chunk.writeUInt32LE(vp8l.length, 4);
  const riff = Buffer.concat([Buffer.from('RIFF', 'ascii'), Buffer.alloc(4), Buffer.from('WEBP', 'ascii'), chunk]);
  riff.writeUInt32LE(riff.length - 8, 4);
  return riff;
}

/** A 64x48 PNG, like a downscaled camera frame; a different colour per `seq` so frames differ. */
export function makeTestFrame(seq = 0): { bytes: Buffer; mime: string; filename: string } {
  const rgb: [number, number, number] = [(seq * 37) % 256, (seq * 91) % 256, 128];
  return { bytes: makePng(64, 48, rgb), mime: 'image/png', filename: `frame-${seq}.png` };
}

/** The multipart body of `POST /process`: image, username, optional prompt and auth_key. */
export function processForm(opts: { image: Buffer; username: string; prompt?: string; authKey?: string; mime?: string; filename?: string }): FormData {
  const form = new FormData();
  form.set('image', new Blob([new Uint8Array(opts.image)], { type: opts.mime ?? 'image/jpeg' }), opts.filename ?? 'frame.jpg');
  form.set('username', opts.username);
  if (opts.prompt !== undefined) form.set('prompt', opts.prompt);
  if (opts.authKey !== undefined) form.set('auth_key', opts.authKey);
  return form;
}

/**
 * Adds a glasses profile straight into a server's database (`running.deps.db`), as
 * `aisbf profile add` would. Its first `/process` pays for one scrypt check; later ones are cached.
 */
export async function addGlassesProfile(db: Db, username: string, authKey: string): Promise<void> {
  if (!openGlassesStores(db).profiles.create(username, await hashAuthKey(authKey))) throw new Error(`profile ${username} exists`);
}
