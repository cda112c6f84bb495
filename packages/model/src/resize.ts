/**
 * The crop's gray conversion and resize in JavaScript, for raw pixels already in memory (a face
 * cut from a frame): the same operations sharp runs for `toModelCrop` (libvips's grayscale, a
 * lanczos3 resize), without a sharp call's fixed cost. On 2 cores a sharp call for a 200x200
 * face took about 0.7 ms on the main thread plus 2 ms of a libvips thread, for microseconds of
 * arithmetic; a video pipeline makes one such call per face and frame.
 */

/** sRGB byte → linear light (IEC 61966-2-1). */
const TO_LINEAR = Float64Array.from({ length: 256 }, (_, v) => {
  const c = v / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
});

/** Steps of the linear-light luminance table below. */
const LUMA_STEPS = 1 << 16;

/** Each channel's share of Rec. 709 luminance per sRGB byte, in 1/65536 steps of linear light. */
const share = (k: number) => Int32Array.from(TO_LINEAR, (v) => Math.round(k * v * LUMA_STEPS));
const RED = share(0.2126), GREEN = share(0.7152), BLUE = share(0.0722);

/** Linear-light luminance in 1/65536 steps → its sRGB byte. */
const TO_SRGB = Uint8Array.from({ length: LUMA_STEPS + 1 }, (_, i) => {
  const y = i / LUMA_STEPS;
  const c = y <= 0.0031308 ? y * 12.92 : 1.055 * y ** (1 / 2.4) - 0.055;
  return Math.max(0, Math.min(255, Math.round(c * 255)));
});

/** Writes the gray of `count` pixels of `src` from byte `from` (`channels` 3 or 4 a pixel) into `out` from `at`. */
function grayInto(src: Uint8Array, from: number, channels: 3 | 4, count: number, out: Uint8Array, at: number): void {
  for (let i = at, p = from, end = at + count; i < end; i++, p += channels) {
    const y = RED[src[p]] + GREEN[src[p + 1]] + BLUE[src[p + 2]];
    out[i] = TO_SRGB[y < LUMA_STEPS ? y : LUMA_STEPS];
  }
}

/**
 * RGB (or RGBA, `channels` 4, alpha dropped) bytes → 8-bit gray as libvips's black-and-white
 * conversion makes it, which sharp's `grayscale()` runs: Rec. 709 luminance of the linear-light
 * values, encoded back to sRGB (within one gray level of sharp's on every pixel). One channel is
 * returned as it is.
 */
export function toGray(pixels: Uint8Array, count: number, channels: 1 | 3 | 4): Uint8Array {
  if (pixels.length !== count * channels) throw new Error(`expected ${count}x${channels} bytes, got ${pixels.length}`);
  if (channels === 1) return pixels;
  const out = new Uint8Array(count);
  grayInto(pixels, 0, channels, count, out, 0);
  return out;
}

/**
 * The `w` x `h` region at (`left`, `top`) of an RGB picture `width` pixels wide, as 8-bit gray
 * ({@link toGray}'s conversion), without copying its colour pixels first.
 */
export function grayRegion(rgb: Uint8Array, width: number, left: number, top: number, w: number, h: number): Uint8Array {
  const height = rgb.length / (width * 3);
  if (!(left >= 0 && top >= 0 && w > 0 && h > 0 && left + w <= width && top + h <= height)) {
    throw new Error(`region ${w}x${h} at (${left}, ${top}) is not inside the ${width}x${height} picture`);
  }
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) grayInto(rgb, ((top + y) * width + left) * 3, 3, w, out, y * w);
  return out;
}

const lanczos3 = (x: number): number => {
  if (x === 0) return 1;
  if (x <= -3 || x >= 3) return 0;
  const px = Math.PI * x;
  return (3 * Math.sin(px) * Math.sin(px / 3)) / (px * px);
};

/** Catmull-Rom's cubic (a = -0.5): the "bicubic" interpolator libvips's resize enlarges with. */
const catmullRom = (x: number): number => {
  const t = Math.abs(x);
  if (t < 1) return 1.5 * t * t * t - 2.5 * t * t + 1;
  if (t < 2) return -0.5 * t * t * t + 2.5 * t * t - 4 * t + 2;
  return 0;
};

/** Each output pixel's `count` source pixels along one axis (edge pixels repeated) and their weights. */
interface Taps { count: number; index: Int32Array; weight: Float32Array }

/**
 * The taps of a resize of `from` pixels to `to` along one axis, weights normalised: shrinking,
 * lanczos3 stretched by the reduction factor (so that it also removes what the smaller image
 * cannot hold); enlarging, Catmull-Rom's cubic; each sampled where libvips samples.
 */
