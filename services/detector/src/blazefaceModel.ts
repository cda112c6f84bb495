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
import type { Tensor } from '@tensorflow/tfjs-node';
import { readGraphArtifacts, sessionModel, weightBytes, type GraphArtifacts, type Tf } from '@emostream/runtime';
import { DECODED, decodingGraph, PIXELS_INPUT } from './blazefaceGraph.js';

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

/** BlazeFace's graph from `modelsDir`, batchable, with its input's scaling and its output's decoding in it (blazefaceGraph.ts). */
function decodingArtifacts(tf: Tf, modelsDir: string): { artifacts: GraphArtifacts; inputSize: number; centres: Array<[number, number]> } {
  const batchable = batchableArtifacts(modelsDir);
  const inputSize = batchable.inputSize;
  const centres = anchorCentres(inputSize);
  // Each byte's input value as Human's eager ops make it (x / 127.5 - 1), for the graph's table.
  const scaled = tf.tidy(() => tf.range(0, 256, 1, 'int32').toFloat().div(127.5).sub(1).dataSync() as Float32Array);
  return { artifacts: decodingGraph(batchable, inputSize, centres, scaled), inputSize, centres };
}

/**
 * Loads BlazeFace from `modelsDir` (Human's models folder) on `tf`, with its input's scaling and
 * its output's decoding in the graph (blazefaceGraph.ts): as one TensorFlow session call on
 * tfjs-node (@emostream/runtime's sessionModel: 7.6 against 28.6 ms an image op by op on 2 cores,
 * the same outputs), else as a graph model. Non-max suppression then runs on each image's decoded
 * boxes with tfjs's own implementation, the one Human's `nonMaxSuppressionAsync` runs.
 */
export async function loadBlazeFaceModel(tf: Tf, modelsDir: string): Promise<BlazeFaceModel> {
  const { artifacts, inputSize, centres } = decodingArtifacts(tf, modelsDir);
  // The placeholder is opened to a batch of any size above.
  const session = await sessionModel(tf, artifacts);
  const model = session ? undefined : await tf.loadGraphModel(tf.io.fromMemory(artifacts as unknown as ModelArtifacts));
  const names = [DECODED.boxes, DECODED.scores, DECODED.rows];
  const order = session ? names.map((n) => session.outputs.indexOf(n)) : [];
  if (order.some((i) => i < 0)) throw new Error(`BlazeFace session: outputs ${session!.outputs.join(', ')}, expected ${names.join(', ')}`);

  /** Each anchor's box [x0, y0, x1, y1], score and row (logit, box, keypoints), for n images. */
  const forward = (pixels: Uint8Array, n: number): Tensor[] => tf.tidy(() => {
    const x = tf.tensor4d(pixels, [n, inputSize, inputSize, 3], 'int32');
    if (session) {
      const out = session.execute(x);
      return order.map((i) => out[i]);
    }
    return model!.execute({ [PIXELS_INPUT]: x }, names) as Tensor[];
  });

  /** One image's faces from its anchors' decoded values, as Human's BlazeFace keeps them. */
  const facesOf = (boxes: Float32Array, scores: Float32Array, rows: Float32Array, width: number, o: DecodeOptions): RawFace[] => {
    const { selectedIndices: keep } = tf.kernel_impls.nonMaxSuppressionV3Impl(
      boxes, scores, Math.min(o.maxDetected, scores.length), o.iouThreshold, o.minConfidence);
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
  };

  return {
    inputSize,
    async detect(pixels, n, o) {
      if (pixels.length !== n * inputSize * inputSize * 3) throw new Error(`expected ${n} images of ${inputSize}x${inputSize}x3 bytes, got ${pixels.length} bytes`);
      if (n === 0) return [];
      const out = forward(pixels, n);
      try {
        const [boxes, scores, rows] = (await Promise.all(out.map((t) => t.data()))) as Float32Array[];
        const a = centres.length, width = rows.length / (n * a);
        return Array.from({ length: n }, (_, k) => facesOf(
          boxes.subarray(k * a * 4, (k + 1) * a * 4), scores.subarray(k * a, (k + 1) * a), rows.subarray(k * a * width, (k + 1) * a * width), width, o));
      } finally {
        tf.dispose(out);
      }
    },
    dispose() {
      session?.dispose();
      model?.dispose();
    },
  };
}
