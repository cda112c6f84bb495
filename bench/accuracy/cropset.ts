/**
 * Training faces as the pipeline crops them (issue "Emotions right on real video": training and
 * inference should see the same crops). FER-2013 Training faces are rendered into 1280x720 frames
 * exactly as the through-the-pipeline measurement renders its test faces ({@link renderStillFrame}:
 * faces 40-200 px, roll, tint, soft edge, textured background, lighting, blur, noise, JPEG), each
 * frame goes through BlazeFace and the detector stage's own operator (`detectFaces`, the shipped
 * crop geometry), and each detected face's crop, the very 48x48 the classifier would receive, is
 * written as a PNG to `<out>/<emotion>/<Training_…>.png`: a `<label>/<image>` folder that
 * `emostream train --pipeline-crops <out>` mixes into training. Faces the detector misses are not
 * written. Training crops are training data; PublicTest crops choose between models (`npm run crops
 * -- --score`), as PublicTest chooses everything here. PrivateTest is never cropped.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { firstValueFrom, from, toArray } from 'rxjs';
import { EMOTIONS, type Frame } from '@emostream/contracts';
import { silentLogger } from '@emostream/runtime';
import { INPUT_SIZE } from '@emostream/model';
import { detectFaces, parseDetectorConfig, type FaceDetector } from '@emostream/detector';
import type { FerFace } from './faces.js';
import { patchBox, sizeBucket, SIZE_BUCKETS, type PlacedFace } from './geometry.js';
import { matchBoxes } from './match.js';
import { DEFAULT_RENDER, ownScene, renderStillFrame, stage, type RenderOptions } from './measure.js';

/** Options of {@link writePipelineCrops}. */
export interface CropSetOptions {
  /** FER-2013 faces of `split` (file names `Training_*` or `PublicTest_*`); anything else is refused. */
  faces: readonly FerFace[];
  /** Training (default; to train on) or PublicTest (to choose models on: `npm run crops -- --score`). */
  split?: CropSplit;
  out: string;
  seed: number;
  facesPerFrame: number;
  render?: RenderOptions;
  /** Frames rendered and detected per batch. */
  chunkFrames?: number;
  log: (m: string) => void;
}

/** What {@link writePipelineCrops} wrote. */
export interface CropSetResult {
  faces: number;
  frames: number;
  written: number;
  /** Detected share by placed face height, px bucket. */
  detectedBySize: Record<string, { faces: number; detected: number }>;
  falseDetections: number;
}

/** The splits crops are made of: Training (to train on) and PublicTest (to choose on); never PrivateTest. */
export type CropSplit = 'Training' | 'PublicTest';

/**
 * Refuses any face that is not from `split` (Training or PublicTest). PrivateTest is scored once
 * per shipped model through the bench itself and is never cropped here.
 */
export function assertSplitOnly(faces: readonly FerFace[], split: CropSplit = 'Training'): void {
  if ((split as string) !== 'Training' && (split as string) !== 'PublicTest') throw new Error(`pipeline crops are made of FER-2013 Training (to train on) or PublicTest (to choose on), not ${split}`);
  const bad = faces.find((f) => !path.basename(f.file).startsWith(`${split}_`));
  if (bad) throw new Error(`${bad.file} is not a FER-2013 ${split} image: these pipeline crops are made from the ${split} split only`);
}

/** Writes the pipeline's crops of `o.faces` under `o.out`; see the module comment. */
export async function writePipelineCrops(detector: FaceDetector, o: CropSetOptions): Promise<CropSetResult> {
  assertSplitOnly(o.faces, o.split ?? 'Training');
  const ro = o.render ?? DEFAULT_RENDER;
  const chunk = o.chunkFrames ?? 24;
  const st = await stage(o.seed, ro);
  // Each still frame is a new scene, a camera of its own (searched whole, every tile: ownScene):
  // no cut detection or embeddings (they change no box or crop).
  const config = parseDetectorConfig({ sceneCuts: false, embeddings: false });
  for (const e of EMOTIONS) fs.mkdirSync(path.join(o.out, e), { recursive: true });
  const bySize: CropSetResult['detectedBySize'] = Object.fromEntries(SIZE_BUCKETS.map(([a, b]) => [`${a}-${b - 1}`, { faces: 0, detected: 0 }]));
  let written = 0, falseDetections = 0;
  const rows: string[] = ['file,label,placedSide,boxWidth,boxHeight,iou'];
  const nFrames = Math.ceil(o.faces.length / o.facesPerFrame);
  for (let f0 = 0; f0 < nFrames; f0 += chunk) {
    const frames: Array<{ frame: Frame; faces: readonly FerFace[]; placed: PlacedFace[] }> = [];
    for (let f = f0; f < Math.min(nFrames, f0 + chunk); f++) {
      const faces = o.faces.slice(f * o.facesPerFrame, (f + 1) * o.facesPerFrame);
      const { frame, placed } = await renderStillFrame(st, ro, { seed: o.seed, name: 'crops', index: f, faces });
      frames.push({ frame, faces, placed });
    }
    const msgs = await firstValueFrom(from(frames.map((x) => ownScene(x.frame))).pipe(detectFaces({ detector, logger: silentLogger, config }), toArray()));
    for (let i = 0; i < frames.length; i++) {
      const fr = frames[i];
      const mr = matchBoxes(fr.placed.map(patchBox), msgs[i].faces.map((x) => x.box));
      falseDetections += mr.unmatchedDetections.length;
      fr.placed.forEach((p) => { const b = bySize[sizeBucket(p.side)]; if (b) b.faces++; });
      for (const m of mr.matches) {
        const face = fr.faces[m.truth];
        const b = bySize[sizeBucket(fr.placed[m.truth].side)];
        if (b) b.detected++;
        const file = path.join(o.out, EMOTIONS[face.label], path.basename(face.file).replace(/\.\w+$/, '.png'));
        const det = msgs[i].faces[m.detection];
        await sharp(Buffer.from(det.crop), { raw: { width: INPUT_SIZE, height: INPUT_SIZE, channels: 1 } }).toColourspace('b-w').png().toFile(file);
        rows.push([path.relative(o.out, file), EMOTIONS[face.label], Math.round(fr.placed[m.truth].side), Math.round(det.box.width), Math.round(det.box.height), m.iou.toFixed(3)].join(','));
        written++;
      }
    }
    o.log(`pipeline crops: ${Math.min(nFrames, f0 + chunk)}/${nFrames} frames, ${written} crops`);
  }
  // What each crop was cut from: the face's placed size and the detection's box, to study accuracy by size.
  fs.writeFileSync(path.join(o.out, `crops-${o.seed}.csv`), rows.join('\n') + '\n');
  const result: CropSetResult = { faces: o.faces.length, frames: nFrames, written, detectedBySize: bySize, falseDetections };
  fs.writeFileSync(path.join(o.out, `manifest-${o.seed}.json`), JSON.stringify({
    what: 'FER-2013 faces rendered into 1280x720 frames and cropped by BlazeFace and the detector stage (bench/accuracy/cropset.ts)',
    split: o.split ?? 'Training', seed: o.seed, facesPerFrame: o.facesPerFrame, render: ro, detector: { marginFraction: config.marginFraction, cropOffsetY: config.cropOffsetY, align: config.align, scenes: 'a camera per frame, searched whole (since 2026-12-06; before, the frames of a chunk were one camera\'s)' },
    createdAt: new Date().toISOString(), ...result,
  }, null, 2));
  return result;
}
