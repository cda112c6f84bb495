/**
 * The one preprocessing the model sees, in training and in inference: a face as 48x48 8-bit
 * gray, histogram-equalised (the paper's step), then scaled to [0, 1].
 */
import sharp from 'sharp';
import { resizeGray, toGray } from './resize.js';

/** Side of the square model input, in pixels. */
export const INPUT_SIZE = 48;
/** Pixels of one model input. */
export const INPUT_PIXELS = INPUT_SIZE * INPUT_SIZE;
/** The preprocessing in words, as model cards record it. */
export const PREPROCESSING = '48x48 gray (sRGB luminance; lanczos3 to shrink, Catmull-Rom to enlarge, as sharp), global histogram equalisation, scaled to [0,1]';

/**
 * Global histogram equalisation of 8-bit gray pixels (OpenCV's `equalizeHist`: the CDF
 * mapped so that the darkest present level goes to 0 and the brightest to 255).
 * A flat image (one level) is returned unchanged.
 */
export function equalizeHist(gray: Uint8Array): Uint8Array {
  const hist = new Uint32Array(256);
  for (let i = 0; i < gray.length; i++) hist[gray[i]]++;
  let cdfMin = 0;
  for (let v = 0; v < 256; v++) if (hist[v] > 0) { cdfMin = hist[v]; break; }
  const total = gray.length;
  if (total === 0 || cdfMin === total) return Uint8Array.from(gray);
  const lut = new Uint8Array(256);
  let cdf = 0;
  for (let v = 0; v < 256; v++) {
    cdf += hist[v];
    lut[v] = Math.max(0, Math.min(255, Math.round(((cdf - cdfMin) / (total - cdfMin)) * 255)));
  }
  const out = new Uint8Array(gray.length);
  for (let i = 0; i < gray.length; i++) out[i] = lut[gray[i]];
  return out;
}

/**
 * Resizes any gray or colour image to the model's 48x48 gray and equalises it. This is the
 * function the detector (on face crops) and the training job (on data set images) both call, so
 * the model sees the same pixels in both. Encoded images (JPEG, PNG, …) are decoded by sharp,
 * then converted as raw pixels are ({@link rawToModelCrop}); FER-2013's and CK+'s 48x48 files
 * give the same bytes as sharp's own conversion did before (all 8,159 test images checked).
 */
export async function toModelCrop(
  input: Buffer | Uint8Array,
  raw?: { width: number; height: number; channels: 1 | 3 | 4 },
  opts: { equalize?: boolean } = {},
): Promise<Uint8Array> {
  if (raw) return rawToModelCrop(input, raw.width, raw.height, raw.channels, opts);
  const { data, info } = await sharp(input).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 1 && info.channels !== 3) throw new Error(`expected a gray or RGB image after decoding, got ${info.channels} channels`);
  return rawToModelCrop(new Uint8Array(data.buffer, data.byteOffset, data.length), info.width, info.height, info.channels, opts);
}

/**
 * Raw pixels (`channels` 1, 3 or 4 a pixel) → the model's 48x48 gray, equalised: sharp's
 * grayscale and lanczos3 resize done in JavaScript (resize.ts), without a sharp call's fixed
 * cost (about 0.5 ms of the calling thread and 2 ms of a libvips thread for a face, where the
 * arithmetic takes a tenth of that). A 48x48 gray input is kept as it is, as sharp keeps it.
 */
export function rawToModelCrop(
  pixels: Uint8Array, width: number, height: number, channels: 1 | 3 | 4, opts: { equalize?: boolean } = {},
): Uint8Array {
  if (!(width > 0 && height > 0)) throw new Error(`expected a positive image size, got ${width}x${height}`);
  const gray = resizeGray(toGray(pixels, width * height, channels), width, height, INPUT_SIZE, INPUT_SIZE);
  return opts.equalize === false ? gray : equalizeHist(gray);
}

/** Decodes an image file (JPEG/PNG/...) into the model's preprocessed 48x48 crop. */
export async function imageFileToModelCrop(file: string, opts: { equalize?: boolean } = {}): Promise<Uint8Array> {
  return toModelCrop(await sharpFile(file), undefined, opts);
}

async function sharpFile(file: string): Promise<Buffer> {
  const fs = await import('node:fs/promises');
  return fs.readFile(file);
}
