/**
 * BlazeFace (MediaPipe's 256x256 "back camera" model shipped in @vladmandic/human's `models/`
 * folder), loaded from disk and run directly on the project's TensorFlow.js (blazefaceModel.ts).
 * {@link humanConfig} is the Human configuration that gives the same detections through Human
 * itself: the reference blazeface.test.ts compares against.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import type { FaceBox } from '@emostream/contracts';
import { loadTf, type TfRuntime } from '@emostream/runtime';
import type { Config as HumanConfig } from '@vladmandic/human';
import { loadBlazeFaceModel, type DecodeOptions, type RawFace } from './blazefaceModel.js';
import { assertRgb, type DetectorImage, type FaceDetector } from './faceDetector.js';

export type { FaceDetector } from './faceDetector.js';

const require = createRequire(import.meta.url);

/**
 * Most images (a frame and its tiles) in one call of the network. On 2 AMD EPYC cores a batch
 * took 11-12 ms an image at 4-8 against 23-27 ms alone; 27 at once (a 720p sweep) added about
 * 250 MB to the process's peak for little more speed.
 */
export const MAX_BATCH = 8;

/** Options of {@link createBlazeFaceDetector}. */
export interface BlazeFaceOptions {
  /** Least score a candidate is reported at (0..1). */
  candidateScore: number;
  /** Non-max suppression IoU (0..1). */
  iouThreshold: number;
  /** Most candidates kept by non-max suppression per frame. */
  maxCandidates?: number;
  /** Most images in one call of the network ({@link MAX_BATCH} by default). */
  maxBatch?: number;
  /** Folder holding `blazeface.json`; Human's own `models/` folder by default. */
  modelsDir?: string;
  /** The TensorFlow.js runtime; `loadTf()` by default. */
  tf?: TfRuntime;
}

/** Human's `models/` folder inside the installed package. */
export function humanModelsDir(): string {
  // The package's exports map hides package.json; its main file lives in dist/.
  return path.join(path.dirname(require.resolve('@vladmandic/human')), '..', 'models');
}

/**
 * The Human configuration for detection only. Tuned on shared/data/media (see the README's
 * figures): Human's defaults (`minConfidence` 0.2, `iouThreshold` 0.1, `maxDetected` 1, box
 * `scale` 1.4, frame caching) find one face per frame, reuse boxes across frames and, once
 * lowered to find more faces, report hands, ears and background patches. Here:
 * - every other model is off (mesh, iris, emotion, description, antispoof, liveness, attention,
 *   body, hand, object, gesture, segmentation): BlazeFace alone gives the box, a score and six
 *   keypoints, which Human returns as `annotations.leftEye/rightEye/...` when the mesh is off;
 * - `cacheSensitivity: 0`, `skipFrames: 0`, `skipTime: 0`: no box reuse between calls, because
 *   frames of different cameras interleave through one detector;
 * - `scale: 1`: the raw detector box (brow to chin, cheek to cheek), close to FER-2013's
 *   framing; the crop margin is ours (`marginFraction`);
 * - `rotation: false`, `return: false`: Human cuts no face tensors (we crop from the full frame);
 * - `filter.enabled: false`: no image filters, the input tensor is used as given.
 */
export function humanConfig(opts: BlazeFaceOptions, modelsDir: string): Partial<HumanConfig> {
  const off = { enabled: false };
  return {
    backend: 'tensorflow',
    modelBasePath: pathToFileURL(modelsDir).href + '/',
    debug: false,
    async: false,
    warmup: 'none',
    cacheSensitivity: 0,
    validateModels: false,
    filter: { enabled: false, equalization: false, flip: false, return: false },
    gesture: off,
    body: off,
    hand: off,
    object: off,
    segmentation: off,
    face: {
      enabled: true,
      detector: {
        enabled: true,
        modelPath: 'blazeface.json',
        rotation: false,
        maxDetected: opts.maxCandidates ?? 20,
        minConfidence: opts.candidateScore,
        iouThreshold: opts.iouThreshold,
        scale: 1,
        minSize: 0,
        skipFrames: 0,
        skipTime: 0,
        mask: false,
        return: false,
        square: false,
      },
      mesh: off,
      iris: off,
      attention: off,
      emotion: off,
      description: off,
      antispoof: off,
      liveness: off,
      gear: off,
    } as HumanConfig['face'],
  };
}

