/** Training-time augmentation on 48x48 gray faces, in plain JS (labels never change). */
import { equalizeHist, INPUT_SIZE } from '@emostream/model';
import { mulberry32 } from '@emostream/runtime';
import { drawBoxJitter, filmFace, type VideoAugmentConfig } from './video.js';

/** A seeded pseudo-random generator (the project's mulberry32), so a run can be repeated. */
export const rng: (seed: number) => () => number = mulberry32;

/** What augmentation does to each training image. */
export interface AugmentConfig {
  /** Probability of a horizontal (mirror) flip. */
  flipH: number;
  /** Probability of a vertical flip (the paper lists it; upside-down faces are rare in video). */
  flipV: number;
  /** Rotation range, ± degrees. */
  rotateDeg: number;
  /** Zoom range, ± fraction (0.1 → 0.9..1.1). */
  scale: number;
  /** Shift range, ± pixels. */
  shiftPx: number;
  /** Side of a square cut out (set to mid-gray) with probability cutoutP; 0 for none. */
  cutoutPx: number;
  cutoutP: number;
  /**
   * Probability of random erasing (Zhong et al., AAAI 2020): a rectangle of 2–25% of the face,
   * aspect 1:3..3:1, set to a random gray. 0 or absent: off.
   */
  eraseP?: number;
}

/** No augmentation. */
export const NO_AUGMENT: AugmentConfig = { flipH: 0, flipV: 0, rotateDeg: 0, scale: 0, shiftPx: 0, cutoutPx: 0, cutoutP: 0 };

/**
 * Writes one augmented copy of `src` (48x48 bytes) into `dst` as floats in [0, 1], by a random
 * affine map (rotation, zoom, shift, flips) with bilinear sampling and edge replication.
 *
 * With `video`, `src` is the face before the model's equalisation: with probability `video.p` it
 * is also framed by a noisy detector box and filmed (video.ts), and then equalised as the model's
 * preprocessing does, so that filming comes before equalisation as it does in the pipeline.
 */
export function augmentInto(src: Uint8Array, dst: Float32Array, offset: number, cfg: AugmentConfig, rand: () => number, video?: VideoAugmentConfig): void {
  const n = INPUT_SIZE;
  const filmed = video !== undefined && rand() < video.p;
  const box = filmed ? drawBoxJitter(video, rand) : { zoom: 1, dx: 0, dy: 0 };
  const identity = cfg.rotateDeg === 0 && cfg.scale === 0 && cfg.shiftPx === 0 && !filmed;
  const fh = rand() < cfg.flipH, fv = rand() < cfg.flipV;
  const a = ((rand() * 2 - 1) * cfg.rotateDeg * Math.PI) / 180;
  const s = (1 + (rand() * 2 - 1) * cfg.scale) * box.zoom;
  // A box whose centre sits (dx, dy) off the face's shows the face shifted the other way.
  const tx = (rand() * 2 - 1) * cfg.shiftPx - box.dx, ty = (rand() * 2 - 1) * cfg.shiftPx - box.dy;
  const c = (n - 1) / 2;
  const cos = Math.cos(a) / s, sin = Math.sin(a) / s;
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      // Output pixel → source coordinates (inverse map), then flips.
      const ox = fh ? n - 1 - x : x, oy = fv ? n - 1 - y : y;
      let v: number;
      if (identity) v = src[oy * n + ox];
      else {
        const dx = ox - c - tx, dy = oy - c - ty;
        const sx = Math.min(n - 1, Math.max(0, cos * dx + sin * dy + c));
        const sy = Math.min(n - 1, Math.max(0, -sin * dx + cos * dy + c));
        const x0 = Math.floor(sx), y0 = Math.floor(sy);
        const x1 = Math.min(n - 1, x0 + 1), y1 = Math.min(n - 1, y0 + 1);
        const wx = sx - x0, wy = sy - y0;
        v = (src[y0 * n + x0] * (1 - wx) + src[y0 * n + x1] * wx) * (1 - wy) + (src[y1 * n + x0] * (1 - wx) + src[y1 * n + x1] * wx) * wy;
      }
      dst[offset + y * n + x] = v / 255;
    }
  }
  if (video) finishVideo(dst, offset, filmed ? video : undefined, rand);
  if (cfg.cutoutPx > 0 && rand() < cfg.cutoutP) {
    const cx = Math.floor(rand() * n), cy = Math.floor(rand() * n), h = Math.floor(cfg.cutoutPx / 2);
    for (let y = Math.max(0, cy - h); y < Math.min(n, cy + h); y++)
      for (let x = Math.max(0, cx - h); x < Math.min(n, cx + h); x++) dst[offset + y * n + x] = 0.5;
  }
  if ((cfg.eraseP ?? 0) > 0 && rand() < cfg.eraseP!) {
    const area = (0.02 + rand() * 0.23) * n * n, ratio = Math.exp((rand() * 2 - 1) * Math.log(3));
    const h = Math.min(n, Math.max(1, Math.sqrt(area * ratio))), w = Math.min(n, Math.max(1, Math.sqrt(area / ratio)));
    const y0 = rand() * (n - h), x0 = rand() * (n - w), fill = rand();
    // The rows and columns whose centres fall inside [y0, y0+h) × [x0, x0+w), as jobs/retrain/torch/train.py does.
    for (let y = Math.ceil(y0); y < y0 + h && y < n; y++)
      for (let x = Math.ceil(x0); x < x0 + w && x < n; x++) dst[offset + y * n + x] = fill;
  }
}

