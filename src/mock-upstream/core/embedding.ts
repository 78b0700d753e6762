/**
 * Deterministic unit-length embedding vectors: the text's SHA-256 seeds a small PRNG, so the
 * same text always maps to the same vector and different texts to different ones.
 */
import { createHash } from 'node:crypto';

export const DEFAULT_EMBEDDING_DIMENSIONS = 8;

export function embedText(text: string, dimensions: number): number[] {
  const digest = createHash('sha256').update(text).digest();
  // xorshift128 seeded from the digest; any non-zero seed works
  let a = digest.readUInt32LE(0) | 1;
  let b = digest.readUInt32LE(4);
  let c = digest.readUInt32LE(8);
  let d = digest.readUInt32LE(12);
  const raw = new Array<number>(dimensions);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    let t = a ^ (a << 11);
    a = b;
    b = c;
    c = d;
    d = (d ^ (d >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    t = (d / 0xffffffff) * 2 - 1;
    raw[i] = t;
    norm += t * t;
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let i = 0; i < dimensions; i++) raw[i] = Math.round((raw[i] as number) * scale * 1e8) / 1e8;
  return raw;
}

/** Little-endian float32 bytes in base64, as OpenAI's `encoding_format: "base64"` returns. */
export function toBase64Float32(values: readonly number[]): string {
  const floats = Float32Array.from(values);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64');
}
