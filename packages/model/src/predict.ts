/** Running the emotion CNN on preprocessed crops, separate from decoding its output. */
import type { Tf } from '@emostream/runtime';
import { INPUT_PIXELS, INPUT_SIZE } from './preprocess.js';

type LayersModel = import('@tensorflow/tfjs-node').LayersModel;

/** Options of {@link predictBatch}. */
export interface PredictOptions {
  /** Average with the mirrored face (test-time augmentation; doubles the work). */
  flipTta?: boolean;
}

/**
 * Softmax outputs for n preprocessed 48x48 crops (n*2304 bytes, or an array of crops), as one
 * Float32Array of n*classes values. All intermediate tensors are disposed.
 */
export async function predictBatch(tf: Tf, model: LayersModel, crops: Uint8Array | Uint8Array[], opts: PredictOptions = {}): Promise<Float32Array> {
  const n = Array.isArray(crops) ? crops.length : crops.length / INPUT_PIXELS;
  if (n === 0) return new Float32Array(0);
  const buf = cropsToInput(crops);
  const out = tf.tidy(() => {
    const x = tf.tensor4d(buf, [n, INPUT_SIZE, INPUT_SIZE, 1]);
    const y = model.predict(x) as import('@tensorflow/tfjs-node').Tensor;
    if (!opts.flipTta) return y;
    const yf = model.predict(tf.reverse(x, 2)) as import('@tensorflow/tfjs-node').Tensor;
    return tf.div(tf.add(y, yf), 2);
  });
  try {
    return (await out.data()) as Float32Array;
  } finally {
    out.dispose();
  }
}

/**
 * The network's input values of preprocessed 48x48 crops (n*2304 bytes, or an array of crops):
 * n*2304 floats in [0, 1]. A crop of the wrong size is an error naming it.
 */
export function cropsToInput(crops: Uint8Array | Uint8Array[]): Float32Array {
  if (!Array.isArray(crops)) return Float32Array.from(crops, (v) => v / 255);
  const buf = new Float32Array(crops.length * INPUT_PIXELS);
  crops.forEach((c, k) => {
    if (c.length !== INPUT_PIXELS) throw new Error(`crop ${k} has ${c.length} bytes, expected ${INPUT_PIXELS}`);
    for (let i = 0; i < INPUT_PIXELS; i++) buf[k * INPUT_PIXELS + i] = c[i] / 255;
  });
  return buf;
}
