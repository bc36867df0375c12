/**
 * @module OpenAI's `encoding_format: "base64"` for embeddings: the vector as little-endian float32
 * bytes, base64-encoded (what the OpenAI API answers and its SDKs decode).
 */

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function floatsToBase64(values: readonly number[]): string {
  const f32 = Float32Array.from(values);
  // Float32Array uses the platform's byte order; every platform node runs on is little-endian, but a
  // big-endian one must not produce vectors nobody can read.
  if (!LITTLE_ENDIAN) {
    const view = new DataView(f32.buffer);
    for (let i = 0; i < f32.length; i++) view.setFloat32(i * 4, f32[i]!, true);
  }
  return Buffer.from(f32.buffer, f32.byteOffset, f32.byteLength).toString('base64');
}
