/**
 * Video augmentation: what a camera and the detector do to a face before the classifier sees it,
 * applied to a 48x48 training face before the model's equalisation, so that training sees the
 * crops the pipeline makes. Each step follows the through-the-pipeline measurement
 * (`npm run bench -- --only pipelineAccuracy`), whose frames are made the same way:
 * - **face size**: the face is S px high in the frame (log-uniform); below 48 px it is resampled
 *   down to S and back up, as the detector's crop of a small face is;
 * - **lighting**: gain, gamma and a side-light gradient;
 * - **optics and sensor**: Gaussian blur and noise, given in frame pixels and scaled to the face;
 * - **compression**: JPEG (luma: 8x8 DCT with the standard table at a random quality) at the
 *   face's own resolution, so that small faces get coarse blocks;
 * - **the detector's box**: its size and centre differ from face to face (the measurement's
 *   framing figures: the box-equivalent margin's interquartile range was about 0.04–0.22 of the
 *   box and the vertical offset's −0.13 to −0.02 box heights), drawn here as a random zoom and
 *   shift around the training framing.
 * Pure JS and seeded, like the rest of the augmentation.
 */
import { INPUT_SIZE } from '@emostream/model';

/** What video augmentation does (all ranges drawn uniformly unless said otherwise). */
export interface VideoAugmentConfig {
  /** Probability that a training image is filmed (else it is only equalised). */
  p: number;
  /** Face height in frame pixels, drawn log-uniformly in [min, max]. */
  facePx: [number, number];
  /** Gain (exposure) range. */
  gain: [number, number];
  /** Gamma range (v' = v^gamma on [0, 1]). */
  gamma: [number, number];
  /** Largest side-light gradient: brightness × (1 ± sideLight) from one side of the face to the other. */
  sideLight: number;
  /** Blur σ in frame pixels (0 in `noBlurP` of the images). */
  blurPx: [number, number];
  noBlurP: number;
  /** Sensor noise σ in 8-bit levels at frame resolution. */
  noise: [number, number];
  /** JPEG quality range; `jpegP` the probability of compression. */
  jpegQuality: [number, number];
  jpegP: number;
  /** The detector's box: log-normal zoom (σ of ln scale) and normal shifts (σ, fraction of the face side). */
  boxScaleSigma: number;
  boxShiftSigma: number;
}

/**
 * The `video` recipe's setting: the measurement's camera ranges (faces 24–200 px, gain 0.55–1.35,
 * gamma 0.7–1.5, blur σ 0.4–1.6 px with none in 30%, noise σ 0–8, JPEG quality 35–90) and box
 * noise that covers the detector's measured spread (ln-scale σ 0.12, shifts σ 6% of the side).
 */
export const DEFAULT_VIDEO_AUGMENT: VideoAugmentConfig = {
  p: 0.7, facePx: [24, 200], gain: [0.55, 1.35], gamma: [0.7, 1.5], sideLight: 0.3,
  blurPx: [0.4, 1.6], noBlurP: 0.3, noise: [0, 8], jpegQuality: [35, 90], jpegP: 0.8,
  boxScaleSigma: 0.12, boxShiftSigma: 0.06,
};

/** A standard normal draw (Box-Muller) from a uniform generator. */
export function gaussian(rand: () => number): number {
  const u = Math.max(1e-12, rand()), v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

const between = (r: [number, number], rand: () => number) => r[0] + rand() * (r[1] - r[0]);

/** The detector's box error for one face: a zoom factor (>1 zooms in) and shifts in pixels of the 48x48 face. */
export function drawBoxJitter(cfg: VideoAugmentConfig, rand: () => number): { zoom: number; dx: number; dy: number } {
  return {
    zoom: Math.exp(gaussian(rand) * cfg.boxScaleSigma),
    dx: gaussian(rand) * cfg.boxShiftSigma * INPUT_SIZE,
    dy: gaussian(rand) * cfg.boxShiftSigma * INPUT_SIZE,
  };
}

/** Area-average (down) or bilinear (up) resampling of a square gray image from side `from` to side `to`. */
export function resample(src: Float32Array, from: number, to: number): Float32Array {
  const out = new Float32Array(to * to);
  if (to < from) {
    const k = from / to;
    for (let y = 0; y < to; y++) {
      for (let x = 0; x < to; x++) {
        const x0 = x * k, x1 = x0 + k, y0 = y * k, y1 = y0 + k;
        let sum = 0, w = 0;
        for (let sy = Math.floor(y0); sy < Math.ceil(y1); sy++) {
          const wy = Math.min(y1, sy + 1) - Math.max(y0, sy);
          for (let sx = Math.floor(x0); sx < Math.ceil(x1); sx++) {
            const wx = Math.min(x1, sx + 1) - Math.max(x0, sx);
            sum += src[Math.min(from - 1, sy) * from + Math.min(from - 1, sx)] * wx * wy; w += wx * wy;
          }
        }
        out[y * to + x] = sum / w;
      }
    }
    return out;
  }
  const k = from / to;
  for (let y = 0; y < to; y++) {
    const sy = Math.min(from - 1, Math.max(0, (y + 0.5) * k - 0.5)), y0 = Math.floor(sy), y1 = Math.min(from - 1, y0 + 1), wy = sy - y0;
    for (let x = 0; x < to; x++) {
      const sx = Math.min(from - 1, Math.max(0, (x + 0.5) * k - 0.5)), x0 = Math.floor(sx), x1 = Math.min(from - 1, x0 + 1), wx = sx - x0;
      out[y * to + x] = (src[y0 * from + x0] * (1 - wx) + src[y0 * from + x1] * wx) * (1 - wy) + (src[y1 * from + x0] * (1 - wx) + src[y1 * from + x1] * wx) * wy;
    }
  }
  return out;
}

/** Separable Gaussian blur (σ in pixels) with edge replication, in place. */
export function gaussianBlur(img: Float32Array, side: number, sigma: number): void {
  if (!(sigma > 0.05)) return;
  const r = Math.ceil(sigma * 3);
  const kernel = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const norm = kernel.reduce((a, b) => a + b, 0);
  const tmp = new Float32Array(img.length);
  const clamp = (v: number) => Math.min(side - 1, Math.max(0, v));
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) {
    let s = 0;
    for (let i = -r; i <= r; i++) s += img[y * side + clamp(x + i)] * kernel[i + r];
    tmp[y * side + x] = s / norm;
  }
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) {
    let s = 0;
    for (let i = -r; i <= r; i++) s += tmp[clamp(y + i) * side + x] * kernel[i + r];
    img[y * side + x] = s / norm;
  }
}

