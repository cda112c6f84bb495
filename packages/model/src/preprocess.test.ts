import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { equalizeHist, toModelCrop, INPUT_PIXELS } from './preprocess.js';

test('equalizeHist spreads a narrow range over 0..255 like OpenCV', () => {
  const px = new Uint8Array([100, 100, 101, 102, 103, 103, 103, 104]);
  const out = equalizeHist(px);
  assert.equal(out[0], 0);
  assert.equal(out[7], 255);
  // Monotonic: a brighter input never maps darker.
  for (let i = 1; i < px.length; i++) if (px[i] >= px[i - 1]) assert.ok(out[i] >= out[i - 1]);
  // Hand-computed: cdf = [2,3,4,7,8], cdfMin 2, total 8 → (cdf-2)/6*255.
  assert.deepEqual([...new Set(out)], [0, 43, 85, 213, 255]);
});

test('equalizeHist leaves a flat image unchanged', () => {
  assert.deepEqual(equalizeHist(new Uint8Array([7, 7, 7])), new Uint8Array([7, 7, 7]));
});

test('toModelCrop gives 48x48 equalised gray from a colour image', async () => {
  const w = 96, h = 80;
  const rgb = Buffer.alloc(w * h * 3);
  for (let i = 0; i < w * h; i++) { rgb[i * 3] = 90 + (i % w) / 8; rgb[i * 3 + 1] = 100; rgb[i * 3 + 2] = 110; }
  const crop = await toModelCrop(rgb, { width: w, height: h, channels: 3 });
  assert.equal(crop.length, INPUT_PIXELS);
  assert.equal(Math.min(...crop), 0);
  assert.equal(Math.max(...crop), 255);
  // Same pixels through an encoded PNG give the same crop (training reads files, inference raw frames).
  const png = await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
  assert.deepEqual(await toModelCrop(png), crop);
});
