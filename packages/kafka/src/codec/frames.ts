/** Frames over Kafka: the JPEG bytes are the message value, the frame's identity is a header. */
import { FrameRefSchema, SCHEMA_VERSION, type Frame, type FrameRef } from '@emostream/contracts';
import { HEADER, checkSchemaField, checkSchemaHeader, fail, header, zodDetail, type Decoded, type InMessage, type OutMessage } from './message.js';

/** A frame whose pixels are JPEG (what travels on the frames topic). */
export type JpegFrame = FrameRef & { pixels: { format: 'jpeg'; data: Buffer } };

/**
 * Encodes a JPEG frame: value = JPEG, key = camera id, identity in the `emostream-frame` header;
 * `live` marks frames of a live camera (`emostream-live: 1`), which a stage that is behind may shed.
 */
export function encodeFrame(frame: JpegFrame, opts: { live?: boolean } = {}): OutMessage {
  const { pixels, ...ref } = frame;
  return {
    key: frame.cameraId,
    value: pixels.data,
    headers: {
      [HEADER.schema]: String(SCHEMA_VERSION), [HEADER.kind]: 'frame', [HEADER.contentType]: 'image/jpeg',
      [HEADER.frame]: JSON.stringify(ref satisfies FrameRef),
      ...(opts.live ? { [HEADER.live]: '1' } : {}),
    },
  };
}

/** Whether a frames-topic message comes from a live camera (see {@link encodeFrame}). */
export function isLiveFrame(m: InMessage): boolean {
  return header(m, HEADER.live) === '1';
}

/**
 * Decodes a frames-topic message. Checks the schema version, the identity header against the
 * schema, and that the value starts like a JPEG (full decoding, which catches truncation, is
 * the detector's: see its adapter).
 */
export function decodeFrame(m: InMessage): Decoded<Frame> {
  const bad = checkSchemaHeader<Frame>(m, SCHEMA_VERSION);
  if (bad) return bad;
  const raw = header(m, HEADER.frame);
  if (raw === undefined) return fail('malformed', `no ${HEADER.frame} header: not a frame`);
  let ref: unknown;
  try { ref = JSON.parse(raw); } catch (e) { return fail('malformed', `${HEADER.frame} header is not JSON: ${(e as Error).message}`); }
  const version = checkSchemaField<Frame>((ref as { schemaVersion?: unknown } | null)?.schemaVersion, SCHEMA_VERSION, 'frame');
  if (version) return version;
  const r = FrameRefSchema.strict().safeParse(ref);
  if (!r.success) return fail('malformed', `frame header: ${zodDetail(r.error)}`);
  const data = m.value;
  // JPEG starts with SOI (FF D8) and the next marker's FF.
  if (!data || data.length < 4 || data[0] !== 0xff || data[1] !== 0xd8 || data[2] !== 0xff) {
    return fail('undecodable_image', `frame ${r.data.cameraId}#${r.data.seq}: value is not a JPEG (${data?.length ?? 0} bytes)`);
  }
  return { ok: true, value: { ...r.data, pixels: { format: 'jpeg', data } } };
}
