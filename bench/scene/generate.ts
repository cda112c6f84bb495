/**
 * The seeded scene generator: synthetic scenes of known faces (CK+ subjects) that move over a
 * background, enter, leave, occlude each other and change expression at known times, with the
 * ground truth of every frame. Pure code: the same seed and catalogue give the same scene.
 *
 * Five kinds: `basic` ({@link generateScene}: 3 faces and a late entrant, one crossing); in
 * sceneKinds.ts: `cut` ({@link generateCutScene}: hard cuts, a different subject on the same spot right after one,
 * and a cut back to the first shot's people), `return` ({@link generateReturnScene}: people
 * leave the frame for 2-6 s and come back elsewhere, smaller; a newcomer), `crowd`
 * ({@link generateCrowdScene}: 8-15 faces of 20-60 px under a slow zoom and pan) and `reframe`
 * ({@link generateReframeScene}: a wide shot of small faces, a close-up of one of them, one of a
 * stranger, the wide shot again).
 */
import type { Box, Emotion } from '@emostream/contracts';
import { iou } from '@emostream/aggregator';
import { mulberry32 } from '../lib/rng.js';

/** One labelled face image of the catalogue (a CK+ frame): who, which expression, where. */
export interface FaceAsset {
  subject: string;
  emotion: Emotion;
  /** Path of the image (read in place at render time). */
  path: string;
}

/** From `startMs` on (until the next span), the face shows `emotion` with this image. */
export interface ExpressionSpan {
  startMs: number;
  emotion: Emotion;
  image: string;
}

/** A point of a face's path: its centre at a media time; positions in between are linear. */
export interface Waypoint {
  tMs: number;
  x: number;
  y: number;
}

/** One person of a scene. */
export interface SceneFace {
  id: string;
  subject: string;
  /** Side of the (square) face image in the frame, px. */
  sizePx: number;
  /** Present in frames with enterMs <= t < leaveMs. */
  enterMs: number;
  leaveMs: number;
  /** Drawing order: a higher z is drawn later, over lower ones. */
  z: number;
  path: Waypoint[];
  expressions: ExpressionSpan[];
  /**
   * This face is a later appearance of the face with this id (same subject, same person): it
   * left the frame (or the shot) and comes back. Scored as a return, not as an ID switch.
   */
  returnOf?: string;
}

/** The kinds of generated scene (see the module's comment). */
export type SceneKind = 'basic' | 'cut' | 'return' | 'crowd' | 'reframe';

/** A hard cut: from `atMs` on, the background is the one of `backgroundSeed` (and the faces are others). */
export interface SceneCut {
  atMs: number;
  backgroundSeed: number;
}

/**
 * A key of the camera's view (linear in between): the frame shows the world rectangle centred
 * on (cx, cy) of size width/zoom x height/zoom, scaled to the frame. Faces' paths and sizes are
 * in world pixels; the background is world-sized. zoom >= 1 and the rectangle inside the world.
 */
export interface ViewKey {
  tMs: number;
  cx: number;
  cy: number;
  zoom: number;
}

/** A whole scene: what to render and the truth to score against. */
export interface Scene {
  name: string;
  seed: number;
  width: number;
  height: number;
  fps: number;
  durationMs: number;
  /** Seed of the procedural background (see render.ts); of the first shot when there are cuts. */
  backgroundSeed: number;
  faces: SceneFace[];
  /** What the scene tests (absent: `basic`). */
  kind?: SceneKind;
  /** Hard cuts, in time order (absent: none). */
  cuts?: SceneCut[];
  /** A moving camera (absent: the frame is the world, still). */
  view?: ViewKey[];
}

/** The truth about one face in one frame. */
export interface GroundTruthFace {
  faceId: string;
  /** The person: the first appearance's face id (a return's `returnOf` chain followed back). */
  person: string;
  subject: string;
  /** The face image's square in frame pixels (may extend past the frame edges). */
  box: Box;
  emotion: Emotion;
  image: string;
  z: number;
  /** Fraction of the face's square that is inside the frame and not covered by a face above it (0..1). */
  visibleFraction: number;
}

