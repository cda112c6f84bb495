import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTf } from '@emostream/runtime';
import { buildModel, rebuildWithWeights, shiftEmotionLogits, PAPER_ARCHITECTURE, BEST_ARCHITECTURE } from './architecture.js';

test('paper architecture: four conv blocks, two dense layers, 979,719 parameters', async () => {
  const { tf } = await loadTf();
  const m = buildModel(tf, PAPER_ARCHITECTURE);
  assert.deepEqual(m.inputs[0].shape, [null, 48, 48, 1]);
  assert.deepEqual(m.outputs[0].shape, [null, 7]);
  assert.equal(m.countParams(), 979_719);
  const names = m.layers.map((l) => l.getClassName());
  assert.equal(names.filter((n) => n === 'Conv2D').length, 4);
  assert.equal(names.filter((n) => n === 'MaxPooling2D').length, 4);
  assert.equal(names.filter((n) => n === 'Dropout').length, 5);
  assert.equal(names.filter((n) => n === 'Dense').length, 2);
  // Each conv is followed by pooling and then dropout (the paper's "modification").
  for (let i = 0; i < names.length; i++) if (names[i] === 'Conv2D') assert.deepEqual(names.slice(i + 1, i + 3), ['MaxPooling2D', 'Dropout']);
  m.dispose();
});

test('best architecture: 1,766,439 parameters, outputs a probability distribution', async () => {
  const { tf } = await loadTf();
  const m = buildModel(tf, BEST_ARCHITECTURE);
  const y = m.predict(tf.zeros([2, 48, 48, 1])) as import('@tensorflow/tfjs-node').Tensor;
  const sums = await y.sum(1).array() as number[];
  for (const s of sums) assert.ok(Math.abs(s - 1) < 1e-5);
  y.dispose();
  // The shipped models' figure (models/README.md, models/best/card.json, jobs/retrain/torch).
  assert.equal(m.countParams(), 1_766_439);
  m.dispose();
});

test('rebuildWithWeights keeps the weights under new dropout rates and refuses another shape', async () => {
  const { tf } = await loadTf();
  const a = buildModel(tf, BEST_ARCHITECTURE, 3);
  const b = rebuildWithWeights(tf, a, { ...BEST_ARCHITECTURE, blockDropout: 0.05, denseDropout: 0.3 }, 9);
  const x = tf.randomUniform([3, 48, 48, 1], 0, 1, 'float32', 5);
  const ya = await (a.predict(x) as import('@tensorflow/tfjs-node').Tensor).data();
  const yb = await (b.predict(x) as import('@tensorflow/tfjs-node').Tensor).data();
  for (let i = 0; i < ya.length; i++) assert.ok(Math.abs(ya[i] - yb[i]) < 1e-6, `output ${i}: ${ya[i]} vs ${yb[i]}`);
  assert.equal((b.getLayer('block1_dropout').getConfig() as { rate: number }).rate, 0.05);
  assert.throws(() => rebuildWithWeights(tf, a, PAPER_ARCHITECTURE), /block1_conv1.*needs/);
  a.dispose(); b.dispose(); x.dispose();
});

test('shiftEmotionLogits multiplies each probability by e^delta and renormalises', async () => {
  const { tf } = await loadTf();
  const m = buildModel(tf, BEST_ARCHITECTURE, 4);
  const x = tf.randomUniform([4, 48, 48, 1], 0, 1, 'float32', 8);
  const before = await (m.predict(x) as import('@tensorflow/tfjs-node').Tensor).data();
  const delta = [0.5, 2, 1, -0.7, 0, 0.3, -0.1];
  shiftEmotionLogits(tf, m, delta);
  const after = await (m.predict(x) as import('@tensorflow/tfjs-node').Tensor).data();
  for (let r = 0; r < 4; r++) {
    const w = delta.map((d, c) => before[r * 7 + c] * Math.exp(d));
    const z = w.reduce((a, b) => a + b, 0);
    for (let c = 0; c < 7; c++) assert.ok(Math.abs(after[r * 7 + c] - w[c] / z) < 1e-5, `row ${r} class ${c}: ${after[r * 7 + c]} vs ${w[c] / z}`);
  }
  assert.throws(() => shiftEmotionLogits(tf, m, [1, 2]), /7 biases, the shift 2/);
  m.dispose();
});
