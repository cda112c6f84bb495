/** Builders of synthetic inputs for this package's tests (not part of the public API). */
import { EMOTIONS, SCHEMA_VERSION, packEmbedding, type Emotion, type EmotionProbabilities, type EmotionsMessage } from '@emostream/contracts';

/** A probability vector with `main` at `p` and the rest spread evenly. */
export function probs(main: Emotion, p = 1): EmotionProbabilities {
  const out = {} as EmotionProbabilities;
  for (const e of EMOTIONS) out[e] = e === main ? p : (1 - p) / (EMOTIONS.length - 1);
  return out;
}

/** One synthetic face: a square of width `w` centred on (cx, cy) showing `emotion` at probability `p`. */
export interface SyntheticFace { cx: number; cy: number; w?: number; emotion: Emotion; p?: number; embedding?: string }

/** One synthetic frame of the classifier's output. */
export function emotionsMessage(cameraId: string, seq: number, mediaTimeMs: number, faces: SyntheticFace[], opts: { capturedAtMs?: number; modelVersion?: string; sceneCut?: boolean } = {}): EmotionsMessage {
  return {
    frame: {
      schemaVersion: SCHEMA_VERSION, cameraId, seq, mediaTimeMs,
      capturedAtMs: opts.capturedAtMs ?? 1_700_000_000_000 + mediaTimeMs,
      width: 1280, height: 720,
      ...(opts.sceneCut ? { sceneCut: true } : {}),
    },
    faces: faces.map((f) => {
      const w = f.w ?? 80;
      return {
        box: { x: f.cx - w / 2, y: f.cy - w / 2, width: w, height: w }, score: 0.9, probabilities: probs(f.emotion, f.p ?? 0.9),
        ...(f.embedding ? { embedding: f.embedding } : {}),
      };
    }),
    modelVersion: opts.modelVersion ?? 'test-1',
  };
}

/** A person in a synthetic scene: where their face is and what it shows over media time. */
export interface SyntheticPerson {
  enterMs: number;
  leaveMs: number;
  at: (tMs: number) => { cx: number; cy: number; w?: number };
  emotion: (tMs: number) => Emotion;
}

/** Frames of one camera at a steady rate showing the given persons (and optional one-frame blips). */
export function syntheticScene(opts: {
  cameraId?: string; fps?: number; durationMs: number; persons: SyntheticPerson[];
  blips?: { atMs: number; cx: number; cy: number }[]; modelVersion?: string;
}): EmotionsMessage[] {
  const dt = 1000 / (opts.fps ?? 25);
  const out: EmotionsMessage[] = [];
  for (let seq = 0; seq * dt <= opts.durationMs; seq++) {
    const t = Math.round(seq * dt);
    const faces: SyntheticFace[] = opts.persons
      .filter((p) => t >= p.enterMs && t <= p.leaveMs)
      .map((p) => ({ ...p.at(t), emotion: p.emotion(t) }));
    for (const b of opts.blips ?? []) if (b.atMs === t) faces.push({ cx: b.cx, cy: b.cy, w: 50, emotion: 'fear' });
    out.push(emotionsMessage(opts.cameraId ?? 'cam1', seq, t, faces, { modelVersion: opts.modelVersion }));
  }
  return out;
}

/** A synthetic appearance: person `n`'s embedding (a fixed random direction), packed as a face carries it. */
export function identity(n: number, noise = 0, seed = 1): string {
  let a = n * 7919 + 17, b = seed * 104729 + 3;
  const rnd = (s: number) => { const x = Math.sin(s) * 43758.5453; return x - Math.floor(x) - 0.5; };
  return packEmbedding(Array.from({ length: 64 }, (_, i) => rnd(a + i * 31) + noise * rnd(b + i * 53)));
}
