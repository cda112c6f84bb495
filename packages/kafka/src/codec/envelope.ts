/**
 * A compact binary envelope for messages that carry bytes beside structured fields (the faces
 * message: JSON metadata + 2304-byte crops), so bytes never travel as base64 inside JSON.
 *
 * Layout (big-endian): "ES" (2 bytes) · envelope version (1) · kind (1) · JSON length (u32) ·
 * JSON (UTF-8) · payload bytes.
 */

const MAGIC0 = 0x45; // 'E'
const MAGIC1 = 0x53; // 'S'
const ENVELOPE_VERSION = 1;
const HEAD = 8;

/** Kinds of envelope. */
export const ENVELOPE_KIND = { faces: 1 } as const;

/** Packs JSON metadata and a binary payload. */
export function packEnvelope(kind: number, meta: unknown, payload: readonly Uint8Array[]): Buffer {
  const json = Buffer.from(JSON.stringify(meta), 'utf8');
  const size = payload.reduce((a, p) => a + p.length, 0);
  const out = Buffer.allocUnsafe(HEAD + json.length + size);
  out[0] = MAGIC0; out[1] = MAGIC1; out[2] = ENVELOPE_VERSION; out[3] = kind;
  out.writeUInt32BE(json.length, 4);
  json.copy(out, HEAD);
  let at = HEAD + json.length;
  for (const p of payload) { out.set(p, at); at += p.length; }
  return out;
}

/** Unpacks an envelope; throws with a one-line reason when it is not one. */
export function unpackEnvelope(buf: Buffer, kind: number): { meta: unknown; payload: Buffer } {
  if (buf.length < HEAD || buf[0] !== MAGIC0 || buf[1] !== MAGIC1) throw new Error('not an emostream envelope (bad magic)');
  if (buf[2] !== ENVELOPE_VERSION) throw new Error(`envelope version ${buf[2]} is not ${ENVELOPE_VERSION}`);
  if (buf[3] !== kind) throw new Error(`envelope kind ${buf[3]} is not ${kind}`);
  const len = buf.readUInt32BE(4);
  if (HEAD + len > buf.length) throw new Error(`envelope metadata of ${len} bytes overruns the ${buf.length}-byte message`);
  const meta: unknown = JSON.parse(buf.subarray(HEAD, HEAD + len).toString('utf8'));
  return { meta, payload: buf.subarray(HEAD + len) };
}
