import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTf, sessionModel, type GraphArtifacts } from '@emostream/runtime';
import { anchorCentres } from './blazefaceModel.js';
import { DECODED, decodingGraph, PIXELS_INPUT } from './blazefaceGraph.js';

const F = { type: 'DT_FLOAT' };
const I32 = { type: 'DT_INT32' };
const dims = (xs: number[]) => ({ dim: xs.map((d) => ({ size: String(d) })) });

/**
 * A stand-in for BlazeFace with its outputs laid out as Human's blazeface.json lays them: four
 * Identity(Reshape(x, [-1, anchors, channels])) outputs, 512 and 384 anchors of 1 and 16
 * channels, from a `size` px input. The "network" is each image's mean colour times a matrix.
 */
function standIn(size: number): GraphArtifacts {
  const heads = [['cls_512', 512, 1], ['reg_384', 384, 16], ['reg_512', 512, 16], ['cls_384', 384, 1]] as const;
  const total = heads.reduce((a, [, n, k]) => a + n * k, 0);
  const w = Float32Array.from({ length: 3 * total }, (_, i) => Math.sin(i * 12.9898) * (i % 7 === 0 ? 40 : 3));
  const node: GraphArtifacts['modelTopology']['node'] = [
    { name: 'input', op: 'Placeholder', attr: { dtype: F, shape: { shape: dims([-1, size, size, 3]) } } },
    { name: 'axes', op: 'Const', attr: { dtype: I32, value: { tensor: { dtype: 'DT_INT32', tensorShape: dims([2]) } } } },
    { name: 'w', op: 'Const', attr: { dtype: F, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dims([3, total]) } } } },
    { name: 'mean', op: 'Mean', input: ['input', 'axes'], attr: { T: F, Tidx: I32, keep_dims: { b: false } } },
    { name: 'all', op: 'MatMul', input: ['mean', 'w'], attr: { T: F, transpose_a: { b: false }, transpose_b: { b: false } } },
  ];
  const specs: GraphArtifacts['weightSpecs'] = [{ name: 'axes', dtype: 'int32', shape: [2] }, { name: 'w', dtype: 'float32', shape: [3, total] }];
  const chunks: Uint8Array[] = [new Uint8Array(Int32Array.of(1, 2).buffer), new Uint8Array(w.buffer)];
  let from = 0;
  for (const [name, n, k] of heads) {
    const int = (suffix: string, v: number[]) => {
      node.push({ name: `${name}/${suffix}`, op: 'Const', attr: { dtype: I32, value: { tensor: { dtype: 'DT_INT32', tensorShape: dims([v.length]) } } } });
      specs.push({ name: `${name}/${suffix}`, dtype: 'int32', shape: [v.length] });
      chunks.push(new Uint8Array(Int32Array.from(v).buffer));
      return `${name}/${suffix}`;
    };
    node.push({ name: `${name}/part`, op: 'Slice', input: ['all', int('begin', [0, from]), int('size', [-1, n * k])], attr: { T: F, Index: I32 } });
    node.push({ name: `${name}/reshape`, op: 'Reshape', input: [`${name}/part`, int('shape', [-1, n, k])], attr: { T: F, Tshape: I32 } });
    node.push({ name: `${name}/out`, op: 'Identity', input: [`${name}/reshape`], attr: { T: F } });
    from += n * k;
  }
  const data = new Uint8Array(chunks.reduce((a, c) => a + c.byteLength, 0));
  let o = 0;
  for (const c of chunks) { data.set(c, o); o += c.byteLength; }
  return { modelTopology: { node, versions: { producer: 1 } }, weightSpecs: specs, weightData: data.buffer };
}

