/**
 * BlazeFace run directly: the `blazeface.json` graph that @vladmandic/human ships, loaded from its
 * models folder with its batch dimension opened, so that several 256x256 inputs (a frame and its
 * tiles) go through the network in one call, and its output decoded exactly as Human 3.x decodes
 * it (anchors, sigmoid scores, non-max suppression, squared boxes, six keypoints). Human's own
 * `detect()` runs one image per call and adds work this pipeline never uses (a cropped face
 * tensor per box, result bookkeeping); blazeface.test.ts checks that the boxes, scores and eyes
 * here equal Human's on real frames.
 */
import path from 'node:path';
import type { Tensor, Tensor1D, Tensor2D, Tensor3D } from '@tensorflow/tfjs-node';
import { readGraphArtifacts, sessionModel, weightBytes, type GraphArtifacts, type Tf } from '@emostream/runtime';

type ModelArtifacts = import('@tensorflow/tfjs-core').io.ModelArtifacts;

/** One face as BlazeFace gives it, in the pixels of its square input. */
export interface RawFace {
  /** Left, top, width, height (Human's `box`: squared, rounded, clipped to the input). */
  box: [number, number, number, number];
  /** Score rounded to two decimals, as Human reports `boxScore`. */
  score: number;
  /** Keypoints [x, y]: left eye, right eye, nose, mouth, left ear, right ear (Human's order). */
  keypoints: Array<[number, number]>;
}

/** Decoding settings (Human's `face.detector` ones). */
export interface DecodeOptions {
  maxDetected: number;
  minConfidence: number;
  iouThreshold: number;
}

/** The loaded network and its anchors. */
export interface BlazeFaceModel {
  /** Side of the square input, px (256 for Human's blazeface.json). */
  readonly inputSize: number;
  /** Faces of each image; `pixels` holds n·size·size·3 RGB bytes, images one after another. */
  detect(pixels: Uint8Array, n: number, o: DecodeOptions): Promise<RawFace[][]>;
  dispose(): void;
}

/** Anchor centres in input pixels: Human's layout for a 256 px input (strides 16 and 32, 2 and 6 anchors a cell). */
export function anchorCentres(size: number): Array<[number, number]> {
  const layout = size === 192 ? { strides: [4], anchors: [1] } : { strides: [size / 16, size / 8], anchors: [2, 6] };
  const out: Array<[number, number]> = [];
  layout.strides.forEach((stride, i) => {
    const cells = Math.floor((size + stride - 1) / stride);
    for (let row = 0; row < cells; row++) {
      const y = stride * (row + 0.5);
      for (let col = 0; col < cells; col++) {
        const x = stride * (col + 0.5);
        for (let a = 0; a < layout.anchors[i]; a++) out.push([x, y]);
      }
    }
  });
  return out;
}

/**
 * Reads blazeface.json and its weights and opens the batch dimension: the input placeholder's
 * first dimension and the first element of the four Reshape shape constants (1 → −1).
 */
function batchableArtifacts(modelsDir: string): GraphArtifacts & { inputSize: number } {
  const file = path.join(modelsDir, 'blazeface.json');
  const { signature: _signature, ...artifacts } = readGraphArtifacts(file);
  const input = artifacts.modelTopology.node.find((n) => n.op === 'Placeholder');
  const dims = input?.attr?.shape?.shape?.dim;
  if (!dims?.length) throw new Error(`${file}: no input placeholder with a shape; is it BlazeFace from @vladmandic/human?`);
  dims[0].size = '-1';
  const data = artifacts.weightData;
  let offset = 0, opened = 0;
  for (const w of artifacts.weightSpecs) {
    const count = w.shape.reduce((a, b) => a * b, 1);
    if (w.dtype === 'int32' && !w.quantization && /\/shape$/.test(w.name) && count === 3) {
      const v = new Int32Array(data, offset, count);
      if (v[0] === 1) { v[0] = -1; opened++; }
    }
    offset += weightBytes(w);
  }
  if (offset !== data.byteLength) throw new Error(`${file}: its weights take ${offset} bytes, the files hold ${data.byteLength}`);
  if (opened === 0) throw new Error(`${file}: no batch-1 Reshape found; this BlazeFace graph is not the one this code knows`);
  return { inputSize: Number(dims[1]?.size ?? 256), ...artifacts };
}

/**
 * Loads BlazeFace from `modelsDir` (Human's models folder) on `tf`: as one TensorFlow session call
 * on tfjs-node (@emostream/runtime's sessionModel: 7.6 against 28.6 ms an image op by op on 2 cores,
 * the same outputs), else as a graph model.
 */
