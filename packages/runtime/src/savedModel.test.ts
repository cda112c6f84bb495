import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadTf } from './tf.js';
import { savedModelBytes, sessionModel, type GraphArtifacts } from './savedModel.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

/**
 * A small graph as the tfjs converter writes one: a fused convolution (bias and ReLU; no TArgs,
 * as the converter leaves it), a Reshape by an int32 constant and a MatMul with attributes of
 * every kind the writer handles (type, shape, list of ints, strings, bool).
 */
function tinyGraph(): { artifacts: GraphArtifacts; filter: Float32Array; bias: Float32Array; dense: Float32Array } {
  const filter = Float32Array.from({ length: 3 * 3 * 1 * 2 }, (_, i) => ((i * 7) % 5) / 5 - 0.4);
  const bias = Float32Array.from([0.1, -0.2]);
  const dense = Float32Array.from({ length: 32 * 3 }, (_, i) => ((i * 11) % 13) / 13 - 0.5);
  const shape = Int32Array.from([-1, 32]);
  const data = new Uint8Array(filter.byteLength + bias.byteLength + shape.byteLength + dense.byteLength);
  let o = 0;
  for (const a of [filter, bias, shape, dense]) { data.set(new Uint8Array(a.buffer), o); o += a.byteLength; }
  const f = { type: 'DT_FLOAT' };
  const node: GraphArtifacts['modelTopology']['node'] = [
    { name: 'x', op: 'Placeholder', attr: { dtype: f, shape: { shape: { dim: [{ size: '-1' }, { size: '4' }, { size: '4' }, { size: '1' }] } } } },
    { name: 'filter', op: 'Const', attr: { dtype: f, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '3' }, { size: '3' }, { size: '1' }, { size: '2' }] } } } } },
    { name: 'bias', op: 'Const', attr: { dtype: f, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '2' }] } } } } },
    { name: 'flat/shape', op: 'Const', attr: { dtype: { type: 'DT_INT32' }, value: { tensor: { dtype: 'DT_INT32', tensorShape: { dim: [{ size: '2' }] } } } } },
    { name: 'dense', op: 'Const', attr: { dtype: f, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '32' }, { size: '3' }] } } } } },
    {
      name: 'conv', op: '_FusedConv2D', input: ['x', 'filter', 'bias'],
      attr: {
        T: f, num_args: { i: '1' }, strides: { list: { i: ['1', '1', '1', '1'] } }, padding: { s: b64('SAME') }, data_format: { s: b64('NHWC') },
        dilations: { list: { i: ['1', '1', '1', '1'] } }, explicit_paddings: { list: {} }, use_cudnn_on_gpu: { b: true }, epsilon: { f: 0 },
        fused_ops: { list: { s: [b64('BiasAdd'), b64('Relu')] } },
      },
    },
    { name: 'flat', op: 'Reshape', input: ['conv', 'flat/shape'], attr: { T: f, Tshape: { type: 'DT_INT32' } } },
    { name: 'y', op: 'MatMul', input: ['flat', 'dense'], attr: { T: f, transpose_a: { b: false }, transpose_b: { b: false } } },
    { name: 'z', op: 'Relu', input: ['conv'], attr: { T: f } },
  ];
  const weightSpecs = [
    { name: 'filter', dtype: 'float32', shape: [3, 3, 1, 2] }, { name: 'bias', dtype: 'float32', shape: [2] },
    { name: 'flat/shape', dtype: 'int32', shape: [2] }, { name: 'dense', dtype: 'float32', shape: [32, 3] },
  ];
  return { artifacts: { modelTopology: { node }, weightSpecs, weightData: data.buffer }, filter, bias, dense };
}

test('sessionModel: a converter-style graph runs as one session call and gives what the same ops give eagerly', async () => {
  const rt = await loadTf('tensorflow');
  const { tf } = rt;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emostream-sm-'));
  const tmpdir = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  try {
    const { artifacts, filter, bias, dense } = tinyGraph();
    const m = await sessionModel(tf, artifacts);
    assert.ok(m, 'tfjs-node runs it');
    assert.deepEqual(m.outputs, ['y', 'z'], 'the graph\'s unconsumed nodes, by name');
    const x = tf.tensor4d(Float32Array.from({ length: 3 * 16 }, (_, i) => Math.sin(i)), [3, 4, 4, 1]);
    const [y, z] = m.execute(x);
    const conv = tf.fused.conv2d({ x, filter: tf.tensor4d(filter, [3, 3, 1, 2]), bias: tf.tensor1d(bias), strides: 1, pad: 'same', activation: 'relu' });
    const want = tf.matMul(tf.reshape(conv, [-1, 32]), tf.tensor2d(dense, [32, 3]));
    assert.deepEqual(y.shape, [3, 3], 'the batch dimension stays open');
    const diff = (a: import('@tensorflow/tfjs-node').Tensor, b: import('@tensorflow/tfjs-node').Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
    assert.ok(diff(y, want) < 1e-5, `MatMul output differs by ${diff(y, want)}`);
    assert.ok(diff(z, conv) < 1e-6, 'the ReLU of the fused convolution');
    assert.deepEqual(fs.readdirSync(dir), [], 'the SavedModel\'s folder is removed once loaded');
    // Loaded twice: two sessions, each disposed on its own.
    const again = await sessionModel(tf, artifacts);
    m.dispose();
    assert.ok(again && again.execute(x)[0].shape[0] === 3, 'the second still runs after the first is disposed');
    again.dispose();
  } finally {
    if (tmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = tmpdir;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('sessionModel: other backends, EMOSTREAM_SAVED_MODELS=0 and graphs it cannot write keep the graph model (undefined)', async () => {
  const rt = await loadTf('tensorflow');
  const { artifacts } = tinyGraph();
  assert.equal(await sessionModel({ ...rt.tf, getBackend: () => 'wasm' } as typeof rt.tf, artifacts), undefined, 'another backend');
  process.env.EMOSTREAM_SAVED_MODELS = '0';
  try {
    assert.equal(await sessionModel(rt.tf, artifacts), undefined);
  } finally {
    delete process.env.EMOSTREAM_SAVED_MODELS;
  }
  // A temporary folder that cannot be written (here, a file): a warning, and op by op.
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'emostream-sm-')), 'a-file');
  fs.writeFileSync(file, '');
  const tmpdir = process.env.TMPDIR;
  process.env.TMPDIR = file;
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  try {
    assert.equal(await sessionModel(rt.tf, artifacts), undefined);
    await new Promise((r) => setImmediate(r));
    assert.ok(warnings.some((w) => /running a model op by op: .*point TMPDIR at a writable folder/.test(w)), warnings.join('; '));
  } finally {
    process.off('warning', onWarning);
    if (tmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = tmpdir;
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
  const quantised = { ...artifacts, weightSpecs: artifacts.weightSpecs.map((w, i) => (i === 0 ? { ...w, quantization: { dtype: 'uint8' } } : w)) };
  assert.equal(savedModelBytes('@tensorflow/tfjs-node', quantised), undefined);
  const twoInputs = { ...artifacts, modelTopology: { node: [...artifacts.modelTopology.node, { name: 'x2', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' } } }] } };
  assert.equal(savedModelBytes('@tensorflow/tfjs-node', twoInputs), undefined);
  assert.throws(() => savedModelBytes('@tensorflow/tfjs-node', { ...artifacts, weightData: new ArrayBuffer(8) }), /the weights take 472 bytes, their data holds 8/);
});