/** Scratch buffers of {@link finishVideo}, reused for every face (training calls it per image). */
const FACE = new Float32Array(INPUT_SIZE * INPUT_SIZE);
const BYTES = new Uint8Array(INPUT_SIZE * INPUT_SIZE);

/** Films (when `video` is given) and equalises the 48x48 face at `offset` of `dst`, in place. */
function finishVideo(dst: Float32Array, offset: number, video: VideoAugmentConfig | undefined, rand: () => number): void {
  const n = INPUT_SIZE * INPUT_SIZE;
  const face = FACE, bytes = BYTES;
  for (let i = 0; i < n; i++) face[i] = dst[offset + i] * 255;
  if (video) filmFace(face, video, rand);
  for (let i = 0; i < n; i++) bytes[i] = Math.round(face[i]);
  const eq = equalizeHist(bytes);
  for (let i = 0; i < n; i++) dst[offset + i] = eq[i] / 255;
}

/** A copy of a set of unequalised faces, equalised as the model's preprocessing does. */
export function equalisedCopy<T extends { images: Uint8Array }>(set: T): T {
  const images = new Uint8Array(set.images.length);
  for (let o = 0; o < images.length; o += INPUT_SIZE * INPUT_SIZE) images.set(equalizeHist(set.images.subarray(o, o + INPUT_SIZE * INPUT_SIZE)), o);
  return { ...set, images };
}

/**
 * A copy of a set of unequalised faces, each filmed once (video.ts, every face, no other
 * augmentation) and equalised: a fixed, seeded video version of a validation split.
 */
export function filmedCopy<T extends { images: Uint8Array }>(set: T, video: VideoAugmentConfig, seed: number): T {
  const px = INPUT_SIZE * INPUT_SIZE, rand = rng(seed * 7919 + 17);
  const images = new Uint8Array(set.images.length);
  const buf = new Float32Array(px);
  for (let o = 0; o < images.length; o += px) {
    augmentInto(set.images.subarray(o, o + px), buf, 0, NO_AUGMENT, rand, { ...video, p: 1 });
    for (let i = 0; i < px; i++) images[o + i] = Math.round(buf[i] * 255);
  }
  return { ...set, images };
}

/**
 * The index order of one epoch: every class smaller than `minClassShare` (0..1) of the largest
 * one is drawn up to that share (its images repeat, each time under a different augmentation),
 * the others once each. 1 is the paper's full class balancing by flips and rotations; 0.25 on
 * FER-2013 draws disgust's 436 images about 4 times and leaves every other class as it is; 0
 * draws each image once. Shuffled.
 */
export function epochOrder(labels: Int32Array, classes: number, minClassShare: number, rand: () => number): Int32Array {
  let order: number[];
  if (!(minClassShare > 0)) order = Array.from(labels.keys());
  else {
    const byClass: number[][] = Array.from({ length: classes }, () => []);
    labels.forEach((l, i) => byClass[l].push(i));
    const floor = Math.round(Math.min(1, minClassShare) * Math.max(...byClass.map((c) => c.length)));
    order = [];
    for (const c of byClass) {
      if (c.length === 0) continue;
      const target = Math.max(c.length, floor);
      for (let k = 0; k < target; k++) order.push(c[k % c.length]);
    }
  }
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return Int32Array.from(order);
}
