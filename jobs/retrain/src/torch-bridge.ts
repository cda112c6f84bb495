/**
 * The bridge to jobs/retrain/torch/train.py (training on CUDA GPUs where tfjs-node-gpu cannot
 * run): the lossless image coding of the data it reads, and reading the weights it writes and
 * setting them on a tfjs model by name.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Tf } from '@emostream/runtime';
import { INPUT_SIZE } from '@emostream/model';

type LayersModel = import('@tensorflow/tfjs-node').LayersModel;

/** One run of train.py: its record (`<run>.json`) and its weights by tfjs name. */
export interface TorchRun {
  meta: Record<string, unknown> & { weights: { name: string; shape: number[]; dtype: string }[]; weightsFile: string };
  weights: Map<string, { shape: number[]; values: Float32Array }>;
}

/** Reads `<run>.json` and the `.bin` it names; throws naming the file when they do not fit. */
export function readTorchRun(jsonFile: string): TorchRun {
  let meta: TorchRun['meta'];
  try { meta = JSON.parse(fs.readFileSync(jsonFile, 'utf8')); } catch (e) {
    throw new Error(`${jsonFile}: not a readable run record of jobs/retrain/torch/train.py (${(e as Error).message})`);
  }
  if (!Array.isArray(meta.weights) || typeof meta.weightsFile !== 'string') throw new Error(`${jsonFile}: no weight list: not written by jobs/retrain/torch/train.py`);
  const binFile = path.join(path.dirname(jsonFile), meta.weightsFile);
  const buf = fs.readFileSync(binFile);
  const need = meta.weights.reduce((a, w) => a + 4 * w.shape.reduce((x, y) => x * y, 1), 0);
  if (buf.length !== need) throw new Error(`${binFile} has ${buf.length} bytes, ${jsonFile} lists ${need}: copy both files of the run again`);
  const weights = new Map<string, { shape: number[]; values: Float32Array }>();
  let off = 0;
  for (const w of meta.weights) {
    if (w.dtype !== 'float32') throw new Error(`${jsonFile}: weight ${w.name} is ${w.dtype}, expected float32`);
    const n = w.shape.reduce((x, y) => x * y, 1);
    // Little-endian float32, as tfjs's own weight files (and every host it runs on).
    const values = new Float32Array(Uint8Array.from(buf.subarray(off, off + 4 * n)).buffer);
    weights.set(w.name, { shape: w.shape, values });
    off += 4 * n;
  }
  return { meta, weights };
}

/**
 * Sets every weight of `model` from `weights` by its tfjs name (`block1_conv1/kernel`, …).
 * Throws naming the first weight missing or of another shape.
 */
export function setWeightsByName(tf: Tf, model: LayersModel, weights: TorchRun['weights']): void {
  for (const layer of model.layers) {
    const current = layer.weights;
    if (current.length === 0) continue;
    const values = current.map((v) => {
      const name = v.originalName ?? v.name;
      const w = weights.get(name);
      if (!w) throw new Error(`the run has no weight '${name}': it was not trained with the '${model.name}' architecture`);
      if (w.shape.join('x') !== v.shape.join('x')) throw new Error(`weight '${name}' is ${w.shape.join('x')} in the run, ${v.shape.join('x')} in the model`);
      return tf.tensor(w.values, w.shape);
    });
    layer.setWeights(values);
    values.forEach((t) => t.dispose());
  }
}

/** Per 48x48 image: pixel − MED(left a, up b, upper-left c), mod 256 (first row/column: the neighbour, (0,0): 0). */
export function medResiduals(images: Uint8Array): Uint8Array {
  const n = INPUT_SIZE, out = new Uint8Array(images.length);
  for (let base = 0; base < images.length; base += n * n) {
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        const i = base + y * n + x;
        let pred: number;
        if (y === 0) pred = x === 0 ? 0 : images[i - 1];
        else if (x === 0) pred = images[i - n];
        else {
          const a = images[i - 1], b = images[i - n], c = images[i - n - 1];
          pred = c >= Math.max(a, b) ? Math.min(a, b) : c <= Math.min(a, b) ? Math.max(a, b) : a + b - c;
        }
        out[i] = (images[i] - pred) & 255;
      }
    }
  }
  return out;
}
