/**
 * BlazeFace's graph with its input's scaling and its output's decoding inside it, so that a call
 * of the network is one session call from the letterboxed bytes to each anchor's box, score and
 * keypoints. Before, about twenty eager TensorFlow ops a call ran around the network on the main
 * thread (the input's cast and scaling; for each image the slices, sums and quotients of Human's
 * decoding, a sigmoid and three reads), each with a fixed cost of its own.
 *
 * The ops are those Human's decoding runs (blazefaceModel.ts), on the same float32 values, so
 * the boxes and scores are the same: each input byte becomes -1..1 (`x / 127.5 - 1`, looked up in
 * a table of the 256 values that Human's eager ops give); the outputs of the two strides (16: 512 anchors, 32: 384) are joined as
 * [n, 896, 17] rows (score logit, box, six keypoints); then centres = rows[1:3] + anchor,
 * half = rows[3:5] / size / 2, boxes = [(c - half) · size, (c + half) · size] with c = centres / size,
 * and scores = sigmoid(rows[0]).
 */
import { GraphWriter, weightBytes, type GraphArtifacts } from '@emostream/runtime';

type Node = GraphArtifacts['modelTopology']['node'][number];

/** The decoded outputs' node names. */
export const DECODED = { boxes: 'decoded/boxes', rows: 'decoded/rows', scores: 'decoded/scores' } as const;

/** The int32 input of the decoding graph: letterboxed RGB bytes, [n, size, size, 3]. */
export const PIXELS_INPUT = 'pixels';

const F = { type: 'DT_FLOAT' };
const I32 = { type: 'DT_INT32' };

/**
 * `artifacts` (BlazeFace with its batch dimension opened) with the input's scaling and the
 * output's decoding added; `centres`: each anchor's centre in input pixels, in the order of the
 * joined rows; `scaled`: the network's input value of each byte 0..255, as Human's eager
 * `x / 127.5 - 1` makes it (in the graph, TensorFlow's optimiser turns a division by a constant
 * into a product with its reciprocal, which is not the same float). Throws when the graph's outputs are not the four Reshapes this code knows.
 */
