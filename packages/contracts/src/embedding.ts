/**
 * A face's appearance embedding as it travels between stages: the vector scaled so that its
 * largest component is ±127, quantised to int8 and base64-encoded (a 1024-d embedding is 1,368
 * characters). Only its direction matters (cosine similarity), which survives the quantisation
 * to about ±0.003.
 */

/** Packs an embedding (any length up to 6,000) for a message. */
export function packEmbedding(v: ArrayLike<number>): string {
  let max = 0;
  for (let i = 0; i < v.length; i++) max = Math.max(max, Math.abs(v[i]));
  const scale = max > 0 ? 127 / max : 0;
  const q = new Int8Array(v.length);
  for (let i = 0; i < v.length; i++) q[i] = Math.round(v[i] * scale);
  return Buffer.from(q.buffer, q.byteOffset, q.byteLength).toString('base64');
}

/** Unpacks a message's embedding (the direction of the vector packed; its largest component ±1). */
export function unpackEmbedding(s: string): number[] {
  const b = Buffer.from(s, 'base64');
  const q = new Int8Array(b.buffer, b.byteOffset, b.byteLength);
  return Array.from(q, (x) => x / 127);
}