/** An expression change of one face: the moment an `emotion.changed` event should follow. */
export interface ExpressionChange {
  faceId: string;
  atMs: number;
  from: Emotion;
  to: Emotion;
}

/** Options of {@link generateScene}. */
export interface SceneOptions {
  name?: string;
  width?: number;
  height?: number;
  fps?: number;
  durationMs?: number;
  /** Faces present from the start (a late one enters later and another leaves early). */
  faces?: number;
  /** Side of the face squares, px (min, max). */
  sizePx?: [number, number];
  /** Shortest time an expression is held, ms. */
  minHoldMs?: number;
}

/** mulberry32 (bench/lib/rng.ts), so scenes are identical on every machine. */
export const prng: (seed: number) => () => number = mulberry32;

export const pick = <T>(rnd: () => number, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
export const between = (rnd: () => number, lo: number, hi: number) => lo + rnd() * (hi - lo);

/** Subjects with at least `minEmotions` distinct expressions, each with its images per emotion (sorted, stable). */
export function subjectsOf(catalogue: readonly FaceAsset[], minEmotions = 2): Map<string, Map<Emotion, string[]>> {
  const by = new Map<string, Map<Emotion, string[]>>();
  for (const a of catalogue) {
    const m = by.get(a.subject) ?? new Map<Emotion, string[]>();
    m.set(a.emotion, [...(m.get(a.emotion) ?? []), a.path]);
    by.set(a.subject, m);
  }
  const out = new Map<string, Map<Emotion, string[]>>();
  for (const s of [...by.keys()].sort()) {
    const m = by.get(s)!;
    if (m.size < minEmotions) continue;
    for (const v of m.values()) v.sort();
    out.set(s, m);
  }
  return out;
}

/**
 * Generates one scene. Faces 0..n-1 are present from the first second; one more enters around
 * the middle; face 0 leaves before the end. Faces 0 and 1 are made to cross (face 1 passes in
 * front of face 0), so the scene always has an occlusion; every face changes expression at
 * least once, each expression held for at least `minHoldMs`.
 */
export function generateScene(seed: number, catalogue: readonly FaceAsset[], o: SceneOptions = {}): Scene {
  const rnd = prng(seed);
  const width = o.width ?? 1280;
  const height = o.height ?? 720;
  const fps = o.fps ?? 10;
  const durationMs = o.durationMs ?? 20_000;
  const n = o.faces ?? 3;
  const [minSize, maxSize] = o.sizePx ?? [170, 230];
  const minHoldMs = o.minHoldMs ?? 3_000;
  const subjects = subjectsOf(catalogue, 2);
  if (subjects.size < n + 1) throw new Error(`the catalogue has ${subjects.size} subjects with two or more expressions; the scene needs ${n + 1}`);
  // Distinct subjects: a person is one identity.
  const names = [...subjects.keys()];
  const chosen: string[] = [];
  while (chosen.length < n + 1) {
    const s = pick(rnd, names);
    if (!chosen.includes(s)) chosen.push(s);
  }
  const frameMs = 1000 / fps;
  // Times on the frame grid, so "changes at t" means "from the frame at t on".
  const snap = (t: number) => Math.round(t / frameMs) * frameMs;
  const faces: SceneFace[] = chosen.map((subject, i) => {
    const size = Math.round(between(rnd, minSize, maxSize) / 2) * 2;
    const late = i === n;
    const enterMs = snap(late ? between(rnd, 0.35, 0.5) * durationMs : i * 300);
    const leaveMs = i === 0 ? snap(between(rnd, 0.75, 0.85) * durationMs) : durationMs;
    return {
      id: `f${i}`, subject, sizePx: size, enterMs, leaveMs, z: i,
      path: [], expressions: expressionsFor(rnd, subjects.get(subject)!, enterMs, leaveMs, minHoldMs, snap),
    };
  });
  // Lanes: faces spread over the width in the lower row, wandering a little; margins keep them
  // inside the frame. The late one slides in from the right edge in the upper row, clear of the
  // others (rows: y 0.62-0.72 H +-40 px vs 0.2 H +-30 px, faces <= 230 px), so the only
  // occlusion is the planned crossing.
  const lane = (i: number) => ((i + 0.5) / n) * width;
  faces.forEach((f, i) => {
    const half = f.sizePx / 2;
    const clampX = (x: number) => Math.min(width - half - 4, Math.max(half + 4, x));
    const clampY = (y: number) => Math.min(height - half - 4, Math.max(half + 4, y));
    if (i === n) {
      const y = clampY(0.2 * height);
      f.path = [
        { tMs: f.enterMs, x: width + half * 0.6, y },
        { tMs: f.enterMs + 2_000, x: clampX(width - 1.5 * f.sizePx), y: clampY(y + between(rnd, -30, 30)) },
        { tMs: durationMs, x: clampX(width - 1.5 * f.sizePx - between(rnd, 0, 80)), y: clampY(y + between(rnd, -30, 30)) },
      ];
      return;
    }
    const x0 = clampX(lane(i) + between(rnd, -30, 30));
    const y0 = clampY(between(rnd, 0.62, 0.72) * height);
    const pts: Waypoint[] = [{ tMs: f.enterMs, x: x0, y: y0 }];
    for (let k = 1; k <= 3; k++) {
      pts.push({ tMs: f.enterMs + ((f.leaveMs - f.enterMs) * k) / 3, x: clampX(x0 + between(rnd, -40, 40)), y: clampY(y0 + between(rnd, -40, 40)) });
    }
    f.path = pts;
  });
  // The crossing: face 1 walks over to face 0 (which holds still there), passes in front of it,
  // and walks back to its lane, all while both are present.
  if (n >= 2) {
    const a = faces[0];
    const b = faces[1];
    const tCross = snap(between(rnd, 0.3, 0.45) * durationMs);
    const hold = { x: a.path[0].x, y: a.path[0].y };
    a.path = [
      { tMs: a.enterMs, x: hold.x, y: hold.y },
      { tMs: tCross + 2_000, x: hold.x, y: hold.y },
      ...a.path.slice(2).map((p) => ({ ...p, tMs: Math.max(p.tMs, tCross + 3_000) })),
    ];
    const bx = b.path[0].x;
    const by = b.path[0].y;
    b.path = [
      { tMs: b.enterMs, x: bx, y: by },
      { tMs: tCross - 2_500, x: bx, y: by },
      { tMs: tCross, x: hold.x, y: hold.y + 0.1 * b.sizePx },
      { tMs: tCross + 2_500, x: bx, y: by },
      { tMs: durationMs, x: bx, y: by },
    ];
  }
  return { name: o.name ?? `scene-${seed}`, seed, width, height, fps, durationMs, backgroundSeed: seed * 7919 + 1, faces };
}

/** A face's expressions from `enterMs` to `leaveMs`: each held `minHoldMs`..2x, never the same twice in a row. */
export function expressionsFor(
  rnd: () => number, images: Map<Emotion, string[]>, enterMs: number, leaveMs: number, minHoldMs: number, snap: (t: number) => number,
): ExpressionSpan[] {
  const emotions = [...images.keys()].sort();
  const spans: ExpressionSpan[] = [];
  let t = enterMs;
  let last: Emotion | undefined;
  // Hold each expression minHoldMs..2*minHoldMs; the last one runs to the face's exit.
  while (t < leaveMs - minHoldMs || spans.length === 0) {
    const options = emotions.filter((e) => e !== last);
    const e = pick(rnd, options);
    spans.push({ startMs: t, emotion: e, image: pick(rnd, images.get(e)!) });
    last = e;
    t = snap(t + between(rnd, minHoldMs, 2 * minHoldMs));
  }
  return spans;
}
