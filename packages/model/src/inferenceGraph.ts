/**
 * The compiled forward pass ({@link compileInference}'s ops) as one TensorFlow graph, for
 * @emostream/runtime's `sessionModel`: the whole CNN in one session call instead of one eager
 * call per op, whose fixed cost on 2 CPU cores was about half of a one-face call (10.5 ms for one
 * face with mirror TTA against 4.9 ms a face in a batch of 16). Convolution, bias and ReLU are
 * written as TensorFlow's own Conv2D, BiasAdd and Relu (its graph optimiser fuses them again),
 * Dense as MatMul and BiasAdd; the weights are the net's folded tensors, read once.
 */
import { GraphWriter, type GraphArtifacts } from '@emostream/runtime';
import type { InferenceOp } from './inference.js';

type Node = GraphArtifacts['modelTopology']['node'][number];

const F = { type: 'DT_FLOAT' };
const I32 = { type: 'DT_INT32' };
const ints = (xs: number[]) => ({ list: { i: xs.map(String) } });
const text = (s: string) => ({ s: Buffer.from(s).toString('base64') });
const padding = (pad: 'same' | 'valid') => text(pad.toUpperCase());

/**
 * `ops` as a graph from `input` ([-1, h, w, c] float32) to `output` (the last op's result).
 * `mirror`: mirror test-time augmentation inside the graph: the n inputs and their mirror images
 * (flipped left to right) go through the net as one batch of 2n, and each input's two outputs
 * are averaged, so a call takes n inputs and gives n outputs (the eager concat, reverse, split
 * and mean around the call cost about as much as the call itself for one face).
 */
export function inferenceGraph(ops: readonly InferenceOp[], inputShape: [number, number, number], opts: { mirror?: boolean } = {}): GraphArtifacts {
  const w = new GraphWriter();
  w.op('input', 'Placeholder', [], { dtype: F, shape: { shape: { dim: [-1, ...inputShape].map((d) => ({ size: String(d) })) } } });
  let last = 'input';
  const add = (name: string, op: string, input: string[], attr: Node['attr']) => { last = w.op(name, op, input, attr); };
  const biasAndActivation = (i: number, bias: import('@tensorflow/tfjs-node').Tensor | undefined, activation: string) => {
    if (bias) add(`op${i}/bias_add`, 'BiasAdd', [last, w.constant(`op${i}/bias`, bias.dataSync() as Float32Array, bias.shape)], { T: F, data_format: text('NHWC') });
    if (activation === 'relu') add(`op${i}/relu`, 'Relu', [last], { T: F });
    if (activation === 'softmax') add(`op${i}/softmax`, 'Softmax', [last], { T: F });
  };
  if (opts.mirror) {
    add('mirror/flip', 'ReverseV2', ['input', w.constant('mirror/width_axis', Int32Array.from([2]), [1])], { T: F, Tidx: I32 });
    add('mirror/both', 'ConcatV2', ['input', 'mirror/flip', w.constant('mirror/batch_axis', Int32Array.from([0]), [])], { N: { i: '2' }, T: F, Tidx: I32 });
  }
  let outputs = 0;
  ops.forEach((op, i) => {
    switch (op.kind) {
      case 'conv':
        add(`op${i}/conv`, 'Conv2D', [last, w.constant(`op${i}/filter`, op.filter.dataSync() as Float32Array, op.filter.shape)], {
          T: F, strides: ints([1, ...op.strides, 1]), padding: padding(op.pad), data_format: text('NHWC'),
          dilations: ints([1, 1, 1, 1]), use_cudnn_on_gpu: { b: true }, explicit_paddings: { list: {} },
        });
        biasAndActivation(i, op.bias, op.activation);
        break;
      case 'maxPool':
        add(`op${i}/max_pool`, 'MaxPool', [last], { T: F, ksize: ints([1, ...op.pool, 1]), strides: ints([1, ...op.strides, 1]), padding: padding(op.pad), data_format: text('NHWC') });
        break;
      case 'flatten':
        add(`op${i}/flatten`, 'Reshape', [last, w.constant(`op${i}/shape`, Int32Array.from([-1, op.size]), [2])], { T: F, Tshape: I32 });
        break;
      case 'dense':
        outputs = op.kernel.shape[1] ?? 0;
        add(`op${i}/matmul`, 'MatMul', [last, w.constant(`op${i}/kernel`, op.kernel.dataSync() as Float32Array, op.kernel.shape)], { T: F, transpose_a: { b: false }, transpose_b: { b: false } });
        biasAndActivation(i, op.bias, op.activation);
        break;
    }
  });
  if (opts.mirror) {
    if (!outputs) throw new Error('mirror test-time augmentation needs a net that ends in a dense layer');
    // [2n, k] -> [2, n, k] (the inputs' outputs, then their mirror images'), averaged over the pair.
    add('mirror/pairs', 'Reshape', [last, w.constant('mirror/pairs_shape', Int32Array.from([2, -1, outputs]), [3])], { T: F, Tshape: I32 });
    add('mirror/mean', 'Mean', [last, w.constant('mirror/pair_axis', Int32Array.from([0]), [])], { T: F, Tidx: I32, keep_dims: { b: false } });
  }
  return w.artifacts();
}
