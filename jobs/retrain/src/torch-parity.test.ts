/**
 * The video recipe's filming in PyTorch (jobs/retrain/torch/film.py) against video.ts: this test
 * makes a fixture from video.ts and augment.ts (jobs/retrain/torch/parity-fixture.json) and checks
 * that the committed one is what they make now, so it cannot go stale when video.ts changes
 * (UPDATE_TORCH_PARITY=1 writes it). jobs/retrain/torch/test_torch_path.py checks the PyTorch
 * side against the same file: the deterministic cases pixel for pixel (within a level), the
 * random filming by its statistics, and the recipe's settings (VIDEO_CONFIG) against train.py's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { equalizeHist } from '@emostream/model';
import { augmentInto, rng } from './augment.js';
import { VIDEO_CONFIG } from './configs.js';
import { DEFAULT_VIDEO_AUGMENT, filmFace, gaussianBlur, jpegLuma, resample, type VideoAugmentConfig } from './video.js';

const FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../torch/parity-fixture.json');
const N = 48, PX = N * N;

/** A face-like test image with texture for blur and JPEG: a lit disc with eyes and a mouth on a graded ground. */
export function parityFace(): Uint8Array {
  const a = new Uint8Array(PX);
  for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) {
    let v = 30 + x * 2;
    if (Math.hypot(x - 23.5, (y - 24) * 0.85) < 18) v = 200 - y * 2 + ((x * 7 + y * 3) % 11);
    if (Math.hypot(x - 16, y - 19) < 3 || Math.hypot(x - 31, y - 19) < 3) v = 50;
    if (Math.hypot((x - 23.5) * 0.5, y - 33) < 2.5) v = 90;
    a[y * N + x] = v;
  }
  return a;
}

const b64 = (v: ArrayLike<number>) => Buffer.from(Uint8Array.from(v, (x) => Math.max(0, Math.min(255, Math.round(x))))).toString('base64');

/** Figures of one image: mean, spread, mean |horizontal step| (what blur lowers and noise and JPEG raise), mean |change| from a reference. */
function figures(img: ArrayLike<number>, ref: ArrayLike<number>): number[] {
  let s = 0, s2 = 0, grad = 0, diff = 0;
  for (let i = 0; i < PX; i++) { s += img[i]; s2 += img[i] * img[i]; diff += Math.abs(img[i] - ref[i]); }
  for (let y = 0; y < N; y++) for (let x = 0; x < N - 1; x++) grad += Math.abs(img[y * N + x + 1] - img[y * N + x]);
  const mean = s / PX;
  return [mean, Math.sqrt(Math.max(0, s2 / PX - mean * mean)), grad / (N * (N - 1)), diff / PX];
}
const FIGURES = ['mean', 'sd', 'gradient', 'change'];

/** Mean and spread over images of each figure. */
function stats(rows: number[][]): Record<string, { mean: number; sd: number; n: number }> {
  return Object.fromEntries(FIGURES.map((f, k) => {
    const v = rows.map((r) => r[k]);
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1));
    return [f, { mean: +m.toFixed(6), sd: +sd.toFixed(6), n: v.length }];
  }));
}

/** filmFace with every draw equal to `u` and no noise: deterministic, so the PyTorch port can match it pixel for pixel. */
const DET_CFG: VideoAugmentConfig = { ...DEFAULT_VIDEO_AUGMENT, noise: [0, 0], noBlurP: 0, jpegP: 1 };
const DET_CASES: Array<{ u: number; facePx?: [number, number] }> = [
  { u: 0.05 }, { u: 0.3 }, { u: 0.55 }, { u: 0.8 }, { u: 0.97 }, { u: 0.4, facePx: [12, 12] }, { u: 0.6, facePx: [48, 48] },
];
const DRAWS = 1000;

export function makeParityFixture() {
  const face = parityFace();
  const src = Float32Array.from(face);
  // The single steps start from pixels off the integers, so that no DCT coefficient sits exactly
  // on a quantisation step's half, where float rounding would decide (the filmed cases never are).
  const step = (f: (img: Float32Array) => Float32Array | void) => { const img = src.map((v) => v + 0.37); return b64(f(img) ?? img); };
  const deterministic = DET_CASES.map(({ u, facePx }) => {
    const cfg = { ...DET_CFG, ...(facePx ? { facePx } : {}) };
    const img = src.slice();
    filmFace(img, cfg, () => u);
    return { u, config: cfg, out: b64(img) };
  });
  const filmed = Array.from({ length: DRAWS }, (_, k) => { const img = src.slice(); filmFace(img, DEFAULT_VIDEO_AUGMENT, rng(1000 + k)); return figures(img, src); });
  const eq = equalizeHist(face), out = new Float32Array(PX);
  const augmented = Array.from({ length: DRAWS }, (_, k) => {
    augmentInto(face, out, 0, VIDEO_CONFIG.augment, rng(5000 + k), VIDEO_CONFIG.video);
    return figures(out.map((v) => v * 255), eq);
  });
  return {
    about: 'made by jobs/retrain/src/torch-parity.test.ts from video.ts and augment.ts (UPDATE_TORCH_PARITY=1 rewrites it); read by jobs/retrain/torch/test_torch_path.py',
    face: b64(face),
    videoConfig: VIDEO_CONFIG,
    steps: {
      jpeg48q50: step((img) => jpegLuma(img, N, 50)),
      jpeg48q90: step((img) => jpegLuma(img, N, 90)),
      resample20: step((img) => resample(resample(img, N, 20), 20, N)),
      resample77: step((img) => resample(resample(img, N, 77), 77, N)),
      blur12: step((img) => gaussianBlur(img, N, 1.2)),
    },
    deterministic,
    statistics: { filmFace: stats(filmed), augmentVideo: stats(augmented), figures: FIGURES, draws: DRAWS },
  };
}

test('the PyTorch parity fixture is what video.ts and augment.ts make now', () => {
  const made = JSON.parse(JSON.stringify(makeParityFixture()));
  if (process.env.UPDATE_TORCH_PARITY === '1') fs.writeFileSync(FIXTURE, JSON.stringify(made, null, 1) + '\n');
  const committed = JSON.parse(fs.readFileSync(FIXTURE, 'utf8'));
  assert.deepEqual(committed, made, `${FIXTURE} is stale: rerun this test with UPDATE_TORCH_PARITY=1, then jobs/retrain/torch/test_torch_path.py`);
  // The figures tell filming apart from doing nothing: blur and small faces lower the gradient, light moves the mean.
  const still = figures(Float32Array.from(parityFace()), Float32Array.from(parityFace()));
  assert.ok(made.statistics.filmFace.change.mean > 5, 'filming changes the face');
  assert.ok(Math.abs(made.statistics.filmFace.gradient.mean - still[2]) > 1, 'filming changes its sharpness');
});
