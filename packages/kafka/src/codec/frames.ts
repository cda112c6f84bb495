/**
 * A frame's wire format, whole: raw RGB → JPEG (ingest), the message with the frame's identity
 * in a header, and the message → a frame with raw RGB pixels (the detector's input; the one RGB
 * conversion a frame goes through on its way to the detector).
 */
import sharp from 'sharp';
import { DEFAULT_MAX_FRAME_PIXELS, FrameRefSchema, SCHEMA_VERSION, type Frame, type FrameRef } from '@emostream/contracts';
import { HEADER, checkSchemaField, checkSchemaHeader, fail, header, zodDetail, type Decoded, type InMessage, type OutMessage } from './message.js';

/** A frame whose pixels are JPEG (what travels on the frames topic). */
export type JpegFrame = FrameRef & { pixels: { format: 'jpeg'; data: Buffer } };

/** JPEG quality of frames on the wire: 85 keeps faces sharp for the detector at ~40-120 KB per 720p frame. */
export const DEFAULT_JPEG_QUALITY = 85;

/** A frame as the JPEG frame that travels on the frames topic (a JPEG frame is passed as it is). */
export async function toJpegFrame(frame: Frame, quality = DEFAULT_JPEG_QUALITY): Promise<JpegFrame> {
  if (frame.pixels.format === 'jpeg') return frame as JpegFrame;
  const data = await sharp(frame.pixels.data, { raw: { width: frame.width, height: frame.height, channels: 3 } })
    .jpeg({ quality, chromaSubsampling: '4:2:0' }).toBuffer();
  return { ...frame, pixels: { format: 'jpeg', data } };
}

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

/**
 * Decodes a frames-topic message into a frame with raw RGB pixels: {@link decodeFrame}'s checks,
 * then the JPEG decoded (sharp; a truncated or corrupt image is an `undecodable_image` dead
 * letter, not a half-grey frame with phantom faces). The decoded size wins over the header's.
 *
 * `maxPixels` (the service's `EMOSTREAM_MAX_FRAME_PIXELS`, default 4096x4096): a frame of more
 * pixels, by its identity header or by the JPEG's own header, is a `frame_too_large` dead letter
 * before anything is decoded. Decoded, it would take width x height x 3 bytes: a hostile or
 * broken producer's huge frame would get the detector killed for memory, redelivered, killed again.
 */
export async function decodeFrameRgb(m: InMessage, opts: { maxPixels?: number } = {}): Promise<Decoded<Frame>> {
  const d = decodeFrame(m);
  if (!d.ok) return d;
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_FRAME_PIXELS;
  const { cameraId, seq, width, height } = d.value;
  const tooLarge = (size: string) => fail<Frame>('frame_too_large',
    `frame ${cameraId}#${seq}: ${size}, over the cap of ${maxPixels} pixels (EMOSTREAM_MAX_FRAME_PIXELS); not decoded`);
  if (width * height > maxPixels) return tooLarge(`${width}x${height} = ${width * height} pixels by its header`);
  const jpeg = d.value.pixels.data;
  try {
    // sharp reads the size from the JPEG's header and refuses before decoding.
    const { data, info } = await sharp(jpeg, { failOn: 'truncated', limitInputPixels: maxPixels })
      .removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { ok: true, value: { ...d.value, width: info.width, height: info.height, pixels: { format: 'rgb', data } } };
  } catch (e) {
    const msg = (e as Error).message;
    if (/pixel limit/i.test(msg)) {
      const real = await sharp(jpeg).metadata().then((s) => `${s.width}x${s.height} = ${s.width * s.height} pixels`, () => 'more pixels');
      return tooLarge(`its JPEG has ${real} (its header says ${width}x${height})`);
    }
    return fail('undecodable_image', `frame ${cameraId}#${seq}: ${msg}`);
  }
}
