/**
 * Renders the frames of the through-the-pipeline measurement: a seeded textured background, the
 * FER-2013 faces upscaled (lanczos3), tinted to a skin tone, rotated and pasted with a soft edge,
 * then the camera: lighting (gain, gamma, a side-light gradient), lens blur, sensor noise and
 * JPEG compression, decoded back to RGB as the detector's frame decoder would.
 *
 * The pixel work is plain functions on raw RGB buffers (unit-tested); sharp does the resizing,
 * the blur and the JPEG round trip.
 */
import sharp from 'sharp';
import type { Rng, PlacedFace } from './geometry.js';
import { centreOf, rotatedExtent } from './geometry.js';

/** How one frame is "filmed". */
export interface FrameLook {
  /** Exposure gain and gamma (out = 255·gain·light·(in/255)^gamma). */
  gain: number;
  gamma: number;
  /** Side light: the light factor changes by gradX across the frame's width, gradY down its height. */
  gradX: number;
  gradY: number;
  /** Gaussian blur sigma, px (0: none; sharp needs at least 0.3). */
  blurSigma: number;
  /** Gaussian sensor noise, 8-bit levels. */
  noiseSigma: number;
  /** JPEG quality (sharp/mozjpeg scale, 1-100). */
  jpegQuality: number;
}

/** The ranges looks are drawn from. */
export const LOOK_RANGES = {
  gain: [0.55, 1.35], gamma: [0.7, 1.5], grad: 0.35, blurSigma: [0.4, 1.6], noBlurShare: 0.3, noiseSigma: [0, 8], jpegQuality: [35, 90],
} as const;

const logUniform = (rng: Rng, a: number, b: number) => Math.exp(Math.log(a) + rng() * (Math.log(b) - Math.log(a)));
const uniform = (rng: Rng, a: number, b: number) => a + rng() * (b - a);

/** A look drawn from {@link LOOK_RANGES}: gain and gamma log-uniform, blur off in 30% of frames. */
export function drawLook(rng: Rng): FrameLook {
  const r = LOOK_RANGES;
  const gain = logUniform(rng, r.gain[0], r.gain[1]);
  const gamma = logUniform(rng, r.gamma[0], r.gamma[1]);
  const gradX = uniform(rng, -r.grad, r.grad);
  const gradY = uniform(rng, -r.grad, r.grad);
  const blurSigma = rng() < r.noBlurShare ? 0 : uniform(rng, r.blurSigma[0], r.blurSigma[1]);
  const noiseSigma = uniform(rng, r.noiseSigma[0], r.noiseSigma[1]);
  const jpegQuality = Math.round(uniform(rng, r.jpegQuality[0], r.jpegQuality[1]));
  return { gain, gamma, gradX, gradY, blurSigma, noiseSigma, jpegQuality };
}

/**
 * A skin-like tint that keeps Rec. 709 luma: red up by 3-15%, blue down by 5-25%, green solved
 * so that 0.2126 r + 0.7152 g + 0.0722 b = 1 (the gray the classifier sees is about unchanged).
 */
export function drawTint(rng: Rng): [number, number, number] {
  const r = 1 + uniform(rng, 0.03, 0.15);
  const b = 1 - uniform(rng, 0.05, 0.25);
  const g = (1 - 0.2126 * r - 0.0722 * b) / 0.7152;
  return [r, g, b];
}

const clamp255 = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);

/**
 * A textured background (raw RGB, `w` x `h`): a smooth colour field (bilinear over a coarse grid
 * of random muted colours), 5-9 "objects" (flat, striped or checked rectangles, partly
 * transparent) and a fine value-noise grain; blurred afterwards by {@link renderBackground}.
 */