test('decodingGraph: bytes in, Human\'s decoding out, the same float32 values as its eager ops, as a graph model and as a session', async () => {
  const { tf } = await loadTf();
  const size = 16, n = 3;
  const centres = anchorCentres(size);
  const scaled = tf.tidy(() => tf.range(0, 256, 1, 'int32').toFloat().div(127.5).sub(1).dataSync() as Float32Array);
  const plain = standIn(size);
  const graph = decodingGraph(plain, size, centres, scaled);
  const pixels = Uint8Array.from({ length: n * size * size * 3 }, (_, i) => (i * 2654435761) >>> 24);

  // The reference: the stand-in as it was, fed and decoded by eager ops as Human's BlazeFace does.
  const before = await tf.loadGraphModel(tf.io.fromMemory(plain as never));
  const want = tf.tidy(() => {
    const x = tf.tensor4d(pixels, [n, size, size, 3], 'int32').toFloat().div(127.5).sub(1);
    const out = before.execute(x, ['cls_512/out', 'reg_512/out', 'cls_384/out', 'reg_384/out']) as import('@tensorflow/tfjs-node').Tensor[];
    const rows = tf.concat([tf.concat([out[0], out[1]], 2), tf.concat([out[2], out[3]], 2)], 1);
    const anchors = tf.tensor2d(centres), s = tf.scalar(size, 'int32');
    const boxes: import('@tensorflow/tfjs-node').Tensor[] = [], scores: import('@tensorflow/tfjs-node').Tensor[] = [];
    for (const batch of tf.unstack(rows)) {
      const c = tf.div(tf.add(tf.slice(batch, [0, 1], [-1, 2]), anchors), s);
      const half = tf.div(tf.div(tf.slice(batch, [0, 3], [-1, 2]), s), 2);
      boxes.push(tf.concat2d([tf.mul(tf.sub(c, half), s) as never, tf.mul(tf.add(c, half), s) as never], 1));
      scores.push(tf.squeeze(tf.sigmoid(tf.slice(batch, [0, 0], [-1, 1]))));
    }
    return { rows: rows.dataSync(), boxes: tf.stack(boxes).dataSync(), scores: tf.stack(scores).dataSync() };
  });

  const names = [DECODED.boxes, DECODED.scores, DECODED.rows];
  const check = async (what: string, out: import('@tensorflow/tfjs-node').Tensor[]) => {
    const [boxes, scores, rows] = await Promise.all(out.map((t) => t.data()));
    assert.deepEqual(out.map((t) => t.shape), [[n, 896, 4], [n, 896], [n, 896, 17]], what);
    assert.deepEqual(rows, want.rows, `${what}: rows`);
    assert.deepEqual(boxes, want.boxes, `${what}: boxes`);
    assert.deepEqual(scores, want.scores, `${what}: scores`);
    tf.dispose(out);
  };
  const model = await tf.loadGraphModel(tf.io.fromMemory(graph as never));
  await check('graph model', model.execute({ [PIXELS_INPUT]: tf.tensor4d(pixels, [n, size, size, 3], 'int32') }, names) as never);
  const session = await sessionModel(tf, graph);
  if (session) {
    const out = session.execute(tf.tensor4d(pixels, [n, size, size, 3], 'int32'));
    await check('session', names.map((name) => out[session.outputs.indexOf(name)]));
    session.dispose();
  }
});

test('decodingGraph refuses what it does not know: other outputs, a size not a power of two, a short table', () => {
  const plain = standIn(16);
  const table = new Float32Array(256);
  assert.throws(() => decodingGraph(plain, 24, anchorCentres(16), table), /not a power of two/);
  assert.throws(() => decodingGraph(plain, 16, anchorCentres(16), new Float32Array(255)), /255 values, not 256/);
  assert.throws(() => decodingGraph(plain, 16, anchorCentres(16).slice(1), table), /expected 4 outputs of 895 anchors/);
  const cut = { ...plain, modelTopology: { ...plain.modelTopology, node: plain.modelTopology.node.filter((x) => x.name !== 'cls_384/out') } };
  assert.throws(() => decodingGraph(cut, 16, anchorCentres(16), table), /output cls_384\/reshape is not the Reshape/);
});