function taps(from: number, to: number): Taps {
  const scale = from / to;
  const stretch = Math.max(1, scale);
  const kernel = scale > 1 ? lanczos3 : catmullRom;
  const radius = (scale > 1 ? 3 : 2) * stretch;
  const count = Math.ceil(2 * radius) + 1;
  const index = new Int32Array(to * count);
  const weight = new Float32Array(to * count);
  const w = new Float64Array(count);
  for (let o = 0; o < to; o++) {
    // Shrinking, pixel centres aligned; enlarging, where libvips's enlargement samples (o · scale − 0.5).
    const centre = scale > 1 ? (o + 0.5) * scale - 0.5 : o * scale - 0.5;
    const first = Math.floor(centre - radius) + 1;
    let sum = 0;
    for (let k = 0; k < count; k++) {
      w[k] = kernel((first + k - centre) / stretch);
      sum += w[k];
    }
    for (let k = 0; k < count; k++) {
      index[o * count + k] = Math.min(from - 1, Math.max(0, first + k));
      weight[o * count + k] = w[k] / sum;
    }
  }
  return { count, index, weight };
}

/** The taps of each (from, to) pair seen: a pipeline resizes faces of a few hundred sizes to one. */
const tapCache = new Map<number, Taps>();
function cachedTaps(from: number, to: number): Taps {
  const key = from * 65536 + to;
  let t = tapCache.get(key);
  if (!t) {
    if (tapCache.size >= 2048) tapCache.clear();
    t = taps(from, to);
    tapCache.set(key, t);
  }
  return t;
}

/** Averages of `k` x `k` blocks (the last row and column of blocks average what is left), rounded to bytes. */
export function shrinkBlocks(src: Uint8Array, width: number, height: number, k: number): { data: Uint8Array; width: number; height: number } {
  const ow = Math.ceil(width / k), oh = Math.ceil(height / k);
  const out = new Uint8Array(ow * oh);
  const sums = new Uint32Array(ow);
  for (let o = 0; o < oh; o++) {
    const y0 = o * k, y1 = Math.min(height, y0 + k);
    sums.fill(0);
    for (let y = y0; y < y1; y++) {
      const line = y * width;
      for (let c = 0, x = 0; c < ow; c++) {
        let sum = 0;
        for (const end = Math.min(width, x + k); x < end; x++) sum += src[line + x];
        sums[c] += sum;
      }
    }
    const rows = y1 - y0;
    for (let c = 0; c < ow; c++) {
      const n = rows * (Math.min(width, c * k + k) - c * k);
      out[o * ow + c] = ((sums[c] + (n >> 1)) / n) | 0;
    }
  }
  return { data: out, width: ow, height: oh };
}

/**
 * Resizes 8-bit gray pixels `width` x `height` to `toWidth` x `toHeight`: lanczos3 (stretched)
 * to shrink, Catmull-Rom to enlarge, columns then rows, rounded once at the end: within a gray level of sharp's
 * `resize(…, { kernel: 'lanczos3' })` on most pixels (resize.test.ts). A reduction by 8 or more
 * first averages blocks of floor(factor / 4) pixels, so that a face of 400 px or more costs
 * about what one of 200 does. The same size returns a copy of the input.
 */
export function resizeGray(gray: Uint8Array, width: number, height: number, toWidth: number, toHeight: number): Uint8Array {
  if (gray.length !== width * height) throw new Error(`expected ${width}x${height} gray bytes, got ${gray.length}`);
  if (width === toWidth && height === toHeight) return Uint8Array.from(gray);
  const k = Math.floor(Math.min(width / toWidth, height / toHeight) / 4);
  const img = k >= 2 ? shrinkBlocks(gray, width, height, k) : { data: gray, width, height };
  const src = img.data, sw = img.width, sh = img.height;
  // Columns first: each output row a weighted sum of whole source rows (contiguous), then each
  // of those rows filtered along x.
  const { count: vc, index: vi, weight: vw } = cachedTaps(sh, toHeight);
  const cols = new Float32Array(toHeight * sw);
  for (let o = 0, t = 0; o < toHeight; o++) {
    const row = o * sw;
    for (const end = t + vc; t < end; t++) {
      const w = vw[t], line = vi[t] * sw;
      for (let x = 0; x < sw; x++) cols[row + x] += w * src[line + x];
    }
  }
  const { count: hc, index: hi, weight: hw } = cachedTaps(sw, toWidth);
  const out = new Uint8Array(toWidth * toHeight);
  for (let y = 0, q = 0; y < toHeight; y++) {
    const line = y * sw;
    for (let o = 0, t = 0; o < toWidth; o++, q++) {
      let a = 0;
      for (const end = t + hc; t < end; t++) a += hw[t] * cols[line + hi[t]];
      out[q] = a <= 0 ? 0 : a >= 255 ? 255 : (a + 0.5) | 0;
    }
  }
  return out;
}
