import assert from 'node:assert/strict';
import test from 'node:test';
import sharp from 'sharp';
import { grayRegion, resizeGray, shrinkBlocks, toGray } from './resize.js';

/** A face-like test picture: smooth shading, edges and noise, from a fixed seed. */
function picture(width: number, height: number, channels: 1 | 3, seed = 7): Uint8Array {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const out = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const r = Math.hypot(x - width / 2, y - height / 2) / Math.max(width, height);
      const base = 60 + 140 * Math.exp(-4 * r * r) + (x % 17 < 3 ? 40 : 0) + 20 * rand();
      for (let c = 0; c < channels; c++) out[(y * width + x) * channels + c] = Math.max(0, Math.min(255, Math.round(base * (1 - 0.15 * c))));
    }
  }
  return out;
}

test('toGray is sharp\'s grayscale() within one gray level', async () => {
  const rgb = picture(64, 40, 3);
  const ours = toGray(rgb, 64 * 40, 3);
  const theirs = await sharp(rgb, { raw: { width: 64, height: 40, channels: 3 } }).grayscale().raw().toBuffer();
  assert.equal(theirs.length, ours.length);
  for (let i = 0; i < ours.length; i++) assert.ok(Math.abs(ours[i] - theirs[i]) <= 1, `pixel ${i}: ${ours[i]} against ${theirs[i]}`);
  const gray = picture(8, 8, 1);
  assert.equal(toGray(gray, 64, 1), gray);
  assert.throws(() => toGray(rgb, 10, 3), /expected 10x3 bytes/);
});

for (const side of [30, 96, 200, 430]) {
  test(`resizeGray ${side} → 48 is close to sharp's lanczos3 resize`, async () => {
    const gray = picture(side, side, 1, side);
    const ours = resizeGray(gray, side, side, 48, 48);
    const theirs = await sharp(gray, { raw: { width: side, height: side, channels: 1 } }).grayscale().resize(48, 48, { fit: 'fill', kernel: 'lanczos3' }).raw().toBuffer();
    assert.equal(theirs.length, ours.length);
    let sum = 0, within1 = 0;
    for (let i = 0; i < ours.length; i++) { const d = Math.abs(ours[i] - theirs[i]); sum += d; if (d <= 1) within1++; }
    assert.ok(sum / ours.length < 1, `mean difference ${sum / ours.length}`);
    assert.ok(within1 / ours.length > 0.85, `${within1} of ${ours.length} within one level`);
  });
}

test('resizeGray keeps a flat picture flat, copies at the same size and checks its input', () => {
  const flat = new Uint8Array(120 * 90).fill(77);
  assert.ok(resizeGray(flat, 120, 90, 48, 48).every((v) => v === 77));
  assert.ok(resizeGray(new Uint8Array(20 * 20).fill(200), 20, 20, 48, 48).every((v) => v === 200));
  const g = picture(48, 48, 1);
  const same = resizeGray(g, 48, 48, 48, 48);
  assert.deepEqual(same, g);
  assert.notEqual(same, g);
  assert.throws(() => resizeGray(g, 40, 48, 48, 48), /expected 40x48 gray bytes/);
});

test('grayRegion is toGray of the region; shrinkBlocks averages blocks, the last ones over what is left', () => {
  const w = 50, h = 40, rgb = picture(w, h, 3);
  const region = { left: 7, top: 5, w: 31, h: 23 };
  const copy = new Uint8Array(region.w * region.h * 3);
  for (let y = 0; y < region.h; y++) copy.set(rgb.subarray(((region.top + y) * w + region.left) * 3, ((region.top + y) * w + region.left + region.w) * 3), y * region.w * 3);
  const gray = grayRegion(rgb, w, region.left, region.top, region.w, region.h);
  assert.deepEqual(gray, toGray(copy, region.w * region.h, 3));
  assert.deepEqual(shrinkBlocks(Uint8Array.of(10, 20, 30, 41, 50, 60), 3, 2, 2), { data: Uint8Array.of(30, 45), width: 2, height: 1 });
  assert.throws(() => grayRegion(rgb, w, 40, 0, 20, 10), /not inside the 50x40 picture/);
});
