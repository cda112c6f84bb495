/** The interface every face detector implements (BlazeFace, Haar, test fakes). */
import type { FaceBox } from '@emostream/contracts';

/**
 * Finds faces in one frame of raw RGB pixels. Implementations are stateless across frames (no
 * tracking, no cached boxes: frames of many cameras interleave), run one frame at a time, and
 * return boxes in source-frame pixels, clamped to the frame.
 */
export interface FaceDetector {
  /** Short name used as the `detector` label of `detectSeconds` (`blazeface`, `haar`). */
  readonly name: string;
  /**
   * Detects faces. `rgb` holds width*height*3 bytes, row-major. Boxes come back strongest first;
   * `eyes` (image-left eye as `left`) when the detector gives them.
   */
  detect(rgb: Uint8Array, width: number, height: number): Promise<FaceBox[]>;
  /**
   * Detects faces in several images at once (a frame and its tiles), one list per image in the
   * same order, as `detect` would find them one by one; absent where a detector gains nothing
   * from batching (callers then call `detect` per image: {@link detectEach}).
   */
  detectMany?(images: ReadonlyArray<DetectorImage>): Promise<FaceBox[][]>;
  /** Releases the model / native memory; the detector must not be used afterwards. */
  dispose(): Promise<void> | void;
}

/** One image for {@link FaceDetector.detectMany}: raw RGB, row-major. */
export interface DetectorImage {
  rgb: Uint8Array;
  width: number;
  height: number;
}

/** The faces of each image: in one batch where the detector can, else one image at a time. */
export async function detectEach(detector: FaceDetector, images: ReadonlyArray<DetectorImage>): Promise<FaceBox[][]> {
  if (detector.detectMany) return detector.detectMany(images);
  const out: FaceBox[][] = [];
  for (const im of images) out.push(await detector.detect(im.rgb, im.width, im.height));
  return out;
}

/** Checks that a raw RGB buffer matches its stated size (a programmer error otherwise). */
export function assertRgb(rgb: Uint8Array, width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`frame size must be positive integers, got ${width}x${height}`);
  }
  if (rgb.length !== width * height * 3) {
    throw new Error(`expected ${width}x${height}x3 = ${width * height * 3} RGB bytes, got ${rgb.length}`);
  }
}
