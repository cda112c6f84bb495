import { test } from 'node:test';
import assert from 'node:assert/strict';
import { equalizeHist } from '@emostream/model';
import { augmentInto, equalisedCopy, filmedCopy, rng, NO_AUGMENT } from './augment.js';
import { DEFAULT_VIDEO_AUGMENT, drawBoxJitter, filmFace, gaussianBlur, jpegLuma, resample, type VideoAugmentConfig } from './video.js';

const N = 48 * 48;
/** A smooth face-like test image: a bright disc on a dark ground with two dark "eyes". */
function face(): Uint8Array {
  const a = new Uint8Array(N);
  for (let y = 0; y < 48; y++) for (let x = 0; x < 48; x++) {
    const d = Math.hypot(x - 23.5, y - 23.5);
    let v = d < 18 ? 190 : 40;
    if (Math.hypot(x - 16, y - 18) < 3 || Math.hypot(x - 31, y - 18) < 3) v = 60;
    a[y * 48 + x] = v;
  }
  return a;
}
const mean = (a: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i]; return s / a.length; };
const OFF: VideoAugmentConfig = { ...DEFAULT_VIDEO_AUGMENT, p: 1, facePx: [48, 48], gain: [1, 1], gamma: [1, 1], sideLight: 0, blurPx: [0, 0], noBlurP: 1, noise: [0, 0], jpegP: 0, boxScaleSigma: 0, boxShiftSigma: 0 };

test('JPEG at quality 100 keeps the image within a few levels; at 10 it loses detail but keeps the mean', () => {
  const src = Float32Array.from(face());
  const hi = src.slice(); jpegLuma(hi, 48, 100);
  assert.ok(hi.every((v, i) => Math.abs(v - src[i]) <= 3), 'quality 100 is near lossless');
  const lo = src.slice(); jpegLuma(lo, 48, 10);
  assert.ok(lo.some((v, i) => Math.abs(v - src[i]) > 20), 'quality 10 changes pixels');
  assert.ok(Math.abs(mean(lo) - mean(src)) < 3, 'the DC term survives');
});

test('blur keeps the mean and lowers the contrast; resampling down and up keeps the mean', () => {
  const src = Float32Array.from(face());
  const b = src.slice(); gaussianBlur(b, 48, 1.5);
  assert.ok(Math.abs(mean(b) - mean(src)) < 1);
  assert.ok(Math.max(...b) - Math.min(...b) <= Math.max(...src) - Math.min(...src));
  assert.ok(b[24 * 48 + 5] !== src[24 * 48 + 5] || b[24 * 48 + 6] !== src[24 * 48 + 6], 'edges soften');
  const small = resample(src, 48, 16);
  assert.equal(small.length, 256);
  assert.ok(Math.abs(mean(small) - mean(src)) < 0.5, 'area averaging keeps the mean');
  const back = resample(small, 16, 48);
  assert.equal(back.length, N);
  assert.ok(Math.abs(mean(back) - mean(src)) < 3);
});

test('filming with every effect off leaves the face as it was', () => {
  const src = Float32Array.from(face());
  const img = src.slice();
  filmFace(img, OFF, rng(5));
  assert.ok(img.every((v, i) => Math.abs(v - src[i]) < 1e-3));
});

test('a 16 px face in the frame loses the detail a 48 px face keeps', () => {
  const src = Float32Array.from(face());
  const img = src.slice();
  filmFace(img, { ...OFF, facePx: [16, 16] }, rng(5));
  // The eyes (3 px radius) blur into the face at a third of the resolution.
  assert.ok(img[18 * 48 + 16] > src[18 * 48 + 16] + 10, `eye pixel ${img[18 * 48 + 16]} vs ${src[18 * 48 + 16]}`);
});

test('low gain darkens, noise adds variance, and the same seed films the same way', () => {
  const src = Float32Array.from(face());
  const dark = src.slice(); filmFace(dark, { ...OFF, gain: [0.5, 0.5] }, rng(1));
  assert.ok(mean(dark) < mean(src) * 0.6);
  const a = src.slice(), b = src.slice();
  filmFace(a, DEFAULT_VIDEO_AUGMENT, rng(9)); filmFace(b, DEFAULT_VIDEO_AUGMENT, rng(9));
  assert.deepEqual(a, b);
  const noisy = src.slice(); filmFace(noisy, { ...OFF, noise: [8, 8] }, rng(2));
  const diff = Array.from(noisy, (v, i) => v - src[i]);
  const sd = Math.sqrt(mean(diff.map((d) => d * d)));
  assert.ok(sd > 4 && sd < 10, `noise σ ${sd}`);
});

