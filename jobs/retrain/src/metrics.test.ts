import { test } from 'node:test';
import assert from 'node:assert/strict';
import { confusionMatrix, expectedCalibrationError, summarise } from './metrics.js';

test('confusion, precision, recall, F1 and balanced accuracy match a hand-computed case', () => {
  // truth: 3×class0, 1×class1; predictions: 0,0,1 | 1
  const truth = [0, 0, 0, 1];
  const probs = new Float32Array([
    0.9, 0.1, 0.8, 0.2, 0.4, 0.6,
    0.3, 0.7,
  ]);
  assert.deepEqual(confusionMatrix(truth, [0, 0, 1, 1], 2), [[2, 1], [0, 1]]);
  const s = summarise('m', 'd', truth, probs, 2, ['a', 'b']);
  assert.equal(s.accuracy, 0.75);
  assert.equal(s.perClass.a.precision, 1);
  assert.ok(Math.abs(s.perClass.a.recall - 2 / 3) < 1e-9);
  assert.equal(s.perClass.b.precision, 0.5);
  assert.equal(s.perClass.b.recall, 1);
  assert.ok(Math.abs(s.perClass.b.f1 - 2 / 3) < 1e-9);
  assert.ok(Math.abs(s.balancedAccuracy - (2 / 3 + 1) / 2) < 1e-9);
  assert.equal(s.perClass.a.support, 3);
});

test('ECE is 0 for perfectly calibrated bins and |conf-acc| otherwise', () => {
  assert.equal(expectedCalibrationError([1, 1], [true, true]), 0);
  // Two samples at confidence 0.9, one right one wrong: |0.9-0.5| = 0.4
  assert.ok(Math.abs(expectedCalibrationError([0.9, 0.9], [true, false]) - 0.4) < 1e-6);
});
