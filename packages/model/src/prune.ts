/**
 * A narrower network cut from a trained one (`emostream train --filters … --init <wider model>`):
 * each conv keeps the output channels its batch norm scales most (|γ|, the "network slimming"
 * criterion of Liu et al., ICCV 2017), the next conv and the first dense layer keep the matching
 * inputs. The result starts where the wider network's strongest features are, so a short
 * fine-tune (with the wider model as teacher) recovers what a fresh network would need many
 * epochs for.
 */
import type { Tf } from '@emostream/runtime';
import { buildModel, type ArchitectureConfig } from './architecture.js';

type LayersModel = import('@tensorflow/tfjs-node').LayersModel;
type Tensor = import('@tensorflow/tfjs-node').Tensor;

/** Indices of the `keep` largest |values|, in ascending index order (so channel order is kept). */
export function strongestChannels(values: ArrayLike<number>, keep: number): number[] {
  if (!(Number.isInteger(keep) && keep >= 1 && keep <= values.length)) throw new Error(`cannot keep ${keep} of ${values.length} channels`);
  const order = Array.from({ length: values.length }, (_, i) => i).sort((a, b) => Math.abs(values[b]) - Math.abs(values[a]) || a - b);
  return order.slice(0, keep).sort((a, b) => a - b);
}

/** True when `to` is `from` with no wider block and the same dense layer: what pruning can make. */
export function canPrune(from: ArchitectureConfig, to: ArchitectureConfig): boolean {
  return from.kind === 'best' && to.kind === 'best' && to.denseUnits === from.denseUnits
    && to.filters.every((f, i) => f >= 1 && f <= from.filters[i]);
}

function weightsOf(model: LayersModel, name: string): Tensor[] {
  let layer: ReturnType<LayersModel['getLayer']>;
  try { layer = model.getLayer(name); } catch {
    throw new Error(`the starting model has no layer '${name}': it was not built with the 'best' architecture`);
  }
  return layer.getWeights();
}

/**
 * A fresh `arch` network (its dropout rates) carrying the channels of `from` that `arch.filters`
 * keeps, block by block. `fromArch` is the architecture `from` was built with.
 */
export function pruneWithWeights(tf: Tf, from: LayersModel, fromArch: ArchitectureConfig, arch: ArchitectureConfig, seed = 1): LayersModel {
  if (!canPrune(fromArch, arch)) {
    throw new Error(`cannot cut filters ${arch.filters.join(',')} (dense ${arch.denseUnits}) from a '${fromArch.kind}' network of filters ${fromArch.filters.join(',')} (dense ${fromArch.denseUnits}): each block may only narrow, and the dense layer must stay`);
  }
  const model = buildModel(tf, arch, seed);
  tf.tidy(() => {
    let inputs: number[] | undefined; // the previous conv's kept channels (undefined: the image's one)
    arch.filters.forEach((filters, b) => {
      for (let c = 1; c <= 2; c++) {
        const [kernel] = weightsOf(from, `block${b + 1}_conv${c}`);
        const bn = weightsOf(from, `block${b + 1}_bn${c}`); // gamma, beta, moving mean, moving variance
        const keep = strongestChannels(bn[0].dataSync(), filters);
        const idx = tf.tensor1d(keep, 'int32');
        let k = tf.gather(kernel, idx, 3);
        if (inputs) k = tf.gather(k, tf.tensor1d(inputs, 'int32'), 2);
        model.getLayer(`block${b + 1}_conv${c}`).setWeights([k]);
        model.getLayer(`block${b + 1}_bn${c}`).setWeights(bn.map((w) => tf.gather(w, idx)));
        inputs = keep;
      }
    });
    // Flatten of [3, 3, C] runs channels fastest: fc1's rows are (row, column, channel).
    const [fc1, fc1Bias] = weightsOf(from, 'fc1');
    const last = fromArch.filters[3];
    const side = Math.round(Math.sqrt(fc1.shape[0] / last));
    const rows = tf.gather(fc1.reshape([side * side, last, arch.denseUnits]), tf.tensor1d(inputs!, 'int32'), 1);
    model.getLayer('fc1').setWeights([rows.reshape([side * side * inputs!.length, arch.denseUnits]), fc1Bias]);
    model.getLayer('emotion').setWeights(weightsOf(from, 'emotion'));
  });
  return model;
}
