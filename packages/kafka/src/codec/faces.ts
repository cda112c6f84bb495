/** Faces messages over Kafka: the binary envelope, JSON metadata (frame, boxes) + the 48x48 crops as raw bytes. */
import { FacesMetaSchema, SCHEMA_VERSION, type FacesMessage, type FacesMeta } from '@emostream/contracts';
import { ENVELOPE_KIND, packEnvelope, unpackEnvelope } from './envelope.js';
import { HEADER, checkSchemaField, checkSchemaHeader, fail, zodDetail, type Decoded, type InMessage, type OutMessage } from './message.js';

/** Bytes of one crop: 48x48 8-bit gray. */
export const CROP_BYTES = 48 * 48;

/** Encodes a faces message (crops as binary payload, in face order). */
export function encodeFaces(m: FacesMessage): OutMessage {
  for (const f of m.faces) {
    if (f.crop.length !== CROP_BYTES) throw new RangeError(`face crop of ${m.frame.cameraId}#${m.frame.seq} has ${f.crop.length} bytes, expected ${CROP_BYTES}`);
  }
  // The JSON part: FacesMetaSchema of @emostream/contracts (schemas/faces-meta.schema.json).
  const meta: FacesMeta = {
    schemaVersion: SCHEMA_VERSION,
    frame: { ...m.frame, schemaVersion: SCHEMA_VERSION },
    faces: m.faces.map(({ crop: _crop, ...face }) => face),
  };
  return {
    key: m.frame.cameraId,
    value: packEnvelope(ENVELOPE_KIND.faces, meta, m.faces.map((f) => f.crop)),
    headers: { [HEADER.schema]: String(SCHEMA_VERSION), [HEADER.kind]: 'faces', [HEADER.contentType]: 'application/x-emostream-faces' },
  };
}

/** Decodes and validates a faces message. */
export function decodeFaces(m: InMessage): Decoded<FacesMessage> {
  const bad = checkSchemaHeader<FacesMessage>(m, SCHEMA_VERSION);
  if (bad) return bad;
  if (!m.value) return fail('malformed', 'empty value');
  let meta: unknown; let payload: Buffer;
  try { ({ meta, payload } = unpackEnvelope(m.value, ENVELOPE_KIND.faces)); } catch (e) { return fail('malformed', `faces: ${(e as Error).message}`); }
  const version = checkSchemaField<FacesMessage>((meta as { schemaVersion?: unknown } | null)?.schemaVersion, SCHEMA_VERSION, 'faces');
  if (version) return version;
  const frameVersion = checkSchemaField<FacesMessage>((meta as { frame?: { schemaVersion?: unknown } }).frame?.schemaVersion, SCHEMA_VERSION, 'faces.frame');
  if (frameVersion) return frameVersion;
  const r = FacesMetaSchema.safeParse(meta);
  if (!r.success) return fail('malformed', `faces: ${zodDetail(r.error)}`);
  const n = r.data.faces.length;
  if (payload.length !== n * CROP_BYTES) return fail('malformed', `faces: ${n} faces need ${n * CROP_BYTES} crop bytes, got ${payload.length}`);
  return {
    ok: true,
    value: {
      frame: r.data.frame,
      // Copies: the crops outlive the fetch buffer they were sliced from.
      faces: r.data.faces.map((f, i) => ({ ...f, crop: new Uint8Array(payload.subarray(i * CROP_BYTES, (i + 1) * CROP_BYTES)) })),
    },
  };
}
