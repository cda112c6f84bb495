import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTf } from '@emostream/runtime';
import { buildModel, BEST_ARCHITECTURE, PAPER_ARCHITECTURE } from './architecture.js';
import { strongestChannels, canPrune, pruneWithWeights } from './prune.js';

type Tensor = import('@tensorflow/tfjs-node').Tensor;

test('strongestChannels keeps the largest |values| in index order, and refuses an impossible count', () => {
  assert.deepEqual(strongestChannels([0.1, -3, 2, 0.5, -0.2], 3), [1, 2, 3]);
  assert.deepEqual(strongestChannels([1, 1, 1], 2), [0, 1]); // ties: the lower index
  assert.throws(() => strongestChannels([1, 2], 3), /cannot keep 3 of 2/);
  assert.throws(() => strongestChannels([1, 2], 0), /cannot keep 0/);
});

test('canPrune: only narrower best networks with the same dense layer', () => {
  assert.ok(canPrune(BEST_ARCHITECTURE, { ...BEST_ARCHITECTURE, filters: [24, 48, 96, 192] }));
  assert.ok(!canPrune(BEST_ARCHITECTURE, { ...BEST_ARCHITECTURE, filters: [24, 48, 96, 512] }));
  assert.ok(!canPrune(BEST_ARCHITECTURE, { ...BEST_ARCHITECTURE, filters: [24, 48, 96, 192], denseUnits: 128 }));
  assert.ok(!canPrune(PAPER_ARCHITECTURE, { ...PAPER_ARCHITECTURE, filters: [24, 48, 96, 192] }));
});

test('pruneWithWeights: channels that carry nothing are the ones dropped, and the outputs do not change', async () => {
  const { tf } = await loadTf();
  const full = buildModel(tf, BEST_ARCHITECTURE, 11);
  // A quarter of every conv's channels, scattered, made silent: γ = β = 0 puts 0 after the ReLU,
  // so the next conv and fc1 never see them. The others get |γ| ≥ 0.5, so they are the strongest.
  const dropped = (b: number, c: number) => (c * 7 + b) % 4 === 0;
  BEST_ARCHITECTURE.filters.forEach((filters, b) => {
    for (let k = 1; k <= 2; k++) {
      const layer = full.getLayer(`block${b + 1}_bn${k}`);
      const [, , mean, variance] = layer.getWeights();
      const g = Array.from({ length: filters }, (_, c) => (dropped(b, c) ? 0 : (c % 2 ? -1 : 1) * (0.5 + (c % 5) / 10)));
      const bt = Array.from({ length: filters }, (_, c) => (dropped(b, c) ? 0 : ((c % 3) - 1) / 10));
      layer.setWeights([tf.tensor1d(g), tf.tensor1d(bt), mean, variance]);
    }
  });
  const narrow = { ...BEST_ARCHITECTURE, filters: [24, 48, 96, 192] as [number, number, number, number] };
  const cut = pruneWithWeights(tf, full, BEST_ARCHITECTURE, narrow, 3);
  assert.equal((cut.getLayer('block4_conv2').getWeights()[0] as Tensor).shape.join('x'), '3x3x192x192');
  assert.equal((cut.getLayer('fc1').getWeights()[0] as Tensor).shape.join('x'), `${3 * 3 * 192}x256`);
  const x = tf.randomUniform([4, 48, 48, 1], 0, 1, 'float32', 21);
  const ya = await (full.predict(x) as Tensor).data();
  const yb = await (cut.predict(x) as Tensor).data();
  for (let i = 0; i < ya.length; i++) assert.ok(Math.abs(ya[i] - yb[i]) < 1e-5, `output ${i}: ${ya[i]} vs ${yb[i]}`);
  // A silent channel kept instead of a live one would change them: cut one block narrower still.
  const cut2 = pruneWithWeights(tf, full, BEST_ARCHITECTURE, { ...narrow, filters: [24, 48, 96, 160] }, 3);
  const yc = await (cut2.predict(x) as Tensor).data();
  assert.ok(ya.some((v, i) => Math.abs(v - yc[i]) > 1e-4), 'dropping live channels changes the outputs');
  assert.throws(() => pruneWithWeights(tf, full, BEST_ARCHITECTURE, { ...narrow, filters: [24, 48, 96, 300] }), /each block may only narrow/);
  full.dispose(); cut.dispose(); cut2.dispose(); x.dispose();
});
