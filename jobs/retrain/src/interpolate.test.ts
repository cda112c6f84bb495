import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTf } from '@emostream/runtime';
import { interpolateInto, pickLambda, type InterpolationPoint } from './interpolate.js';

const p = (lambda: number, still: number, filmed: number): InterpolationPoint => ({ lambda, stillAccuracy: still, stillBalancedAccuracy: still, filmedAccuracy: filmed });

test('λ: the best mean of still and filmed among those that keep still accuracy within the allowed loss', () => {
  const grid = [p(0, 0.70, 0.50), p(0.25, 0.699, 0.54), p(0.5, 0.694, 0.56), p(0.75, 0.68, 0.57), p(1, 0.67, 0.575)];
  assert.equal(pickLambda(grid, 0.005).lambda, 0.25, '0.5 loses 0.6 points of still accuracy');
  assert.equal(pickLambda(grid, 0.01).lambda, 0.5);
  assert.equal(pickLambda(grid, 1).lambda, 0.5, 'no limit: the best mean (0.627)');
  assert.equal(pickLambda([p(0, 0.7, 0.5), p(0.5, 0.6, 0.4)], 0.5).lambda, 0, 'the base when nothing beats it');
  assert.throws(() => pickLambda([p(0.5, 0.7, 0.5)], 0.01), /λ = 0/);
});

test('interpolation mixes every weight linearly and refuses another architecture', async () => {
  const { tf } = await loadTf();
  const mk = (v: number, units = 3) => {
    const m = tf.sequential({ layers: [tf.layers.dense({ units, inputShape: [2] })] });
    m.setWeights(m.getWeights().map((w) => tf.fill(w.shape, v)));
    return m;
  };
  const a = mk(1), b = mk(3), into = mk(0);
  interpolateInto(tf, into, a, b, 0.25);
  for (const w of into.getWeights()) assert.ok(Array.from(w.dataSync()).every((x) => Math.abs(x - 1.5) < 1e-6));
  assert.throws(() => interpolateInto(tf, into, a, mk(1, 4), 0.5), /same layers/);
  assert.throws(() => interpolateInto(tf, into, a, b, 1.5), /\[0, 1\]/);
});
