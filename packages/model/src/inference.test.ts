import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTf, sessionModel } from '@emostream/runtime';
import { BEST_ARCHITECTURE, PAPER_ARCHITECTURE, buildModel } from './architecture.js';
import { compileInference, NotCompilable } from './inference.js';
import { inferenceGraph } from './inferenceGraph.js';
import { loadModelDir, defaultModelDir } from './io.js';

type T = import('@tensorflow/tfjs-node').Tensor;

/** Inputs in [0, 1] that differ from image to image. */
function inputs(tf: Awaited<ReturnType<typeof loadTf>>['tf'], n: number) {
  return tf.tidy(() => tf.div(tf.add(tf.mul(tf.range(0, n * 2304).reshape([n, 48, 48, 1]), 37), tf.range(0, n).reshape([n, 1, 1, 1])).mod(256), 255)) as import('@tensorflow/tfjs-node').Tensor4D;
}

function assertClose(a: Float32Array | Int32Array | Uint8Array, b: Float32Array | Int32Array | Uint8Array, what: string) {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  assert.ok(worst < 1e-5, `${what}: largest difference ${worst}`);
}

test('the compiled forward pass equals model.predict, batch normalization with trained statistics folded in; no tensor left behind', async () => {
  const { tf } = await loadTf();
  for (const arch of [PAPER_ARCHITECTURE, BEST_ARCHITECTURE]) {
    const model = buildModel(tf, arch, 3);
    // Give every batch normalization statistics and scales far from the initial ones, so folding matters.
    for (const l of model.layers.filter((x) => x.getClassName() === 'BatchNormalization')) {
      const w = l.getWeights();
      const c = w[0].shape[0];
      l.setWeights(w.map((t, k) => tf.tidy(() => tf.add(tf.mul(tf.randomUniform([c], 0, 1, 'float32', 7 + k), [1.5, 0.4, 0.3, 2][k]), [0.5, -0.2, -0.1, 0.2][k]))));
    }
    // A first pass of each, so that what the first call of an op keeps for good is not counted.
    const warm = compileInference(tf, model);
    tf.tidy(() => { const w = inputs(tf, 1); warm.forward(w); model.predict(w); });
    warm.dispose();
    const before = tf.memory().numTensors;
    const net = compileInference(tf, model);
    const x = inputs(tf, 5);
    const want = model.predict(x) as T;
    const got = net.forward(x);
    assertClose(await got.data(), await want.data(), arch.kind);
    assert.deepEqual(got.shape, want.shape);
    tf.dispose([x, want, got]);
    net.dispose();
    assert.equal(tf.memory().numTensors, before, `${arch.kind}: tensors left`);
    model.dispose();
  }
});

test('the shipped model compiles, and its compiled outputs equal its own', async () => {
  const { tf } = await loadTf();
  const loaded = await loadModelDir(tf, defaultModelDir());
  try {
    const net = compileInference(tf, loaded.model);
    const x = inputs(tf, 3);
    const a = net.forward(x), b = loaded.model.predict(x) as T;
    assertClose(await a.data(), await b.data(), loaded.version);
    tf.dispose([x, a, b]);
    net.dispose();
  } finally {
    loaded.model.dispose();
  }
});

test('the compiled pass as one TensorFlow graph (inferenceGraph, run by sessionModel) equals it, for both architectures and the shipped model', async () => {
  const { tf } = await loadTf();
  const shipped = await loadModelDir(tf, defaultModelDir());
  const models = [buildModel(tf, PAPER_ARCHITECTURE, 3), buildModel(tf, BEST_ARCHITECTURE, 3), shipped.model];
  try {
    for (const model of models) {
      const net = compileInference(tf, model);
      const session = await sessionModel(tf, inferenceGraph(net.ops, [48, 48, 1]));
      assert.ok(session, 'tfjs-node runs the graph');
      const x = inputs(tf, 4);
      const a = net.forward(x), [b] = session.execute(x);
      assert.deepEqual(b.shape, a.shape);
      assertClose(await b.data(), await a.data(), model.name);
      // Mirror TTA inside the graph: the mean of the pass on the inputs and on their mirror images.
      const mirrored = await sessionModel(tf, inferenceGraph(net.ops, [48, 48, 1], { mirror: true }));
      assert.ok(mirrored);
      const flipped = net.forward(tf.reverse(x, 2) as typeof x);
      const expected = tf.div(tf.add(a, flipped), 2);
      const [c] = mirrored.execute(x);
      assert.deepEqual(c.shape, a.shape);
      assertClose(await c.data(), await expected.data(), `${model.name} mirrored`);
      assert.ok(Math.max(...(await tf.abs(tf.sub(c, a)).data())) > 1e-4, 'the mirror images change the answer');
      tf.dispose([x, a, b, c, flipped, expected]);
      mirrored.dispose();
      session.dispose();
      net.dispose();
    }
  } finally {
    for (const m of models) m.dispose();
  }
});

test('a layer it does not know: NotCompilable (callers fall back to model.predict)', async () => {
  const { tf } = await loadTf();
  const model = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [48, 48, 1], filters: 2, kernelSize: 3 }), tf.layers.globalAveragePooling2d({}), tf.layers.dense({ units: 7, activation: 'softmax' })] });
  const before = tf.memory().numTensors;
  assert.throws(() => compileInference(tf, model), (e: unknown) => e instanceof NotCompilable && /GlobalAveragePooling2D/.test((e as Error).message));
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});