/** The letterbox that fits a frame into the model's square input without distorting faces. */
export interface Letterbox {
  /** Side of the square input, px. */
  size: number;
  /** Size of the frame once scaled into it, px. */
  width: number;
  height: number;
  /** Black bars on the left and top, px of the input. */
  left: number;
  top: number;
}

/**
 * Where a `frameWidth` x `frameHeight` frame goes inside a `size` square: scaled so its longer
 * side fills it, centred. Feeding BlazeFace the frame squashed to a square (Human's default for
 * a tensor) widens faces in 16:9 frames and shifts and inflates the boxes (couple.jpg: boxes
 * ~25% too large and off the face).
 */
export function letterbox(frameWidth: number, frameHeight: number, size: number): Letterbox {
  const k = size / Math.max(frameWidth, frameHeight);
  const width = Math.max(1, Math.round(frameWidth * k));
  const height = Math.max(1, Math.round(frameHeight * k));
  return { size, width, height, left: Math.floor((size - width) / 2), top: Math.floor((size - height) / 2) };
}

/**
 * Copies `resized` (RGB, `lb.width` x `lb.height`) into the `lb.size` square that starts at
 * `offset` of `square`, at (`lb.left`, `lb.top`); the rest of the square is left as it is (black
 * when freshly allocated).
 */
export function placeInSquare(resized: Uint8Array, lb: Letterbox, square: Uint8Array, offset = 0): void {
  if (resized.length !== lb.width * lb.height * 3) throw new Error(`expected ${lb.width}x${lb.height}x3 bytes, got ${resized.length}`);
  const row = lb.width * 3;
  for (let y = 0; y < lb.height; y++) {
    square.set(resized.subarray(y * row, (y + 1) * row), offset + ((lb.top + y) * lb.size + lb.left) * 3);
  }
}

/** Maps a point of the letterboxed input back to frame pixels. */
export function fromLetterbox(lb: Letterbox, frameWidth: number, frameHeight: number, x: number, y: number): [number, number] {
  return [((x - lb.left) * frameWidth) / lb.width, ((y - lb.top) * frameHeight) / lb.height];
}

/**
 * Loads BlazeFace from disk and returns a detector. The network runs directly on `loadTf()`'s
 * TensorFlow.js (blazefaceModel.ts: Human's graph and decoding, without Human's per-call
 * overhead). It batches: {@link FaceDetector.detectMany} sends a frame and its tiles through it
 * together, and the images of calls made while it is busy (other cameras' frames) go through it
 * together next, in batches of up to `maxBatch`.
 */
