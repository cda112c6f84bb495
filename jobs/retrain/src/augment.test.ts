import { test } from 'node:test';
import assert from 'node:assert/strict';
import { augmentInto, epochOrder, rng, NO_AUGMENT } from './augment.js';

const face = () => { const a = new Uint8Array(48 * 48); for (let i = 0; i < a.length; i++) a[i] = (i * 7) % 256; return a; };

test('no augmentation copies the pixels scaled to [0,1]', () => {
  const src = face();
  const dst = new Float32Array(48 * 48);
  augmentInto(src, dst, 0, NO_AUGMENT, rng(1));
  for (let i = 0; i < src.length; i++) assert.ok(Math.abs(dst[i] - src[i] / 255) < 1e-6);
});

test('a certain horizontal flip mirrors each row', () => {
  const src = face();
  const dst = new Float32Array(48 * 48);
  augmentInto(src, dst, 0, { ...NO_AUGMENT, flipH: 1 }, rng(1));
  assert.ok(Math.abs(dst[0] - src[47] / 255) < 1e-6);
  assert.ok(Math.abs(dst[48 * 10 + 5] - src[48 * 10 + 42] / 255) < 1e-6);
});

test('rotation stays in range and changes the image', () => {
  const src = face();
  const dst = new Float32Array(48 * 48);
  augmentInto(src, dst, 0, { ...NO_AUGMENT, rotateDeg: 45 }, rng(3));
  assert.ok(dst.every((v) => v >= 0 && v <= 1));
  assert.ok(dst.some((v, i) => Math.abs(v - src[i] / 255) > 0.05));
});

test('balanced epochs draw each class equally and keep every label', () => {
  const labels = Int32Array.from([0, 0, 0, 0, 1, 2, 2]);
  const order = epochOrder(labels, 3, 1, rng(5));
  const counts = [0, 0, 0];
  for (const i of order) counts[labels[i]]++;
  assert.deepEqual(counts, [4, 4, 4]);
  const plain = epochOrder(labels, 3, 0, rng(5));
  assert.deepEqual([...plain].sort(), [0, 1, 2, 3, 4, 5, 6]);
});

test('minClassShare draws only the classes below the share of the largest up to it', () => {
  const labels = Int32Array.from([0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 2, 2, 2]);
  const order = epochOrder(labels, 3, 0.5, rng(5));
  const counts = [0, 0, 0];
  for (const i of order) counts[labels[i]]++;
  assert.deepEqual(counts, [8, 4, 4], 'class 1 (1 image) drawn 4 times; class 2 already at half stays');
  assert.deepEqual(new Set(order), new Set(labels.keys()), 'every image still drawn');
});

test('random erasing fills one rectangle of 2–25% of the face with one gray and leaves the rest', () => {
  const src = face();
  for (let seed = 1; seed <= 20; seed++) {
    const dst = new Float32Array(48 * 48);
    augmentInto(src, dst, 0, { ...NO_AUGMENT, eraseP: 1 }, rng(seed));
    const changed: number[] = [];
    dst.forEach((v, i) => { if (Math.abs(v - src[i] / 255) > 1e-6) changed.push(i); });
    const values = new Set(changed.map((i) => dst[i].toFixed(6)));
    assert.ok(values.size <= 1, `seed ${seed}: one fill value, got ${values.size}`);
    // A rectangle: its bounding box holds only erased pixels (up to pixels that equal the fill).
    const ys = changed.map((i) => Math.floor(i / 48)), xs = changed.map((i) => i % 48);
    const box = (Math.max(...ys) - Math.min(...ys) + 1) * (Math.max(...xs) - Math.min(...xs) + 1);
    assert.ok(changed.length >= box - 48 && changed.length <= box, `seed ${seed}: ${changed.length} of a ${box}-pixel box`);
    assert.ok(box <= 0.25 * 48 * 48 + 2 * 48 + 1 && box >= 1, `seed ${seed}: box ${box}`);
  }
  // Off, it draws no random numbers: the other augmentations see the same sequence as before.
  const a = new Float32Array(48 * 48), b = new Float32Array(48 * 48);
  augmentInto(src, a, 0, { ...NO_AUGMENT, rotateDeg: 10 }, rng(9));
  augmentInto(src, b, 0, { ...NO_AUGMENT, rotateDeg: 10, eraseP: 0 }, rng(9));
  assert.deepEqual(a, b);
});
