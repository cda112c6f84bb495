/** What every benchmark section receives: the runtime, the model, the clips, the run's settings. */
import fs from 'node:fs';
import path from 'node:path';
import type { TfRuntime } from '@emostream/runtime';
import { createDetector, parseDetectorConfig, type FaceDetector, type FaceEmbedder } from '@emostream/detector';
import { loadEmotionModel, type EmotionModel } from '@emostream/classifier';
import { warmUp } from '@emostream/pipeline';
import { sharedEmbedder } from './embedded.js';
import { makeClip, makeGroupClip, probe } from './ffmpeg.js';
import type { BenchModel } from './model.js';

/** Where the shared sample media and labelled data live (read in place). */
export const DATA_DIR = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../shared/data');
/** The 640x360 sample clip. */
export const HAMILTON = path.join(DATA_DIR, 'media/short_hamilton_clip.mp4');
/** The source of the 720p clip. */
export const WOMAN2 = path.join(DATA_DIR, 'media/woman2.mp4');

/** One row of the printed table. */
export interface Row {
  section: string;
  figure: string;
  value: string;
  detail?: string;
}

/** A clip the benchmark made or found, with its facts. */
export interface Clip {
  name: string;
  file: string;
  width: number;
  height: number;
  fps: number;
  frames: number;
  durationMs: number;
}

/** The run's shared state. */
export interface BenchContext {
  rt: TfRuntime;
  tmp: string;
  quick: boolean;
  long: boolean;
  model: BenchModel;
  log: (msg: string) => void;
  /** Figures of earlier sections (a later one may reuse them: same run, same machine). */
  figures: Record<string, unknown>;
  /** The 720p 25 fps clip (woman2 scaled and looped), made once. */
  clip720(): Promise<Clip>;
  /**
   * A 720p 25 fps clip with six faces in every frame (a 3x2 grid of woman2 regions, each from its
   * own start time, three of them mirrored; faces of 150-200 px), 12 s (--quick: 4 s), made once.
   */
  clip720Group(): Promise<Clip>;
  /** The 640x360 sample clip as it is. */
  clipHamilton(): Clip;
  /** The detector and the emotion model, loaded (and warmed up, as `analyze` does) once for the sections that run the pipeline themselves. */
  detector(): Promise<FaceDetector>;
  /**
   * The face embedder (faceres) the default detector settings ask for (`embeddings: true`), loaded
   * once; {@link runEmbedded} uses the same one when given none.
   */
  embedder(): Promise<FaceEmbedder>;
  emotionModel(): Promise<EmotionModel>;
}

/** Builds the context; clips and models are made on first use. */
export function createContext(o: { rt: TfRuntime; tmp: string; quick: boolean; long: boolean; model: BenchModel; log: (m: string) => void }): BenchContext {
  let clip: Promise<Clip> | undefined;
  let group: Promise<Clip> | undefined;
  let det: Promise<FaceDetector> | undefined;
  let em: Promise<EmotionModel> | undefined;
  return {
    ...o,
    figures: {},
    clip720() {
      clip ??= (async () => {
        const file = path.join(o.tmp, 'woman2-720p25.mp4');
        // Two passes of the 15.5 s clip: 31 s of 720p at 25 fps (--quick: its first 5 s).
        const loops = 2;
        if (!fs.existsSync(file)) await makeClip(WOMAN2, file, { width: 1280, height: 720, fps: 25, loops, maxSeconds: o.quick ? 5 : undefined });
        const p = probe(file);
        return { name: `woman2 1280x720 25fps${o.quick ? ' (first 5 s)' : ' x2'}`, file, ...p, fps: 25 };
      })();
      return clip;
    },
    clip720Group() {
      group ??= (async () => {
        const file = path.join(o.tmp, 'woman2-group6-720p25.mp4');
        // woman2 (596x336): the face's centre is at about (287, 161), 107-121 px high. Regions of
        // 280-360 px wide (the cell's 426:360 shape) centred on it, so faces differ in size.
        const region = (w: number) => {
          const h = Math.round((w * 360) / 426);
          return { x: Math.round(287 - w / 2), y: Math.round(170 - h / 2), width: w, height: h };
        };
        const seconds = o.quick ? 4 : 12;
        if (!fs.existsSync(file)) {
          await makeGroupClip(WOMAN2, file, {
            cols: 3, rows: 2, width: 1280, height: 720, fps: 25, seconds,
            cells: [306, 360, 280, 330, 300, 350].map((w, i) => ({ startS: i * 2.6, crop: region(w), mirror: i % 2 === 1 })),
          });
        }
        const p = probe(file);
        return { name: `woman2 x6 grid 1280x720 25fps ${seconds} s`, file, ...p, fps: 25 };
      })();
      return group;
    },
    clipHamilton() {
      const p = probe(HAMILTON);
      return { name: 'short_hamilton_clip 640x360', file: HAMILTON, ...p };
    },
    detector() {
      det ??= createDetector(parseDetectorConfig({}), { tf: o.rt }).then(async (detector) => { await warmUp({ detector }); return detector; });
      return det;
    },
    embedder() {
      return sharedEmbedder();
    },
    emotionModel() {
      em ??= loadEmotionModel(o.rt.tf, { model: o.model.dir }).then(async (model) => { await warmUp({ model }); return model; });
      return em;
    },
  };
}

/**
 * `analyze()`'s options as the CLI's defaults set them (quiet, no progress line), with the
 * benchmark's model and the given sampling rate and duration.
 */
export function analyzeOptions(ctx: BenchContext, out: string, fps: number, durationS?: number): import('@emostream/pipeline').AnalyzeOptions {
  return {
    out, camera: 'bench', fps, duration: durationS, detector: 'blazeface', model: ctx.model.dir,
    rtspTransport: 'tcp', giveUpAfter: 60, maxWidth: 1280, backend: 'auto', quiet: true, thumbnails: false,
  };
}