export function backgroundPixels(rng: Rng, w: number, h: number): Buffer {
  const buf = Buffer.alloc(w * h * 3);
  const gx = 8, gy = 5;
  const grid = Array.from({ length: (gx + 1) * (gy + 1) }, () => {
    const base = uniform(rng, 50, 190);
    return [0, 1, 2].map(() => clamp255(base + uniform(rng, -35, 35)));
  });
  for (let y = 0; y < h; y++) {
    const fy = (y / (h - 1)) * gy, y0 = Math.min(gy - 1, Math.floor(fy)), ay = fy - y0;
    for (let x = 0; x < w; x++) {
      const fx = (x / (w - 1)) * gx, x0 = Math.min(gx - 1, Math.floor(fx)), ax = fx - x0;
      const a = grid[y0 * (gx + 1) + x0], b = grid[y0 * (gx + 1) + x0 + 1];
      const c = grid[(y0 + 1) * (gx + 1) + x0], d = grid[(y0 + 1) * (gx + 1) + x0 + 1];
      const i = (y * w + x) * 3;
      for (let k = 0; k < 3; k++) {
        buf[i + k] = Math.round((a[k] * (1 - ax) + b[k] * ax) * (1 - ay) + (c[k] * (1 - ax) + d[k] * ax) * ay);
      }
    }
  }
  const objects = 5 + Math.floor(rng() * 5);
  for (let o = 0; o < objects; o++) {
    const bw = Math.round(w * uniform(rng, 0.06, 0.35)), bh = Math.round(h * uniform(rng, 0.08, 0.5));
    const bx = Math.floor(rng() * (w - bw)), by = Math.floor(rng() * (h - bh));
    const col = [0, 1, 2].map(() => uniform(rng, 20, 235));
    const col2 = col.map((v) => clamp255(v + uniform(rng, -90, 90)));
    const alpha = uniform(rng, 0.55, 0.95);
    const kind = rng();
    const period = 4 + Math.floor(rng() * 18);
    for (let y = by; y < by + bh; y++) {
      for (let x = bx; x < bx + bw; x++) {
        const alt = kind < 0.4 ? false : kind < 0.7 ? Math.floor((x - bx) / period) % 2 === 1 : (Math.floor((x - bx) / period) + Math.floor((y - by) / period)) % 2 === 1;
        const c = alt ? col2 : col;
        const i = (y * w + x) * 3;
        for (let k = 0; k < 3; k++) buf[i + k] = Math.round(buf[i + k] * (1 - alpha) + c[k] * alpha);
      }
    }
  }
  // Grain: value noise on a 6 px grid, ±10 levels, the same on the three channels.
  const cell = 6, nx = Math.ceil(w / cell) + 1, ny = Math.ceil(h / cell) + 1;
  const noise = Float32Array.from({ length: nx * ny }, () => uniform(rng, -10, 10));
  for (let y = 0; y < h; y++) {
    const fy = y / cell, y0 = Math.floor(fy), ay = fy - y0;
    for (let x = 0; x < w; x++) {
      const fx = x / cell, x0 = Math.floor(fx), ax = fx - x0;
      const n = (noise[y0 * nx + x0] * (1 - ax) + noise[y0 * nx + x0 + 1] * ax) * (1 - ay)
        + (noise[(y0 + 1) * nx + x0] * (1 - ax) + noise[(y0 + 1) * nx + x0 + 1] * ax) * ay;
      const i = (y * w + x) * 3;
      for (let k = 0; k < 3; k++) buf[i + k] = Math.round(clamp255(buf[i + k] + n));
    }
  }
  return buf;
}

/** {@link backgroundPixels} blurred (sigma 1-2.5 px, drawn): out of focus, "natural-ish". */
export async function renderBackground(rng: Rng, w: number, h: number): Promise<Buffer> {
  const raw = backgroundPixels(rng, w, h);
  const sigma = uniform(rng, 1, 2.5);
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } }).blur(sigma).raw().toBuffer();
}

/** A `w` x `h` window of a larger background at (x, y), copied. */
export function windowOf(bg: Buffer, bgWidth: number, x: number, y: number, w: number, h: number): Buffer {
  const out = Buffer.alloc(w * h * 3);
  for (let r = 0; r < h; r++) bg.copy(out, r * w * 3, ((y + r) * bgWidth + x) * 3, ((y + r) * bgWidth + x + w) * 3);
  return out;
}