test('the detector box draws centre on the face: zoom around 1, shifts around 0, spread as configured', () => {
  const r = rng(4);
  const draws = Array.from({ length: 4000 }, () => drawBoxJitter(DEFAULT_VIDEO_AUGMENT, r));
  const lnZoom = draws.map((d) => Math.log(d.zoom));
  assert.ok(Math.abs(mean(lnZoom)) < 0.01);
  const sdZoom = Math.sqrt(mean(lnZoom.map((v) => v * v)));
  assert.ok(Math.abs(sdZoom - DEFAULT_VIDEO_AUGMENT.boxScaleSigma) < 0.01, `σ ${sdZoom}`);
  const sdDy = Math.sqrt(mean(draws.map((d) => d.dy * d.dy)));
  assert.ok(Math.abs(sdDy - DEFAULT_VIDEO_AUGMENT.boxShiftSigma * 48) < 0.2, `dy σ ${sdDy}`);
});

test('a box centred below the face shows the face higher up', () => {
  const src = face();
  const dst = new Float32Array(N);
  // Only the box shift: a fixed generator whose normal draws come out positive for dy.
  const cfg = { ...OFF, boxShiftSigma: 0.1 };
  let found = false;
  for (let seed = 1; seed < 50 && !found; seed++) {
    const probe = rng(seed); probe(); const { dy } = drawBoxJitter(cfg, probe);
    if (dy < 3) continue;
    augmentInto(src, dst, 0, NO_AUGMENT, rng(seed), cfg);
    const row = (img: ArrayLike<number>, y: number) => Array.from({ length: 48 }, (_, x) => img[y * 48 + x]);
    // The top edge of the bright disc (row 6 in the source) moves up by about dy.
    const topOf = (img: ArrayLike<number>, scale: number) => { for (let y = 0; y < 48; y++) if (Math.max(...row(img, y)) * scale > 150) return y; return 48; };
    assert.ok(topOf(dst, 255) <= topOf(src, 1) - 2, `top ${topOf(dst, 255)} vs ${topOf(src, 1)} (dy ${dy.toFixed(1)})`);
    found = true;
  }
  assert.ok(found, 'a seed with a downward box shift exists');
});

test('with video augmentation the output is equalised as the model preprocesses, filmed or not', () => {
  const src = face();
  const dst = new Float32Array(N);
  augmentInto(src, dst, 0, NO_AUGMENT, rng(1), { ...DEFAULT_VIDEO_AUGMENT, p: 0 });
  const eq = equalizeHist(src);
  assert.ok(dst.every((v, i) => Math.abs(v - eq[i] / 255) < 1e-6), 'unfilmed: exactly the equalised face');
  augmentInto(src, dst, 0, NO_AUGMENT, rng(2), { ...DEFAULT_VIDEO_AUGMENT, p: 1 });
  assert.ok(Math.max(...dst) === 1, 'filmed: equalised to the full range');
});

test('filmed and equalised copies of a set: same size, seeded, equalised', () => {
  const images = new Uint8Array(3 * N);
  for (let k = 0; k < 3; k++) images.set(face().map((v) => Math.round(v * (0.5 + k * 0.2))), k * N);
  const set = { images, labels: Int32Array.from([0, 1, 2]) };
  const a = filmedCopy(set, DEFAULT_VIDEO_AUGMENT, 7), b = filmedCopy(set, DEFAULT_VIDEO_AUGMENT, 7);
  assert.deepEqual(a.images, b.images);
  assert.equal(a.labels, set.labels);
  assert.notDeepEqual(a.images, equalisedCopy(set).images);
  const e = equalisedCopy(set);
  for (let k = 0; k < 3; k++) assert.deepEqual(e.images.subarray(k * N, (k + 1) * N), equalizeHist(images.subarray(k * N, (k + 1) * N)));
});
