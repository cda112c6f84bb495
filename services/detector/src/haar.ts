/**
 * The paper's face detector: OpenCV's frontal-face Haar cascade, through opencv.js
 * (@techstark/opencv-js), on the equalised gray frame.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import fs from 'node:fs/promises';
import sharp from 'sharp';
import type { FaceBox } from '@emostream/contracts';
import { assertRgb, type FaceDetector } from './faceDetector.js';

const require = createRequire(import.meta.url);

/** Options of {@link createHaarDetector}. */
export interface HaarOptions {
  /** Cascade XML on disk. */
  cascadePath: string;
  /** Frames whose longer side exceeds this are downscaled first, px. */
  maxSidePx: number;
  /** detectMultiScale's pyramid step (the paper: 1.1). */
  scaleFactor: number;
  /** detectMultiScale's minNeighbors (the paper: 5). */
  minNeighbors: number;
  /** Smallest face searched, px of the downscaled frame (the paper: 30). */
  minSizePx: number;
}

/** The few opencv.js calls used here (its own typings describe the whole library). */
interface Mat { data: Uint8Array; delete(): void }
interface Rect { x: number; y: number; width: number; height: number }
interface RectVector { size(): number; get(i: number): Rect; delete(): void }
interface Size { width: number; height: number }
interface CascadeClassifier {
  load(file: string): boolean;
  empty(): boolean;
  detectMultiScale(img: Mat, out: RectVector, scaleFactor: number, minNeighbors: number, flags: number, minSize: Size, maxSize: Size): void;
  delete(): void;
}
interface Cv {
  Mat: new (rows?: number, cols?: number, type?: number) => Mat;
  RectVector: new () => RectVector;
  Size: new (w: number, h: number) => Size;
  CascadeClassifier: new () => CascadeClassifier;
  CV_8UC1: number;
  CV_8UC3: number;
  COLOR_RGB2GRAY: number;
  cvtColor(src: Mat, dst: Mat, code: number): void;
  equalizeHist(src: Mat, dst: Mat): void;
  FS_createDataFile(parent: string, name: string, data: Uint8Array, canRead: boolean, canWrite: boolean, canOwn: boolean): void;
  FS: { analyzePath(p: string): { exists: boolean } };
  onRuntimeInitialized?: () => void;
}

let cvReady: Promise<{ cv: Cv }> | undefined;

/**
 * opencv.js, initialised. The module object is a thenable whose `then` never settles, so it
 * must never be awaited or returned from an async function: wait for `onRuntimeInitialized` and
 * pass it on wrapped. One wasm instance per process, shared by every Haar detector (hence the
 * module-level promise).
 */
export function loadOpenCv(): Promise<{ cv: Cv }> {
  cvReady ??= new Promise<{ cv: Cv }>((resolve, reject) => {
    const cv = require('@techstark/opencv-js') as Cv;
    if (typeof (cv as unknown as { Mat?: unknown }).Mat === 'function' && (cv as unknown as { CascadeClassifier?: unknown }).CascadeClassifier) {
      resolve({ cv });
      return;
    }
    const timer = setTimeout(() => reject(new Error('opencv.js did not initialise within 30 s')), 30_000);
    timer.unref();
    cv.onRuntimeInitialized = () => { clearTimeout(timer); resolve({ cv }); };
  });
  return cvReady;
}

/** opencv.js throws bare numbers (wasm exception pointers), e.g. when its heap is full. */
function asError(err: unknown, what: string): Error {
  if (err instanceof Error) return err;
  return new Error(`opencv.js ${what} failed with exception ${String(err)} (wasm heap full or bad input)`);
}

/** Loads the cascade and returns a detector running `detectMultiScale` on each frame. */
export async function createHaarDetector(opts: HaarOptions): Promise<FaceDetector> {
  let xml: Buffer;
  try {
    xml = await fs.readFile(opts.cascadePath);
  } catch (err) {
    throw new Error(`cannot read the Haar cascade ${opts.cascadePath} (${(err as Error).message}); install Debian's opencv-data (apt-get install -y opencv-data) or set haarCascadePath`);
  }
  const { cv } = await loadOpenCv();
  // opencv.js reads files only from its in-memory FS; name the copy by content so several
  // detectors (or the same cascade twice) do not collide.
  const name = `cascade-${createHash('sha1').update(xml).digest('hex').slice(0, 16)}.xml`;
  if (!cv.FS.analyzePath(`/${name}`).exists) cv.FS_createDataFile('/', name, new Uint8Array(xml), true, false, false);
  const classifier = new cv.CascadeClassifier();
  if (!classifier.load(`/${name}`) || classifier.empty()) {
    classifier.delete();
    throw new Error(`${opts.cascadePath} is not a valid OpenCV cascade`);
  }
  let disposed = false;

  const detect = async (rgb: Uint8Array, width: number, height: number): Promise<FaceBox[]> => {
    if (disposed) throw new Error('Haar detector used after dispose()');
    assertRgb(rgb, width, height);
    // The cascade costs ~260 ms on a 720p frame on one core; faces of interest are far above
    // its 30 px minimum, so search a downscaled frame and map the boxes back.
    const k = Math.min(1, opts.maxSidePx / Math.max(width, height));
    const w = Math.max(1, Math.round(width * k));
    const h = Math.max(1, Math.round(height * k));
    const small = k < 1
      ? await sharp(rgb, { raw: { width, height, channels: 3 } }).resize(w, h, { fit: 'fill' }).raw().toBuffer()
      : rgb;
    const sx = width / w;
    const sy = height / h;
    let src: Mat | undefined;
    let gray: Mat | undefined;
    let eq: Mat | undefined;
    let found: RectVector | undefined;
    try {
      src = new cv.Mat(h, w, cv.CV_8UC3);
      src.data.set(small);
      gray = new cv.Mat();
      cv.cvtColor(src, gray, cv.COLOR_RGB2GRAY);
      eq = new cv.Mat();
      cv.equalizeHist(gray, eq);
      found = new cv.RectVector();
      classifier.detectMultiScale(eq, found, opts.scaleFactor, opts.minNeighbors, 0,
        new cv.Size(opts.minSizePx, opts.minSizePx), new cv.Size(0, 0));
      const faces: FaceBox[] = [];
      for (let i = 0; i < found.size(); i++) {
        const r = found.get(i);
        const x = r.x * sx;
        const y = r.y * sy;
        // The cascade gives no calibrated score: every face it keeps scores 1.
        faces.push({ box: { x, y, width: Math.min(r.width * sx, width - x), height: Math.min(r.height * sy, height - y) }, score: 1 });
      }
      // Largest first (the cascade's order is arbitrary), so maxFaces keeps the biggest.
      return faces.sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
    } catch (err) {
      throw asError(err, 'detectMultiScale');
    } finally {
      // The wasm heap never shrinks: a Mat not deleted here leaks for the life of the process.
      src?.delete();
      gray?.delete();
      eq?.delete();
      found?.delete();
    }
  };

  return {
    name: 'haar',
    detect,
    dispose() {
      if (disposed) return;
      disposed = true;
      classifier.delete();
    },
  };
}
