/**
 * BlazeFace (MediaPipe's 256x256 "back camera" model shipped in @vladmandic/human's `models/`
 * folder), run through Human with only the face detector enabled, loaded from disk.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import type { FaceBox } from '@emostream/contracts';
import { loadTf, type TfRuntime } from '@emostream/runtime';
import type { Config as HumanConfig, Human as HumanInstance, Result as HumanResult } from '@vladmandic/human';
import { assertRgb, type FaceDetector } from './faceDetector.js';

export type { FaceDetector } from './faceDetector.js';

const require = createRequire(import.meta.url);

/** Options of {@link createBlazeFaceDetector}. */
export interface BlazeFaceOptions {
  /** Least score a candidate is reported at (0..1). */
  candidateScore: number;
  /** Non-max suppression IoU (0..1). */
  iouThreshold: number;
  /** Most candidates kept by non-max suppression per frame. */
  maxCandidates?: number;
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

/** Maps a point of the letterboxed input back to frame pixels. */
export function fromLetterbox(lb: Letterbox, frameWidth: number, frameHeight: number, x: number, y: number): [number, number] {
  return [((x - lb.left) * frameWidth) / lb.width, ((y - lb.top) * frameHeight) / lb.height];
}

type HumanModule = { Human: new (config?: Partial<HumanConfig>) => HumanInstance };

/** Human's Node build for the runtime's provider, so that it shares `loadTf()`'s tfjs. */
function requireHuman(provider: string): HumanModule {
  if (provider === 'tfjs-node') return require('@vladmandic/human') as HumanModule;
  // The GPU build requires @tensorflow/tfjs-node-gpu, the package loadTf() loaded on GPU pods.
  if (provider === 'tfjs-node-gpu') return require('@vladmandic/human/dist/human.node-gpu') as HumanModule;
  throw new Error(
    `the BlazeFace detector needs tfjs-node (TensorFlow.js is running on ${provider}); ` +
    'build it with `bash scripts/install.sh`, or choose the haar detector (`--detector haar`)',
  );
}

/**
 * Loads BlazeFace from disk and returns a detector. Human is made to use the very tfjs that
 * `loadTf()` returned (same engine, so one tensor registry and memory count); a mismatch is an
 * error rather than two TensorFlow instances in one process.
 */
export async function createBlazeFaceDetector(opts: BlazeFaceOptions): Promise<FaceDetector> {
  const runtime = opts.tf ?? await loadTf();
  const { tf } = runtime;
  const { Human } = requireHuman(runtime.provider);
  const modelsDir = opts.modelsDir ?? humanModelsDir();
  const human = new Human(humanConfig(opts, modelsDir));
  if (human.tf.engine() !== tf.engine()) {
    throw new Error('@vladmandic/human loaded a different TensorFlow.js than loadTf(); check that one @tensorflow/tfjs-node is installed');
  }
  await human.load();
  const model = (human.models as unknown as { models: Record<string, { inputs?: { shape?: number[] }[] } | null> }).models.blazeface;
  if (!model) throw new Error(`BlazeFace did not load from ${path.join(modelsDir, 'blazeface.json')}`);
  // blazeface.json's input is 1x256x256x3; read it rather than assume it.
  const inputSize = model.inputs?.[0]?.shape?.[1] ?? 256;

  let queue: Promise<unknown> = Promise.resolve();
  let disposed = false;

  const run = async (rgb: Uint8Array, width: number, height: number): Promise<FaceBox[]> => {
    if (disposed) throw new Error('BlazeFace detector used after dispose()');
    assertRgb(rgb, width, height);
    const lb = letterbox(width, height, inputSize);
    // sharp's lanczos3 downscale instead of Human's bilinear resize of a 720p or 12 MP frame,
    // which aliases badly at factors of 5-9.
    const input = await sharp(rgb, { raw: { width, height, channels: 3 } })
      .resize(lb.width, lb.height, { fit: 'fill' })
      .extend({ left: lb.left, top: lb.top, right: lb.size - lb.width - lb.left, bottom: lb.size - lb.height - lb.top, background: { r: 0, g: 0, b: 0 } })
      .raw()
      .toBuffer();
    const tensor = tf.tensor4d(input, [1, lb.size, lb.size, 3], 'int32');
    let result: HumanResult;
    try {
      result = await human.detect(tensor);
    } finally {
      tf.dispose(tensor);
    }
    if (result.error) throw new Error(`BlazeFace failed: ${result.error}`);
    const faces: FaceBox[] = [];
    for (const f of result.face) {
      const [bx, by, bw, bh] = f.box;
      const [x0, y0] = fromLetterbox(lb, width, height, bx, by);
      const [x1, y1] = fromLetterbox(lb, width, height, bx + bw, by + bh);
      const box = clampBox(x0, y0, x1, y1, width, height);
      if (!box) continue;
      const face: FaceBox = { box, score: Math.max(0, Math.min(1, f.boxScore ?? f.score)) };
      const le = f.annotations?.leftEye?.[0];
      const re = f.annotations?.rightEye?.[0];
      if (le && re) {
        const a = fromLetterbox(lb, width, height, le[0], le[1]);
        const b = fromLetterbox(lb, width, height, re[0], re[1]);
        face.eyes = a[0] <= b[0] ? { left: a, right: b } : { left: b, right: a };
      }
      faces.push(face);
    }
    return faces.sort((a, b) => b.score - a.score);
  };

  return {
    name: 'blazeface',
    detect(rgb, width, height) {
      // One frame at a time: Human keeps per-call state and is not re-entrant.
      const p = queue.then(() => run(rgb, width, height));
      queue = p.catch(() => undefined);
      return p;
    },
    async dispose() {
      disposed = true;
      await queue;
      // Only forget the models: Human keeps BlazeFace's weights in module scope and hands the
      // same (~0.4 MB) GraphModel to every Human instance of the process, so disposing them
      // here would break a detector created later.
      human.models.reset();
    },
  };
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
