/**
 * The one preprocessing the model sees, in training and in inference: a face as 48x48 8-bit
 * gray, histogram-equalised (the paper's step), then scaled to [0, 1].
 */
import sharp from 'sharp';

/** Side of the square model input, in pixels. */
export const INPUT_SIZE = 48;
/** Pixels of one model input. */
export const INPUT_PIXELS = INPUT_SIZE * INPUT_SIZE;
/** The preprocessing in words, as model cards record it. */
export const PREPROCESSING = '48x48 gray (sharp, lanczos3), global histogram equalisation, scaled to [0,1]';

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
 * Resizes any gray or colour image (raw pixels) to the model's 48x48 gray and equalises it.
 * This is the function the detector (on face crops) and the training job (on data set images)
 * both call, so the model sees the same pixels in both.
 */
export async function toModelCrop(
  input: Buffer | Uint8Array,
  raw?: { width: number; height: number; channels: 1 | 3 | 4 },
  opts: { equalize?: boolean } = {},
): Promise<Uint8Array> {
  const img = raw ? sharp(input, { raw }) : sharp(input);
  const { data, info } = await img
    .removeAlpha()
    .grayscale()
    .resize(INPUT_SIZE, INPUT_SIZE, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.width !== INPUT_SIZE || info.height !== INPUT_SIZE || info.channels !== 1) {
    throw new Error(`expected ${INPUT_SIZE}x${INPUT_SIZE}x1 after resize, got ${info.width}x${info.height}x${info.channels}`);
  }
  const gray = new Uint8Array(data.buffer, data.byteOffset, data.length);
  return opts.equalize === false ? Uint8Array.from(gray) : equalizeHist(gray);
}

/** Decodes an image file (JPEG/PNG/...) into the model's preprocessed 48x48 crop. */
export async function imageFileToModelCrop(file: string, opts: { equalize?: boolean } = {}): Promise<Uint8Array> {
  return toModelCrop(await sharpFile(file), undefined, opts);
}

async function sharpFile(file: string): Promise<Buffer> {
  const fs = await import('node:fs/promises');
  return fs.readFile(file);
}