export function decodingGraph(artifacts: GraphArtifacts, inputSize: number, centres: ReadonlyArray<readonly [number, number]>, scaled: Float32Array): GraphArtifacts {
  // Divisions by the input's size below: TensorFlow makes each a product with its reciprocal, the same float only for a power of two.
  if (!Number.isInteger(Math.log2(inputSize))) throw new Error(`BlazeFace graph: input size ${inputSize} is not a power of two (Human's blazeface.json takes 256)`);
  const nodes = artifacts.modelTopology.node;
  const input = nodes.find((n) => n.op === 'Placeholder');
  if (!input) throw new Error('BlazeFace graph: no input placeholder');
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const consumed = new Set(nodes.flatMap((n) => (n.input ?? []).map((i) => i.replace(/^\^/, '').split(':')[0])));
  const outputs = nodes.filter((n) => !consumed.has(n.name) && n.op !== 'Const' && n.op !== 'Placeholder');

  // Each output is Identity(Reshape(x, [-1, anchors, channels])): read the Reshape's shape constant.
  const shapeOf = new Map<string, Int32Array>();
  let offset = 0;
  for (const w of artifacts.weightSpecs) {
    const bytes = weightBytes(w);
    if (w.dtype === 'int32' && !w.quantization) shapeOf.set(w.name, new Int32Array(artifacts.weightData.slice(offset, offset + bytes)));
    offset += bytes;
  }
  const heads = outputs.map((o) => {
    const reshape = o.op === 'Identity' ? byName.get(o.input![0].split(':')[0]) : undefined;
    const shape = reshape?.op === 'Reshape' ? shapeOf.get(reshape.input![1].split(':')[0]) : undefined;
    if (!reshape || !shape || shape.length !== 3) throw new Error(`BlazeFace graph: output ${o.name} is not the Reshape this code knows`);
    return { identity: o.name, reshape: reshape.name, anchors: shape[1], channels: shape[2] };
  });
  const head = (anchors: number, channels: number) => {
    const h = heads.find((x) => x.anchors === anchors && x.channels === channels);
    if (!h) throw new Error(`BlazeFace graph: no output of ${anchors} anchors x ${channels}; found ${heads.map((x) => `${x.anchors}x${x.channels}`).join(', ')}`);
    return h.reshape;
  };
  const counts = [...new Set(heads.map((h) => h.anchors))].sort((a, b) => b - a);
  if (heads.length !== 4 || counts.reduce((a, b) => a + b, 0) !== centres.length) {
    throw new Error(`BlazeFace graph: ${heads.length} outputs of ${counts.join('+')} anchors, expected 4 outputs of ${centres.length} anchors`);
  }

  const w = new GraphWriter();
  const op = (name: string, type: string, inputs: string[], attr: Node['attr'] = { T: F }) => w.op(name, type, inputs, attr);
  const scalar = (name: string, v: number) => w.constant(name, Float32Array.of(v), []);
  const ints = (name: string, v: number[]) => w.constant(name, Int32Array.from(v), [v.length]);
  const concat = (name: string, a: string, b: string, axis: number) => op(name, 'ConcatV2', [a, b, w.constant(`${name}/axis`, Int32Array.of(axis), [])], { N: { i: '2' }, T: F, Tidx: I32 });
  const slice = (name: string, x: string, from: number, size: number) => op(name, 'Slice', [x, ints(`${name}/begin`, [0, 0, from]), ints(`${name}/size`, [-1, -1, size])], { T: F, Index: I32 });

  // The input: each int32 byte looked up in `scaled`, under the placeholder's old name.
  const dims = input.attr?.shape?.shape?.dim ?? [];
  w.op(PIXELS_INPUT, 'Placeholder', [], { dtype: I32, shape: { shape: { dim: dims } } });
  if (scaled.length !== 256) throw new Error(`BlazeFace graph: the input's table holds ${scaled.length} values, not 256`);
  op(input.name, 'GatherV2', [w.constant('pixels/scaled', scaled, [256]), PIXELS_INPUT, w.constant('pixels/axis', Int32Array.of(0), [])],
    { Tparams: F, Tindices: I32, Taxis: I32, batch_dims: { i: '0' } });

  // The outputs: rows of the finer stride first, as anchorCentres lays the anchors out.
  const [many, few] = counts;
  concat('decoded/rows_fine', head(many, 1), head(many, 16), 2);
  concat('decoded/rows_coarse', head(few, 1), head(few, 16), 2);
  const rows = concat('decoded/joined', 'decoded/rows_fine', 'decoded/rows_coarse', 1);
  // An output of its own (a session's outputs are the nodes nothing else reads).
  op(DECODED.rows, 'Identity', [rows]);
  const size = scalar('decoded/size', inputSize);
  const anchors = w.constant('decoded/anchors', Float32Array.from(centres.flat()), [centres.length, 2]);
  op('decoded/centres', 'AddV2', [slice('decoded/offsets', rows, 1, 2), anchors]);
  op('decoded/half_size', 'RealDiv', [op('decoded/size_rel', 'RealDiv', [slice('decoded/sizes', rows, 3, 2), size]), scalar('decoded/two', 2)]);
  op('decoded/centres_rel', 'RealDiv', ['decoded/centres', size]);
  op('decoded/start', 'Mul', [op('decoded/start_rel', 'Sub', ['decoded/centres_rel', 'decoded/half_size']), size]);
  op('decoded/end', 'Mul', [op('decoded/end_rel', 'AddV2', ['decoded/centres_rel', 'decoded/half_size']), size]);
  concat(DECODED.boxes, 'decoded/start', 'decoded/end', 2);
  op(DECODED.scores, 'Squeeze', [op('decoded/probability', 'Sigmoid', [slice('decoded/logits', rows, 0, 1)])], { T: F, squeeze_dims: { list: { i: ['2'] } } });

  // The old outputs' Identity nodes go; the old placeholder is replaced by the scaling above.
  return w.artifacts(artifacts, new Set([input.name, ...heads.map((h) => h.identity)]));
}
