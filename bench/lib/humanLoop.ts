/**
 * The peer: @vladmandic/human's own per-frame loop (`human.detect()` with the face detector and
 * its emotion model; mesh, iris, description and everything else off) on the same decoded RGB
 * frames, on the same TensorFlow.js, with its models loaded from its package's models/ folder.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { TfRuntime } from '@emostream/runtime';
import { humanModelsDir } from '@emostream/detector';
import type { Config as HumanConfig, Human as HumanInstance } from '@vladmandic/human';
import { rawFrames } from './ffmpeg.js';

const require = createRequire(import.meta.url);

/** Options of {@link humanLoop}. */
export interface HumanLoopOptions {
  file: string;
  width: number;
  height: number;
  fps: number;
  /**
   * Human's result caching between frames (its default: similar frames reuse the last boxes and
   * emotions, `skipFrames`/`skipTime`). Off: every frame is detected and classified, the same
   * work our pipeline does.
   */
  cache: boolean;
  /** Stop after this many frames. */
  maxFrames?: number;
}

/** What the loop did. */
export interface HumanLoopResult {
  frames: number;
  faces: number;
  wallMs: number;
  fps: number;
}

/** The Human config: face detection + emotion only, up to 10 faces like our detector's maxFaces. */
export function humanPeerConfig(cache: boolean): Partial<HumanConfig> {
  const off = { enabled: false };
  const noCache = cache ? {} : { skipFrames: 0, skipTime: 0 };
  return {
    backend: 'tensorflow',
    modelBasePath: pathToFileURL(humanModelsDir()).href + '/',
    debug: false,
    warmup: 'none',
    ...(cache ? {} : { cacheSensitivity: 0 }),
    filter: { enabled: false },
    gesture: off, body: off, hand: off, object: off, segmentation: off,
    face: {
      enabled: true,
      detector: { enabled: true, maxDetected: 10, rotation: false, return: false, ...noCache },
      mesh: off, iris: off, description: off, antispoof: off, liveness: off, attention: off, gear: off,
      emotion: { enabled: true, ...noCache },
    } as HumanConfig['face'],
  };
}

/** Runs Human's loop over a file's frames, decoded as ingest decodes them; the first frame warms up and is not timed. */
export async function humanLoop(rt: TfRuntime, o: HumanLoopOptions): Promise<HumanLoopResult> {
  const { Human } = require('@vladmandic/human') as { Human: new (c?: Partial<HumanConfig>) => HumanInstance };
  const human = new Human(humanPeerConfig(o.cache));
  if (human.tf.engine() !== rt.tf.engine()) throw new Error('Human loaded another TensorFlow.js than the pipeline: the comparison would not be on the same backend');
  await human.load();
  const { tf } = rt;
  let frames = 0;
  let faces = 0;
  let t0 = 0;
  for await (const rgb of rawFrames(o.file, o)) {
    const tensor = tf.tensor4d(rgb, [1, o.height, o.width, 3], 'int32');
    try {
      const res = await human.detect(tensor);
      if (res.error) throw new Error(`Human failed: ${res.error}`);
      // Read the emotions, as a user of the loop would.
      for (const f of res.face) if (f.emotion?.length) faces++;
    } finally {
      tf.dispose(tensor);
    }
    if (frames === 0) t0 = performance.now();
    frames++;
    if (o.maxFrames !== undefined && frames >= o.maxFrames) break;
  }
  const wallMs = performance.now() - t0;
  // Frames after the untimed first one.
  const timed = Math.max(0, frames - 1);
  return { frames: timed, faces, wallMs, fps: timed / (wallMs / 1000) };
}