/** JPEG's standard luminance quantisation table (ITU T.81, Annex K). */
const LUMA_Q = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
  14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
  49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const COS = Array.from({ length: 64 }, (_, i) => Math.cos(((2 * (i % 8) + 1) * Math.floor(i / 8) * Math.PI) / 16));
const alpha = (u: number) => (u === 0 ? Math.SQRT1_2 : 1);

/**
 * JPEG's lossy step on gray pixels (0..255), in place: each 8x8 block (edge blocks replicate
 * their last row/column) is DCT-transformed, quantised with the luminance table scaled to
 * `quality` (1..100, libjpeg's scaling) and transformed back.
 */
export function jpegLuma(img: Float32Array, side: number, quality: number): void {
  const q = Math.max(1, Math.min(100, Math.round(quality)));
  const scale = q < 50 ? 5000 / q : 200 - 2 * q;
  const table = LUMA_Q.map((v) => Math.max(1, Math.min(255, Math.floor((v * scale + 50) / 100))));
  const block = new Float64Array(64), coef = new Float64Array(64);
  for (let by = 0; by < side; by += 8) for (let bx = 0; bx < side; bx += 8) {
    for (let i = 0; i < 64; i++) {
      const y = Math.min(side - 1, by + (i >> 3)), x = Math.min(side - 1, bx + (i & 7));
      block[i] = img[y * side + x] - 128;
    }
    for (let v = 0; v < 8; v++) for (let u = 0; u < 8; u++) {
      let s = 0;
      for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) s += block[y * 8 + x] * COS[u * 8 + x] * COS[v * 8 + y];
      const c = (alpha(u) * alpha(v) * s) / 4;
      coef[v * 8 + u] = Math.round(c / table[v * 8 + u]) * table[v * 8 + u];
    }
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) {
      let s = 0;
      for (let v = 0; v < 8; v++) for (let u = 0; u < 8; u++) s += alpha(u) * alpha(v) * coef[v * 8 + u] * COS[u * 8 + x] * COS[v * 8 + y];
      const yy = by + y, xx = bx + x;
      if (yy < side && xx < side) img[yy * side + xx] = Math.min(255, Math.max(0, s / 4 + 128));
    }
  }
}

/**
 * Films one 48x48 gray face (0..255, not yet equalised) in place: lighting, then at the face's
 * own resolution (its frame size, up to 96 px) blur, noise and JPEG, then back to 48x48.
 */
export function filmFace(img: Float32Array, cfg: VideoAugmentConfig, rand: () => number): void {
  const n = INPUT_SIZE;
  const [lo, hi] = cfg.facePx;
  const facePx = Math.exp(Math.log(lo) + rand() * (Math.log(hi) - Math.log(lo)));
  const gain = between(cfg.gain, rand), gamma = between(cfg.gamma, rand);
  const light = (rand() * 2 - 1) * cfg.sideLight, angle = rand() * 2 * Math.PI;
  const lx = Math.cos(angle), ly = Math.sin(angle);
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) {
    const g = 1 + light * (((x - (n - 1) / 2) * lx + (y - (n - 1) / 2) * ly) / n);
    img[y * n + x] = 255 * Math.min(1, Math.pow(Math.min(1, (img[y * n + x] / 255) * gain * g), gamma));
  }
  // The resolution the face has in the frame (capped at 96 px: finer detail than that is lost at 48 anyway).
  const side = Math.max(8, Math.min(96, Math.round(facePx)));
  const k = side / facePx;
  const work = side === n ? img.slice() : resample(img, n, side);
  if (rand() >= cfg.noBlurP) gaussianBlur(work, side, between(cfg.blurPx, rand) * k);
  const sigma = between(cfg.noise, rand) * Math.min(1, k);
  if (sigma > 0) for (let i = 0; i < work.length; i++) work[i] = Math.min(255, Math.max(0, work[i] + gaussian(rand) * sigma));
  if (rand() < cfg.jpegP) jpegLuma(work, side, between(cfg.jpegQuality, rand));
  img.set(side === n ? work : resample(work, side, n));
}
