/**
 * The emotion CNN: the paper's "modified CNN" (four conv blocks, each conv → ReLU → max-pool →
 * dropout, then two fully connected layers and a 7-way softmax) and the wider `best` variant.
 */
import type { Tf } from '@emostream/runtime';
import { EMOTIONS } from '@emostream/contracts';
import { INPUT_SIZE } from './preprocess.js';

type LayersModel = import('@tensorflow/tfjs-node').LayersModel;

/** What the model builder needs to know; stored in every model card. */
export interface ArchitectureConfig {
  /** `paper`: one conv per block, no batch norm; `best`: two convs per block with batch norm. */
  kind: 'paper' | 'best';
  /** Filters of the four conv blocks. */
  filters: [number, number, number, number];
  /** Dropout after each block's max-pool. */
  blockDropout: number;
  /** Units of the first fully connected layer. */
  denseUnits: number;
  /** Dropout before the softmax layer. */
  denseDropout: number;
  /** L2 weight decay on conv and dense kernels (0 for none). */
  l2: number;
}

/**
 * The paper's architecture. The paper gives no filter counts or dropout rates; we take the
 * common FER-2013 baseline widths 32-64-128-256 (doubling as the map halves keeps the work per
 * block about equal), dropout 0.25 after each pool and 0.5 before the softmax (the usual Keras
 * CNN defaults of that period), and a 256-unit hidden layer: 979,719 parameters.
 */
export const PAPER_ARCHITECTURE: ArchitectureConfig = {
  kind: 'paper', filters: [32, 64, 128, 256], blockDropout: 0.25, denseUnits: 256, denseDropout: 0.5, l2: 0,
};

/**
 * The shipped architecture: the same four-block shape, but two 3x3 convs per block (a 5x5
 * receptive field per block, VGG-style) with batch norm before each ReLU, and weight decay.
 * Still small enough for hundreds of faces per second on one CPU core.
 */
export const BEST_ARCHITECTURE: ArchitectureConfig = {
  kind: 'best', filters: [32, 64, 128, 256], blockDropout: 0.2, denseUnits: 256, denseDropout: 0.5, l2: 0,
};

/** Builds an untrained model; input [batch, 48, 48, 1] in [0, 1], output 7 probabilities. */
export function buildModel(tf: Tf, arch: ArchitectureConfig, seed = 1): LayersModel {
  const reg = arch.l2 > 0 ? tf.regularizers.l2({ l2: arch.l2 }) : undefined;
  // Initialisers are seeded for repeatable runs; dropout is NOT: in tfjs a seeded dropout layer
  // draws the same mask at every step, so the same units would be dropped for ever.
  let s = seed;
  // The paper names no initialiser: its network gets Keras's default (Glorot uniform), the
  // batch-normalised `best` one He normal (suited to ReLU).
  const init = () => arch.kind === 'paper' ? tf.initializers.glorotUniform({ seed: s++ }) : tf.initializers.heNormal({ seed: s++ });
  const input = tf.input({ shape: [INPUT_SIZE, INPUT_SIZE, 1], name: 'face' });
  let x = input as import('@tensorflow/tfjs-node').SymbolicTensor;
  arch.filters.forEach((filters, b) => {
    const convs = arch.kind === 'best' ? 2 : 1;
    for (let c = 0; c < convs; c++) {
      const bn = arch.kind === 'best';
      x = tf.layers.conv2d({
        filters, kernelSize: 3, padding: 'same', useBias: !bn, kernelInitializer: init(), kernelRegularizer: reg,
        activation: bn ? 'linear' : 'relu', name: `block${b + 1}_conv${c + 1}`,
      }).apply(x) as typeof x;
      if (bn) {
        x = tf.layers.batchNormalization({ name: `block${b + 1}_bn${c + 1}` }).apply(x) as typeof x;
        x = tf.layers.reLU({ name: `block${b + 1}_relu${c + 1}` }).apply(x) as typeof x;
      }
    }
    x = tf.layers.maxPooling2d({ poolSize: 2, name: `block${b + 1}_pool` }).apply(x) as typeof x;
    x = tf.layers.dropout({ rate: arch.blockDropout, name: `block${b + 1}_dropout` }).apply(x) as typeof x;
  });
  x = tf.layers.flatten({ name: 'flatten' }).apply(x) as typeof x;
  x = tf.layers.dense({ units: arch.denseUnits, activation: 'relu', kernelInitializer: init(), kernelRegularizer: reg, name: 'fc1' }).apply(x) as typeof x;
  x = tf.layers.dropout({ rate: arch.denseDropout, name: 'fc1_dropout' }).apply(x) as typeof x;
  const out = tf.layers.dense({ units: EMOTIONS.length, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: s++ }), name: 'emotion' }).apply(x);
  return tf.model({ inputs: input, outputs: out as typeof x, name: `emostream_${arch.kind}` });
}

/**
 * A fresh network of `arch` carrying the weights of `from` (fine-tuning under a different
 * recipe: dropout rates may differ, the weight shapes may not). Throws naming the first layer
 * whose weights do not fit.
 */
export function rebuildWithWeights(tf: Tf, from: LayersModel, arch: ArchitectureConfig, seed = 1): LayersModel {
  const model = buildModel(tf, arch, seed);
  for (const layer of model.layers) {
    const want = layer.getWeights();
    if (want.length === 0) continue;
    let src: ReturnType<LayersModel['getLayer']>;
    try { src = from.getLayer(layer.name); } catch {
      model.dispose();
      throw new Error(`the starting model has no layer '${layer.name}': it was not built with the '${arch.kind}' architecture`);
    }
    const have = src.getWeights();
    const fits = have.length === want.length && have.every((w, i) => w.shape.join('x') === want[i].shape.join('x'));
    if (!fits) {
      model.dispose();
      throw new Error(`layer '${layer.name}' of the starting model has weights ${have.map((w) => w.shape.join('x')).join(', ')}, the '${arch.kind}' architecture needs ${want.map((w) => w.shape.join('x')).join(', ')}`);
    }
    layer.setWeights(have);
  }
  return model;
}

/** The network's final, softmax layer (`emotion`); throws when the model has none. */
export function emotionLayer(model: LayersModel): ReturnType<LayersModel['getLayer']> {
  try { return model.getLayer('emotion'); } catch { throw new Error('the model has no softmax layer named \'emotion\': it was not built by emostream'); }
}

/**
 * Adds `delta` to the logits of the softmax layer (`emotion`): the probabilities become
 * p_c·e^{delta_c}, renormalised. This is how a post-hoc logit adjustment (Menon et al., "Long-tail
 * learning via logit adjustment", ICLR 2021: delta_c = −τ·log prior_c) is stored in the network
 * itself, so every consumer of the model directory gets the same outputs.
 */
export function shiftEmotionLogits(tf: Tf, model: LayersModel, delta: readonly number[]): void {
  const layer = emotionLayer(model);
  const [kernel, bias] = layer.getWeights();
  if (!bias || bias.shape[0] !== delta.length) throw new Error(`the emotion layer has ${bias?.shape[0] ?? 0} biases, the shift ${delta.length}`);
  const shifted = tf.tidy(() => tf.add(bias, tf.tensor1d([...delta])));
  layer.setWeights([kernel, shifted]);
  shifted.dispose();
}