export async function loadBlazeFaceModel(tf: Tf, modelsDir: string): Promise<BlazeFaceModel> {
  const artifacts = batchableArtifacts(modelsDir);
  const inputSize = artifacts.inputSize;
  // The placeholder is opened to a batch of any size above.
  const session = await sessionModel(tf, artifacts);
  const model = session ? undefined : await tf.loadGraphModel(tf.io.fromMemory(artifacts as unknown as ModelArtifacts));
  const centres = anchorCentres(inputSize);
  const anchors = tf.tensor2d(centres);
  const sizeScalar = tf.scalar(inputSize, 'int32');
  const two = tf.scalar(2);

  /** The network's outputs as Human arranges them: [n, anchors, 17] (score logit, box, six keypoints). */
  const forward = (pixels: Uint8Array, n: number) => tf.tidy(() => {
    const x = tf.tensor4d(pixels, [n, inputSize, inputSize, 3], 'int32').toFloat().div(127.5).sub(1);
    const out = session ? session.execute(x) : model!.execute(x);
    if (!Array.isArray(out)) return out as Tensor3D;
    if (out.length <= 2) return out[0] as Tensor3D;
    const g = [...out].sort((a, b) => a.size - b.size);
    return tf.concat([tf.concat([g[1], g[3]], 2), tf.concat([g[0], g[2]], 2)], 1) as Tensor3D;
  });

  /** One image's candidates, decoded as Human's BlazeFace does (same tensor ops, so the same float32 values). */
  const decode = async (batch: Tensor2D, o: DecodeOptions): Promise<RawFace[]> => {
    const t = tf.tidy(() => {
      const centers = tf.add(tf.slice(batch, [0, 1], [-1, 2]), anchors);
      const half = tf.div(tf.div(tf.slice(batch, [0, 3], [-1, 2]), sizeScalar), two);
      const c = tf.div(centers, sizeScalar);
      const boxes = tf.concat2d([tf.mul(tf.sub(c, half), sizeScalar) as Tensor2D, tf.mul(tf.add(c, half), sizeScalar) as Tensor2D], 1);
      const scores = tf.squeeze(tf.sigmoid(tf.slice(batch, [0, 0], [-1, 1]))) as Tensor1D;
      return { boxes, scores };
    });
    try {
      const nms = await tf.image.nonMaxSuppressionAsync(t.boxes, t.scores, o.maxDetected, o.iouThreshold, o.minConfidence);
      const keep = Array.from(await nms.data());
      nms.dispose();
      if (keep.length === 0) return [];
      const [scores, boxes, rows] = await Promise.all([t.scores.data(), t.boxes.data(), batch.data()]);
      const width = batch.shape[1];
      const faces: RawFace[] = [];
      for (const i of keep) {
        const confidence = scores[i];
        if (!(confidence > o.minConfidence)) continue;
        const [ax, ay] = centres[i];
        const keypoints = Array.from({ length: 6 }, (_, k): [number, number] => [rows[i * width + 5 + 2 * k] + ax, rows[i * width + 6 + 2 * k] + ay]);
        // Human's enlargeBox(scale 1) then squarifyBox, then the box clipped to the input.
        const [x0, y0, x1, y1] = [boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3]];
        const cx0 = x0 + (x1 - x0) / 2, cy0 = y0 + (y1 - y0) / 2;
        const r = [(1 * Math.abs(x1 - x0)) / 2, (1 * Math.abs(y1 - y0)) / 2];
        const [sx, sy, ex, ey] = [cx0 - r[0], cy0 - r[1], cx0 + r[0], cy0 + r[1]];
        const cx = sx + (ex - sx) / 2, cy = sy + (ey - sy) / 2;
        const w = Math.abs(ex - sx), h = Math.abs(ey - sy);
        const side = Math.max(w, h) / 2;
        const start = [Math.round(cx - side), Math.round(cy - side)], end = [Math.round(cx + side), Math.round(cy + side)];
        if (!(Math.round(w) > 0 && Math.round(h) > 0)) continue;
        const score = Math.round(100 * confidence) / 100;
        if (!(score > (o.minConfidence || 1))) continue;
        const box: RawFace['box'] = [
          Math.trunc(Math.max(0, start[0])), Math.trunc(Math.max(0, start[1])),
          Math.trunc(Math.min(inputSize, end[0]) - Math.max(0, start[0])), Math.trunc(Math.min(inputSize, end[1]) - Math.max(0, start[1])),
        ];
        faces.push({ box, score, keypoints });
      }
      return faces;
    } finally {
      t.boxes.dispose();
      t.scores.dispose();
    }
  };

  return {
    inputSize,
    async detect(pixels, n, o) {
      if (pixels.length !== n * inputSize * inputSize * 3) throw new Error(`expected ${n} images of ${inputSize}x${inputSize}x3 bytes, got ${pixels.length} bytes`);
      if (n === 0) return [];
      const out = forward(pixels, n);
      const per = tf.unstack(out) as Tensor2D[];
      out.dispose();
      try {
        const faces: RawFace[][] = [];
        for (const b of per) faces.push(await decode(b, o));
        return faces;
      } finally {
        tf.dispose(per);
      }
    },
    dispose() {
      session?.dispose();
      model?.dispose();
      tf.dispose([anchors, sizeScalar, two]);
    },
  };
}
