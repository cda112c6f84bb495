import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTf } from '@emostream/runtime';
import { buildModel, BEST_ARCHITECTURE } from '@emostream/model';
import { trainingPrior, logitShift, pickTau, adjustLogits } from './adjust.js';
import type { LabelledSet } from './datasets.js';

test('trainingPrior counts what one epoch draws, oversampling included', () => {
  const labels = Int32Array.from([0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 2]);
  assert.deepEqual(trainingPrior(labels, 3, 0).map((p) => +p.toFixed(4)), [8 / 11, 1 / 11, 2 / 11].map((p) => +p.toFixed(4)));
  // A floor of half the largest class: 8, 4, 4.
  assert.deepEqual(trainingPrior(labels, 3, 0.5), [0.5, 0.25, 0.25]);
  // Full balance leaves nothing to adjust.
  assert.deepEqual(logitShift(trainingPrior(labels, 3, 1), 1).map((d) => +d.toFixed(6)), [Math.log(3), Math.log(3), Math.log(3)].map((d) => +d.toFixed(6)));
});

test('logitShift is −τ·log prior; τ 0 changes nothing', () => {
  assert.deepEqual(logitShift([0.5, 0.25], 0), [0, 0]);
  const d = logitShift([0.5, 0.25], 2);
  assert.ok(Math.abs(d[0] - 2 * Math.log(2)) < 1e-12 && Math.abs(d[1] - 2 * Math.log(4)) < 1e-12);
});

test('a class never seen in training has prior 0 and is not raised: it gets the largest class\'s shift', () => {
  // CK+ has no neutral face: the neutral output learned nothing and must not be boosted over the rest.
  const labels = Int32Array.from([0, 0, 0, 1, 2, 2]);
  const prior = trainingPrior(labels, 4, 0);
  assert.deepEqual(prior, [0.5, 1 / 6, 1 / 3, 0]);
  const d = logitShift(prior, 0.5);
  assert.equal(d[3], d[0]);
  assert.ok(d[1] > d[2] && d[2] > d[0], `${d}`);
  assert.deepEqual(logitShift([0, 0], 1), [0, 0]);
});

test('pickTau takes the best mean of accuracy and balanced accuracy, the smaller τ on a tie', () => {
  assert.equal(pickTau([
    { tau: 0, accuracy: 0.66, balancedAccuracy: 0.60 },
    { tau: 0.3, accuracy: 0.65, balancedAccuracy: 0.64 },
    { tau: 0.5, accuracy: 0.64, balancedAccuracy: 0.65 },
    { tau: 0.8, accuracy: 0.60, balancedAccuracy: 0.61 },
  ]), 0.3);
  assert.equal(pickTau([{ tau: 0, accuracy: 0.5, balancedAccuracy: 0.5 }, { tau: 0.1, accuracy: 0.5, balancedAccuracy: 0.5 }]), 0);
});

test('adjustLogits leaves the network shifted by the chosen τ and raises the rare class', async () => {
  const { tf } = await loadTf();
  const m = buildModel(tf, BEST_ARCHITECTURE, 11);
  const n = 40;
  const images = new Uint8Array(n * 2304);
  for (let i = 0; i < images.length; i++) images[i] = (i * 7919) % 251;
  const val: LabelledSet = { images, labels: Int32Array.from({ length: n }, (_, i) => i % 7), ids: [], groups: [], skippedLabels: {}, unreadable: [] };
  const x = tf.tensor4d(Float32Array.from(images.subarray(0, 2304), (v) => v / 255), [1, 48, 48, 1]);
  const before = await (m.predict(x) as import('@tensorflow/tfjs-node').Tensor).data();
  const prior = [0.3, 0.01, 0.14, 0.25, 0.1, 0.1, 0.1];
  const a = await adjustLogits(tf, m, { val, valName: 'val', prior, flipTta: false, tau: 0.5 });
  assert.equal(a.tau, 0.5);
  assert.equal(a.grid.length, 1);
  const after = await (m.predict(x) as import('@tensorflow/tfjs-node').Tensor).data();
  // The rarest class gains the most relative to the most common one.
  assert.ok(after[1] / after[0] > (before[1] / before[0]) * Math.pow(0.3 / 0.01, 0.5) * 0.999);
  const fresh = buildModel(tf, BEST_ARCHITECTURE, 11);
  const auto = await adjustLogits(tf, fresh, { val, valName: 'val', prior, flipTta: false });
  assert.equal(auto.grid.length, 11);
  assert.equal(auto.tau, pickTau(auto.grid));
  x.dispose(); m.dispose(); fresh.dispose();
});