/** A 48x48 gray face scaled to `side` x `side` gray (lanczos3, as the model's own resize). */
export async function facePatch(gray: Uint8Array, srcSide: number, side: number): Promise<Uint8Array> {
  const buf = await sharp(Buffer.from(gray.buffer, gray.byteOffset, gray.byteLength), { raw: { width: srcSide, height: srcSide, channels: 1 } })
    .resize(side, side, { kernel: 'lanczos3', fit: 'fill' }).extractChannel(0).raw().toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

const smoothstep = (t: number) => (t <= 0 ? 0 : t >= 1 ? 1 : t * t * (3 - 2 * t));

/**
 * Pastes a gray face patch (`p.side` x `p.side`) into an RGB frame in place: rotated by
 * `p.rollDeg` (clockwise on screen) about its centre, bilinear, each gray level multiplied by the
 * tint, blended with a soft edge: opacity rises from 0 at the patch border to 1 at `feather` of
 * the side inside it (smoothstep), so no hard square outline is left in the frame.
 */
export function pasteFace(frame: Uint8Array, w: number, h: number, patch: Uint8Array, p: PlacedFace, tint: readonly [number, number, number], feather: number): void {
  const s = p.side;
  if (patch.length !== s * s) throw new Error(`pasteFace: patch of ${patch.length} bytes for side ${s}`);
  const [cx, cy] = centreOf(p);
  const a = (p.rollDeg * Math.PI) / 180, cos = Math.cos(a), sin = Math.sin(a);
  const e = rotatedExtent(s, p.rollDeg) / 2 + 1;
  const half = s / 2, ramp = Math.max(1e-6, feather * s);
  const x0 = Math.max(0, Math.floor(cx - e)), x1 = Math.min(w - 1, Math.ceil(cx + e));
  const y0 = Math.max(0, Math.floor(cy - e)), y1 = Math.min(h - 1, Math.ceil(cy + e));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - cx, dy = y + 0.5 - cy;
      // The patch point shown here: the frame point rotated back by -roll.
      const u = cos * dx + sin * dy, v = -sin * dx + cos * dy;
      const edge = Math.min(u + half, half - u, v + half, half - v);
      if (edge <= 0) continue;
      const alpha = smoothstep(edge / ramp);
      const pu = Math.min(s - 1, Math.max(0, u + half - 0.5)), pv = Math.min(s - 1, Math.max(0, v + half - 0.5));
      const iu = Math.floor(pu), iv = Math.floor(pv), fu = pu - iu, fv = pv - iv;
      const iu1 = Math.min(s - 1, iu + 1), iv1 = Math.min(s - 1, iv + 1);
      const g = (patch[iv * s + iu] * (1 - fu) + patch[iv * s + iu1] * fu) * (1 - fv) + (patch[iv1 * s + iu] * (1 - fu) + patch[iv1 * s + iu1] * fu) * fv;
      const i = (y * w + x) * 3;
      for (let k = 0; k < 3; k++) frame[i + k] = Math.round(frame[i + k] * (1 - alpha) + clamp255(g * tint[k]) * alpha);
    }
  }
}

/**
 * Lighting in place: out = 255·gain·light(x, y)·(in/255)^gamma, light = 1 + gradX·(x/W − ½) +
 * gradY·(y/H − ½). `frame` is `w` x `h`; when it is a window of a larger W x H picture at
 * (`at.x`, `at.y`), the light is that of its place in the picture.
 */
export function applyLighting(
  frame: Uint8Array, w: number, h: number, look: Pick<FrameLook, 'gain' | 'gamma' | 'gradX' | 'gradY'>,
  at: { x: number; y: number; width: number; height: number } = { x: 0, y: 0, width: w, height: h },
): void {
  const lut = Float32Array.from({ length: 256 }, (_, v) => 255 * (v / 255) ** look.gamma);
  const col = Float32Array.from({ length: w }, (_, x) => look.gain * look.gradX * ((at.x + x) / at.width - 0.5));
  // A clamped view rounds and clamps on store.
  const out = new Uint8ClampedArray(frame.buffer, frame.byteOffset, frame.byteLength);
  for (let y = 0; y < h; y++) {
    const ly = look.gain * (1 + look.gradY * ((at.y + y) / at.height - 0.5));
    let i = y * w * 3;
    for (let x = 0; x < w; x++, i += 3) {
      const l = ly + col[x];
      out[i] = lut[frame[i]] * l;
      out[i + 1] = lut[frame[i + 1]] * l;
      out[i + 2] = lut[frame[i + 2]] * l;
    }
  }
}

