/** Builders of synthetic inputs for this package's tests (not part of the public API). */
import { EMOTIONS, SCHEMA_VERSION, type Emotion, type EmotionProbabilities, type EmotionsMessage } from '@emostream/contracts';

/** A probability vector with `main` at `p` and the rest spread evenly. */
export function probs(main: Emotion, p = 1): EmotionProbabilities {
  const out = {} as EmotionProbabilities;
  for (const e of EMOTIONS) out[e] = e === main ? p : (1 - p) / (EMOTIONS.length - 1);
  return out;
}

/** One synthetic face: a square of width `w` centred on (cx, cy) showing `emotion` at probability `p`. */
export interface SyntheticFace { cx: number; cy: number; w?: number; emotion: Emotion; p?: number }

/** One synthetic frame of the classifier's output. */
export function emotionsMessage(cameraId: string, seq: number, mediaTimeMs: number, faces: SyntheticFace[], opts: { capturedAtMs?: number; modelVersion?: string } = {}): EmotionsMessage {
  return {
    frame: {
      schemaVersion: SCHEMA_VERSION, cameraId, seq, mediaTimeMs,
      capturedAtMs: opts.capturedAtMs ?? 1_700_000_000_000 + mediaTimeMs,
      width: 1280, height: 720,
    },
    faces: faces.map((f) => {
      const w = f.w ?? 80;
      return { box: { x: f.cx - w / 2, y: f.cy - w / 2, width: w, height: w }, score: 0.9, probabilities: probs(f.emotion, f.p ?? 0.9) };
    }),
    modelVersion: opts.modelVersion ?? 'test-1',
  };
}
