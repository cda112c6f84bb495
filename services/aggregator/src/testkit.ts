/** Builders of synthetic inputs for this package's tests (not part of the public API). */
import { EMOTIONS, SCHEMA_VERSION, packEmbedding, unpackEmbedding, type Box, type Emotion, type EmotionEvent, type EmotionProbabilities, type EmotionsMessage } from '@emostream/contracts';
import { Aggregator } from './aggregator.js';
import type { AggregatorConfigInput } from './config.js';

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

/** An embedding of person `who` that also resembles person `other`: `weight` of who's likeness, the rest other's (both a little noisy, seeded by `seed`). */
export function partly(who: number, other: number, weight: number, seed: number): string {
  const a = unpackEmbedding(identity(who, 0.3, seed));
  const b = unpackEmbedding(identity(other, 0.3, seed));
  return packEmbedding(a.map((x, i) => weight * x + (1 - weight) * b[i]));
}

/** One face at 10 fps: where it is and whether the detector embeds it (a new face, then each 10th frame). */
export interface Shot { t: number; box: Box; embedding?: string }

/**
 * Person `who` standing whole at (cx, 200) from `from` to `to`, embedded on the first frame and on
 * every whole second; `embed` gives the embedding of a time (default: `who`'s, a little noisy).
 */
export function stand(who: number, from: number, to: number, cx = 400, w = 120, embed = (t: number) => identity(who, 0.3, t)): Shot[] {
  const out: Shot[] = [];
  for (let t = from; t <= to; t += 100) {
    const embedded = t === from || (t / 100) % 10 === 0;
    out.push({ t, box: { x: cx - w / 2, y: 200 - w / 2, width: w, height: w }, ...(embedded ? { embedding: embed(t) } : {}) });
  }
  return out;
}

/** Frames of a 1280x720 camera from `from` to `to` at 10 fps with the shots of those times (nobody where none). */
export function shotFrames(cameraId: string, from: number, to: number, ...people: Shot[][]): EmotionsMessage[] {
  const out: EmotionsMessage[] = [];
  for (let t = from; t <= to; t += 100) {
    const faces = people.flatMap((p) => p.filter((s) => s.t === t)).map((s) => ({
      box: s.box, score: 0.9, probabilities: probs('happy'), ...(s.embedding ? { embedding: s.embedding } : {}),
    }));
    out.push({ frame: { schemaVersion: SCHEMA_VERSION, cameraId, seq: t / 100, mediaTimeMs: t, capturedAtMs: 1_700_000_000_000 + t, width: 1280, height: 720 }, faces, modelVersion: 't' });
  }
  return out;
}

/** Runs `msgs` through a new aggregator: its events, and each as a line `type personId [returning] [sameAs cam/p] @ms`. */
export function play(config: AggregatorConfigInput, msgs: readonly EmotionsMessage[]) {
  const a = new Aggregator({ config });
  const events: EmotionEvent[] = [];
  for (const m of msgs) events.push(...a.push(m));
  return { a, events, log: events.map((e) => `${e.type} ${e.personId}${e.returning ? ' returning' : ''}${e.sameAs ? ` sameAs ${e.sameAs.cameraId}/${e.sameAs.personId}` : ''} @${e.mediaTimeMs}`) };
}
