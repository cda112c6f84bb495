import { test } from 'node:test';
import assert from 'node:assert/strict';
import { displaySize, normalizeRotation, parseRate, parseSampleAspect } from './probe.js';

test('displaySize: a rotation of 90 or 270 swaps the sides; 0 and 180 keep them', () => {
  assert.deepEqual(displaySize(596, 336, 1, 0), { width: 596, height: 336 });
  assert.deepEqual(displaySize(596, 336, 1, 90), { width: 336, height: 596 });
  assert.deepEqual(displaySize(596, 336, 1, 180), { width: 596, height: 336 });
  assert.deepEqual(displaySize(596, 336, 1, 270), { width: 336, height: 596 });
});

test('displaySize: non-square pixels widen the picture to square ones, before the rotation', () => {
  // Anamorphic 4:3 pixels: 448 coded columns show as 597 square ones.
  assert.deepEqual(displaySize(448, 336, 4 / 3), { width: 597, height: 336 });
  // PAL DV widescreen (720x576, 64:45) shows as 1024x576.
  assert.deepEqual(displaySize(720, 576, 64 / 45), { width: 1024, height: 576 });
  assert.deepEqual(displaySize(448, 336, 4 / 3, 90), { width: 336, height: 597 });
});

test('normalizeRotation: ffprobe degrees (negative, strings, tags) to 0/90/180/270; other angles 0', () => {
  assert.equal(normalizeRotation(-90), 270);
  assert.equal(normalizeRotation('90'), 90);
  assert.equal(normalizeRotation(-180), 180);
  assert.equal(normalizeRotation(270), 270);
  assert.equal(normalizeRotation(450), 90);
  assert.equal(normalizeRotation(89.9), 90);
  assert.equal(normalizeRotation(45), 0);
  assert.equal(normalizeRotation(undefined), 0);
  assert.equal(normalizeRotation('N/A'), 0);
});

test('parseSampleAspect and parseRate', () => {
  assert.equal(parseSampleAspect('4:3'), 4 / 3);
  assert.equal(parseSampleAspect('1:1'), 1);
  assert.equal(parseSampleAspect('0:1'), 1);
  assert.equal(parseSampleAspect('N/A'), 1);
  assert.equal(parseSampleAspect(undefined), 1);
  assert.equal(parseRate('30000/1001')!.toFixed(3), '29.970');
  assert.equal(parseRate('0/0'), undefined);
});
