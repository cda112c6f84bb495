import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from 'commander';
import { facePxOption, filtersOption, rotateOption } from './options.js';

test('facePxOption: min,max face heights in frame pixels', () => {
  assert.deepEqual(facePxOption('24,80'), [24, 80]);
  assert.deepEqual(facePxOption(' 40,200 '), [40, 200]);
});

test('facePxOption: refuses a reversed, empty, out-of-range or malformed range, naming the option and an example', () => {
  for (const bad of ['80,24', '24,24', '4,80', '24,500', '24', '24-80', 'a,b', '']) {
    assert.throws(() => facePxOption(bad), (e: unknown) => e instanceof InvalidArgumentError && /--video-face-px/.test(e.message) && /e\.g\. 24,80/.test(e.message), bad);
  }
});

test('rotateOption: 0, 90, 180 or 270 degrees; anything else refused naming the option and the choices', () => {
  assert.deepEqual(['0', '90', '180', '270'].map(rotateOption), [0, 90, 180, 270]);
  for (const bad of ['45', '-90', '360', '', ' ', 'upside']) {
    assert.throws(() => rotateOption(bad), (e: unknown) => e instanceof InvalidArgumentError && /--rotate/.test(e.message) && /0, 90, 180 or 270/.test(e.message), bad);
  }
});

test('filtersOption: four conv blocks\' filters, each from 1 to 512', () => {
  assert.deepEqual(filtersOption('24,48,96,192'), [24, 48, 96, 192]);
  assert.deepEqual(filtersOption(' 16,32,64,128 '), [16, 32, 64, 128]);
  for (const bad of ['24,48,96', '24,48,96,192,384', '0,48,96,192', '24,48,96,600', 'a,b,c,d', '24.5,48,96,192']) {
    assert.throws(() => filtersOption(bad), (e: Error) => e instanceof InvalidArgumentError && /--filters takes/.test(e.message), bad);
  }
});
