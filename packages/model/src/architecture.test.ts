import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTf } from '@emostream/runtime';
import { buildModel, PAPER_ARCHITECTURE, BEST_ARCHITECTURE } from './architecture.js';

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

test('best architecture outputs a probability distribution', async () => {
  const { tf } = await loadTf();
  const m = buildModel(tf, BEST_ARCHITECTURE);
  const y = m.predict(tf.zeros([2, 48, 48, 1])) as import('@tensorflow/tfjs-node').Tensor;
  const sums = await y.sum(1).array() as number[];
  for (const s of sums) assert.ok(Math.abs(s - 1) < 1e-5);
  y.dispose();
  console.log(`best: ${m.countParams()} parameters`);
  m.dispose();
});