/**
 * A frame of a static camera with one moving face, cheaply: `lit` is the background with the
 * lighting already applied, `raw` the same background before it. Only the face's footprint is
 * redone: the raw background there, the face pasted, the lighting of that place, copied into a
 * copy of `lit`. The same pixels as pasting into `raw` and lighting the whole frame.
 */
export function composeLitFrame(
  lit: Buffer, raw: Buffer, w: number, h: number, patch: Uint8Array, p: PlacedFace,
  tint: readonly [number, number, number], feather: number, look: Pick<FrameLook, 'gain' | 'gamma' | 'gradX' | 'gradY'>,
): Buffer {
  const out = Buffer.from(lit);
  const [cx, cy] = centreOf(p);
  const e = rotatedExtent(p.side, p.rollDeg) / 2 + 2;
  const x0 = Math.max(0, Math.floor(cx - e)), x1 = Math.min(w, Math.ceil(cx + e));
  const y0 = Math.max(0, Math.floor(cy - e)), y1 = Math.min(h, Math.ceil(cy + e));
  if (x1 <= x0 || y1 <= y0) return out;
  const rw = x1 - x0, rh = y1 - y0;
  const region = windowOf(raw, w, x0, y0, rw, rh);
  pasteFace(region, rw, rh, patch, { ...p, x: p.x - x0, y: p.y - y0 }, tint, feather);
  applyLighting(region, rw, rh, look, { x: x0, y: y0, width: w, height: h });
  for (let r = 0; r < rh; r++) region.copy(out, ((y0 + r) * w + x0) * 3, r * rw * 3, (r + 1) * rw * 3);
  return out;
}

/** 2^16 standard normal values (Box-Muller on the given generator), read by {@link addNoise}. */
export function normalTable(rng: Rng, size = 1 << 16): Float32Array {
  const t = new Float32Array(size);
  for (let i = 0; i < size; i += 2) {
    const u = Math.max(1e-12, rng()), v = rng();
    const r = Math.sqrt(-2 * Math.log(u));
    t[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < size) t[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return t;
}

/**
 * Gaussian noise in place, `sigma` levels, independent per channel: values from `table` at
 * indices drawn by an xorshift32 seeded with `seed` (fast, reproducible, no visible period).
 */
export function addNoise(frame: Uint8Array, sigma: number, table: Float32Array, seed: number): void {
  if (sigma <= 0) return;
  let s = (seed >>> 0) || 0x9e3779b9;
  const mask = table.length - 1;
  const out = new Uint8ClampedArray(frame.buffer, frame.byteOffset, frame.byteLength);
  for (let i = 0; i < frame.length; i++) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    out[i] = frame[i] + sigma * table[s & mask];
  }
}

/** The camera after the light: blur, then noise, then a JPEG round trip; the decoded RGB and the JPEG's size. */
export async function filmFrame(frame: Buffer, w: number, h: number, look: FrameLook, table: Float32Array, noiseSeed: number): Promise<{ rgb: Buffer; jpegBytes: number }> {
  const raw = { width: w, height: h, channels: 3 as const };
  let px = frame;
  if (look.blurSigma >= 0.3) px = await sharp(px, { raw }).blur(look.blurSigma).raw().toBuffer();
  addNoise(px, look.noiseSigma, table, noiseSeed);
  const jpeg = await sharp(px, { raw }).jpeg({ quality: look.jpegQuality }).toBuffer();
  const { data, info } = await sharp(jpeg).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.width !== w || info.height !== h || info.channels !== 3) throw new Error(`filmFrame: decoded ${info.width}x${info.height}x${info.channels}`);
  return { rgb: data, jpegBytes: jpeg.length };
}
