/**
 * Renders a generated scene to an H.264 file: a procedural background (a new one from each hard
 * cut on, seen through the moving camera when the scene has one), the face images upscaled
 * (lanczos) and pasted in drawing order with a soft edge. Also reads the CK+ catalogue the
 * generator draws its faces from (read in place, never copied).
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { normaliseLabel } from '@emostream/contracts';
import { rawEncoder } from '../lib/ffmpeg.js';
import { prng, type FaceAsset, type Scene } from './generate.js';
import { backgroundSeedAt, frameCount, frameTimeMs, groundTruthAt, viewAt } from './groundTruth.js';

/**
 * The CK+48 catalogue (`ckplus48/index.csv`: path,label,subject,sequence,frame): labels mapped to
 * the seven emotions, contempt skipped (it is none of them).
 */
export function loadCkPlusCatalogue(dataDir: string): FaceAsset[] {
  const dir = path.join(dataDir, 'ckplus48');
  const lines = fs.readFileSync(path.join(dir, 'index.csv'), 'utf8').trim().split('\n').slice(1);
  const out: FaceAsset[] = [];
  for (const line of lines) {
    const [rel, label, subject] = line.split(',');
    const emotion = normaliseLabel(label);
    if (!emotion) continue;
    out.push({ subject, emotion, path: path.join(dir, rel) });
  }
  return out;
}

/**
 * The static background of a scene (of one shot: `seed`, the first shot's by default): a
 * vertical gradient and a few muted "furniture" blocks.
 */
export function renderBackground(scene: Scene, seed = scene.backgroundSeed): Buffer {
  const { width: w, height: h } = scene;
  const rnd = prng(seed);
  const top = [40 + rnd() * 120, 40 + rnd() * 120, 40 + rnd() * 120];
  const bottom = [40 + rnd() * 120, 40 + rnd() * 120, 40 + rnd() * 120];
  const buf = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    const u = y / (h - 1);
    const c = top.map((t, k) => Math.round(t + u * (bottom[k] - t)));
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      buf[i] = c[0]; buf[i + 1] = c[1]; buf[i + 2] = c[2];
    }
  }
  for (let r = 0; r < 6; r++) {
    const bw = Math.round(w * (0.1 + rnd() * 0.3));
    const bh = Math.round(h * (0.1 + rnd() * 0.4));
    const bx = Math.round(rnd() * (w - bw));
    const by = Math.round(rnd() * (h - bh));
    const col = [30 + rnd() * 180, 30 + rnd() * 180, 30 + rnd() * 180].map(Math.round);
    for (let y = by; y < by + bh; y++) {
      for (let x = bx; x < bx + bw; x++) {
        const i = (y * w + x) * 3;
        buf[i] = (buf[i] + col[0]) >> 1; buf[i + 1] = (buf[i + 1] + col[1]) >> 1; buf[i + 2] = (buf[i + 2] + col[2]) >> 1;
      }
    }
  }
  return buf;
}

/** A face image upscaled to `size` x `size` gray bytes. */
async function loadFace(file: string, size: number): Promise<Buffer> {
  return sharp(file).greyscale().resize(size, size, { kernel: 'lanczos3', fit: 'fill' }).raw().toBuffer();
}

/**
 * Pastes a gray square at (x0, y0), clipped to the frame. The outer `feather` pixels blend into
 * the background, so the face has no hard square edge for the detector to latch on.
 */
function paste(frame: Buffer, w: number, h: number, face: Buffer, size: number, x0: number, y0: number): void {
  const feather = Math.max(2, Math.round(size * 0.06));
  for (let y = Math.max(0, y0); y < Math.min(h, y0 + size); y++) {
    const fy = y - y0;
    const ey = Math.min(fy, size - 1 - fy);
    for (let x = Math.max(0, x0); x < Math.min(w, x0 + size); x++) {
      const fx = x - x0;
      const a = Math.min(1, Math.min(ey, fx, size - 1 - fx) / feather);
      const v = face[fy * size + fx];
      const i = (y * w + x) * 3;
      frame[i] = Math.round(frame[i] * (1 - a) + v * a);
      frame[i + 1] = Math.round(frame[i + 1] * (1 - a) + v * a);
      frame[i + 2] = Math.round(frame[i + 2] * (1 - a) + v * a);
    }
  }
}

/** Renders frame `i` of a scene (RGB, width*height*3). `faces` caches the upscaled images. */
export async function renderFrame(scene: Scene, i: number, background: Buffer, faces: Map<string, Buffer>): Promise<Buffer> {
  const frame = Buffer.from(background);
  for (const gt of groundTruthAt(scene, frameTimeMs(scene, i))) {
    const key = `${gt.image}@${gt.box.width}`;
    let img = faces.get(key);
    if (!img) { img = await loadFace(gt.image, gt.box.width); faces.set(key, img); }
    paste(frame, scene.width, scene.height, img, gt.box.width, gt.box.x, gt.box.y);
  }
  return frame;
}

/**
 * The background of frame `i`: the shot's (after the last cut before it), seen through the
 * scene's view (the world rectangle in view, resized to the frame) when the camera moves.
 * `worlds` caches each shot's world-sized background.
 */
export async function frameBackground(scene: Scene, i: number, worlds: Map<number, Buffer>): Promise<Buffer> {
  const t = frameTimeMs(scene, i);
  const seed = backgroundSeedAt(scene, t);
  let world = worlds.get(seed);
  if (!world) { world = renderBackground(scene, seed); worlds.set(seed, world); }
  if (!scene.view) return world;
  const { width: w, height: h } = scene;
  const v = viewAt(scene, t);
  const vw = Math.min(w, Math.round(w / v.zoom));
  const vh = Math.min(h, Math.round(h / v.zoom));
  const left = Math.min(w - vw, Math.max(0, Math.round(v.cx - vw / 2)));
  const top = Math.min(h - vh, Math.max(0, Math.round(v.cy - vh / 2)));
  return sharp(world, { raw: { width: w, height: h, channels: 3 } })
    .extract({ left, top, width: vw, height: vh }).resize(w, h, { kernel: 'linear', fit: 'fill' }).raw().toBuffer();
}

/** Renders the whole scene into `out` (H.264 mp4 at the scene's rate and size). */
export async function renderScene(scene: Scene, out: string): Promise<{ frames: number }> {
  const enc = rawEncoder(out, { width: scene.width, height: scene.height, fps: scene.fps });
  const worlds = new Map<number, Buffer>();
  const cache = new Map<string, Buffer>();
  const n = frameCount(scene);
  try {
    for (let i = 0; i < n; i++) await enc.write(await renderFrame(scene, i, await frameBackground(scene, i, worlds), cache));
  } finally {
    await enc.end();
  }
  return { frames: n };
}
