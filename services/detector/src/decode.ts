/** Turns a frame's pixels (raw RGB in memory, JPEG over Kafka) into raw RGB. */
import sharp from 'sharp';
import type { Frame } from '@emostream/contracts';

/** A frame's pixels as raw RGB. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * Raw RGB of a frame. `rgb` pixels are checked against the frame's size and used as they are;
 * `jpeg` pixels are decoded with sharp (its size wins over the frame's, which it should match).
 * Throws on a corrupt or truncated image.
 */
export async function frameToRgb(frame: Frame): Promise<RgbImage> {
  const { pixels } = frame;
  if (pixels.format === 'rgb') {
    const expected = frame.width * frame.height * 3;
    if (pixels.data.length !== expected) {
      throw new Error(`rgb frame ${frame.cameraId}#${frame.seq}: expected ${frame.width}x${frame.height}x3 = ${expected} bytes, got ${pixels.data.length}`);
    }
    return { data: pixels.data, width: frame.width, height: frame.height };
  }
  if (pixels.format === 'jpeg') {
    // failOn 'truncated': a cut-off JPEG is an error, not a half-grey frame with phantom faces.
    const { data, info } = await sharp(pixels.data, { failOn: 'truncated' })
      .removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`jpeg frame ${frame.cameraId}#${frame.seq}: decoded to ${info.channels} channels`);
    return { data, width: info.width, height: info.height };
  }
  throw new Error(`frame ${frame.cameraId}#${frame.seq}: unknown pixel format ${(pixels as { format: string }).format}`);
}
