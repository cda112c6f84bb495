import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cropDescriptor } from './appearance.js';
import { cosineSimilarity } from './tracker.js';

test('cropDescriptor is similar for the same face under other lighting, different for another layout', () => {
  const face = (f: (x: number, y: number) => number) => Uint8Array.from({ length: 48 * 48 }, (_, i) => f(i % 48, Math.floor(i / 48)));
  const a = face((x, y) => (y < 20 ? 200 : 60) + (x % 7));
  const aBright = face((x, y) => Math.min(255, ((y < 20 ? 200 : 60) + (x % 7)) * 1.2));
  const b = face((x) => (x < 24 ? 40 : 220));
  assert.equal(cropDescriptor(a).length, 36);
  assert.ok(cosineSimilarity(cropDescriptor(a), cropDescriptor(aBright)) > 0.99);
  assert.ok(cosineSimilarity(cropDescriptor(a), cropDescriptor(b)) < 0.2);
  assert.throws(() => cropDescriptor(new Uint8Array(10)), /2304/);
});