export async function createBlazeFaceDetector(opts: BlazeFaceOptions): Promise<FaceDetector> {
  const runtime = opts.tf ?? await loadTf();
  const modelsDir = opts.modelsDir ?? humanModelsDir();
  if (!fs.existsSync(path.join(modelsDir, 'blazeface.json'))) {
    throw new Error(`BlazeFace's model is not in ${modelsDir} (blazeface.json); reinstall @vladmandic/human (npm ci) or pass the folder that holds it`);
  }
  const model = await loadBlazeFaceModel(runtime.tf, modelsDir);
  const size = model.inputSize;
  const maxBatch = Math.max(1, Math.floor(opts.maxBatch ?? MAX_BATCH));
  const decode: DecodeOptions = { maxDetected: opts.maxCandidates ?? 20, minConfidence: opts.candidateScore, iouThreshold: opts.iouThreshold };

  let disposed = false;
  // Requests that came while the network was busy: they go through it together next.
  let waiting: Request[] = [];
  let draining = false;
  let running: Promise<void> = Promise.resolve();

  const run = async (images: ReadonlyArray<DetectorImage>): Promise<FaceBox[][]> => {
    const boxes = images.map((im) => letterbox(im.width, im.height, size));
    // Each image resized by sharp (lanczos3) and placed in its slot of the batch, black around it.
    const pixels = Buffer.alloc(images.length * size * size * 3);
    await Promise.all(images.map(async (im, i) => {
      const lb = boxes[i];
      // sharp's lanczos3 downscale instead of a bilinear resize of a 720p or 12 MP frame,
      // which aliases badly at factors of 5-9. The black border is drawn here, not by sharp
      // (its extend cost about 1 ms more an image).
      const resized = await sharp(im.rgb, { raw: { width: im.width, height: im.height, channels: 3 } })
        .resize(lb.width, lb.height, { fit: 'fill' })
        .raw()
        .toBuffer();
      placeInSquare(resized, lb, pixels, i * size * size * 3);
    }));
    const out: FaceBox[][] = [];
    for (let i = 0; i < images.length; i += maxBatch) {
      const n = Math.min(maxBatch, images.length - i);
      const part = pixels.subarray(i * size * size * 3, (i + n) * size * size * 3);
      const raw = await model.detect(part, n, decode);
      raw.forEach((found, j) => out.push(toFrameFaces(found, boxes[i + j], images[i + j].width, images[i + j].height)));
    }
    return out;
  };

  /**
   * Runs every waiting request in one go, until none waits; should a batch fail, each of its
   * requests alone (one bad request fails only itself). `draining` is cleared in the same turn
   * as the last look at `waiting`, so a request that comes after it starts a new drain.
   */
  const drain = async (): Promise<void> => {
    draining = true;
    while (waiting.length > 0) {
      const batch = waiting;
      waiting = [];
      try {
        const all = await run(batch.flatMap((r) => r.images));
        let k = 0;
        for (const r of batch) { r.resolve(all.slice(k, k + r.images.length)); k += r.images.length; }
      } catch (e) {
        if (batch.length === 1) batch[0].reject(e);
        else for (const r of batch) await run(r.images).then(r.resolve, r.reject);
      }
    }
    draining = false;
  };

  const submit = (images: ReadonlyArray<DetectorImage>): Promise<FaceBox[][]> => {
    if (disposed) return Promise.reject(new Error('BlazeFace detector used after dispose()'));
    for (const im of images) assertRgb(im.rgb, im.width, im.height);
    if (images.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      waiting.push({ images, resolve, reject });
      if (!draining) running = drain();
    });
  };

  return {
    name: 'blazeface',
    async detect(rgb, width, height) {
      return (await submit([{ rgb, width, height }]))[0];
    },
    detectMany(images) {
      return submit(images);
    },
    async dispose() {
      disposed = true;
      await running;
      model.dispose();
    },
  };
}

/** A caller's images waiting for the network. */
interface Request {
  images: ReadonlyArray<DetectorImage>;
  resolve: (faces: FaceBox[][]) => void;
  reject: (e: unknown) => void;
}

/** BlazeFace's faces of one letterboxed input mapped back to the frame, strongest first. */
function toFrameFaces(found: readonly RawFace[], lb: Letterbox, width: number, height: number): FaceBox[] {
  const faces: FaceBox[] = [];
  for (const f of found) {
    const [bx, by, bw, bh] = f.box;
    const [x0, y0] = fromLetterbox(lb, width, height, bx, by);
    const [x1, y1] = fromLetterbox(lb, width, height, bx + bw, by + bh);
    const box = clampBox(x0, y0, x1, y1, width, height);
    if (!box) continue;
    const face: FaceBox = { box, score: Math.max(0, Math.min(1, f.score)) };
    const a = fromLetterbox(lb, width, height, f.keypoints[0][0], f.keypoints[0][1]);
    const b = fromLetterbox(lb, width, height, f.keypoints[1][0], f.keypoints[1][1]);
    // In BlazeFace's own order (the eye on the image's left when the face is upright first), not
    // sorted by x: the line from one to the other then tells which way is up, so a face turned
    // past 90° (a person lying down) is not taken for one turned the other way.
    face.eyes = { left: a, right: b };
    faces.push(face);
  }
  return faces.sort((a, b) => b.score - a.score);
}

/** A box from two corners, clipped to the frame; undefined when nothing is left. */
function clampBox(x0: number, y0: number, x1: number, y1: number, width: number, height: number): FaceBox['box'] | undefined {
  const left = Math.max(0, x0);
  const top = Math.max(0, y0);
  const right = Math.min(width, x1);
  const bottom = Math.min(height, y1);
  if (right - left <= 0 || bottom - top <= 0) return undefined;
  return { x: left, y: top, width: right - left, height: bottom - top };
}
