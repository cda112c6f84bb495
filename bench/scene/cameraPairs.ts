/**
 * Two cameras of one site that see the same people at different times: camera A shows four
 * persons who leave one after another; camera B, whose picture starts later (capture time),
 * shows two or three of them again, after they left A, at another size, in another place and
 * under another light, and two strangers nobody saw on A. Pure, seeded code like the rest of
 * the generator: the same seed and subjects give the same pair. A face's id is its subject, so
 * the ground truth's `person` names the subject on both cameras.
 */
import type { Emotion } from '@emostream/contracts';
import { between, expressionsFor, prng, subjectsOf, type FaceAsset, type Scene, type SceneFace } from './generate.js';
import { seededShuffle } from '../accuracy/faces.js';

/** Camera B's picture against camera A's (an ffmpeg filter chain over the rendered frames). */
export interface Light {
  name: string;
  filter: string;
}

/** Camera B's lights, one per pair in turn (camera A is rendered as it is). */
export const LIGHTS: readonly Light[] = [
  { name: 'dim, low contrast', filter: 'eq=brightness=-0.1:contrast=0.75' },
  { name: 'bright, warm', filter: 'eq=brightness=0.06:contrast=1.1,colorbalance=rs=0.12:gs=0.04:bs=-0.12' },
  { name: 'dark (gamma 0.7)', filter: 'eq=gamma=0.7:contrast=0.9' },
  { name: 'cool, vignette', filter: 'colorbalance=rs=-0.1:bs=0.15,vignette=PI/4' },
  { name: 'over-exposed', filter: 'eq=brightness=0.12:contrast=1.25:gamma=1.3' },
];

/** One pair of cameras: their scenes, when B's picture starts after A's, B's light, who is on both. */
export interface CameraPair {
  name: string;
  a: Scene;
  b: Scene;
  /** Capture time of B's first frame after A's first frame, ms. */
  bStartMs: number;
  light: Light;
  /** Subjects camera B shows that camera A showed before (the links to make), and the strangers. */
  seenOnBoth: string[];
  strangers: string[];
}

/** Subjects each pair needs (four on A, two strangers on B). */
export const SUBJECTS_PER_PAIR = 6;

/** Length of each camera's picture and B's start after A's, ms. */
const A_MS = 12_000;
const B_MS = 14_000;
const B_START_MS = 5_000;
/** The aggregator ends a person this long after their last face (its personTtlMs default) and only then can another camera link them. */
const LEFT_AFTER_MS = 2_000;

/**
 * Distinct subjects for `pairs` pairs ({@link SUBJECTS_PER_PAIR} each), drawn with `seed`: no
 * subject is in two pairs, so a link across pairs is always a wrong one.
 */
export function drawPairSubjects(catalogue: readonly FaceAsset[], seed: number, pairs: number): string[][] {
  const names = seededShuffle([...subjectsOf(catalogue, 2).keys()], prng(seed));
  const need = pairs * SUBJECTS_PER_PAIR;
  if (names.length < need) throw new Error(`the catalogue has ${names.length} subjects with two or more expressions; ${pairs} camera pairs need ${need}`);
  return Array.from({ length: pairs }, (_, k) => names.slice(k * SUBJECTS_PER_PAIR, (k + 1) * SUBJECTS_PER_PAIR));
}

/**
 * One pair (see the module's comment). Camera A: subjects[0..3], 160-230 px, in a row at
 * 45-70% of the height, leaving at 2.5-3.5, 4-5, 5.5-6.5 and 7-8 s (A shows 12 s). Camera B,
 * 5 s later (14 s): two or three of them, each entering at least 2.5 s after they left A (when
 * the aggregator has ended them there) at 0.55-1.2x their size (110-260 px), and subjects[4..5]
 * from 0.5-6 s; each in its own slot of five, the rows alternating (no overlaps).
 */
export function generateCameraPair(seed: number, catalogue: readonly FaceAsset[], subjects: readonly string[], light: Light, name = `pair-${seed}`): CameraPair {
  const rnd = prng(seed);
  const images = subjectsOf(catalogue, 2);
  const fps = 10;
  const frameMs = 1000 / fps;
  const snap = (t: number) => Math.round(t / frameMs) * frameMs;
  const even = (x: number) => Math.round(x / 2) * 2;
  const W = 1280;
  const H = 720;
  // A face about (x, y), wandering +-25 px (+-20 px vertically), inside the frame.
  const face = (subject: string, size: number, enterMs: number, leaveMs: number, z: number, x: number, y: number): SceneFace => {
    const at = (dx: number, dy: number) => ({
      x: Math.min(W - size / 2 - 4, Math.max(size / 2 + 4, x + between(rnd, -dx, dx))),
      y: Math.min(H - size / 2 - 4, Math.max(size / 2 + 4, y + between(rnd, -dy, dy))),
    });
    return {
      id: subject, subject, sizePx: size, enterMs, leaveMs, z,
      path: [{ tMs: enterMs, ...at(0, 0) }, { tMs: (enterMs + leaveMs) / 2, ...at(25, 20) }, { tMs: leaveMs, ...at(25, 20) }],
      expressions: expressionsFor(rnd, images.get(subject) as Map<Emotion, string[]>, enterMs, leaveMs, 3_000, snap),
    };
  };
  const onA = subjects.slice(0, 4).map((s, i) => {
    const size = even(between(rnd, 160, 230));
    const leave = snap(between(rnd, 2_500 + 1_500 * i, 3_500 + 1_500 * i));
    return face(s, size, snap(i * 200), leave, i, ((i + 0.5) / 4) * W, between(rnd, 0.45, 0.7) * H);
  });
  // Who comes to B: two or three of A's, in a seeded order.
  const order = seededShuffle([0, 1, 2, 3], rnd);
  const seen = order.slice(0, rnd() < 0.5 ? 2 : 3).sort((x, y) => x - y).map((i) => onA[i]);
  const strangers = subjects.slice(4, 6);
  const slots = seededShuffle([0, 1, 2, 3, 4], rnd);
  const slotAt = (k: number) => ({ x: ((slots[k] + 0.5) / 5) * W, y: (slots[k] % 2 ? 0.72 : 0.28) * H });
  const onB: SceneFace[] = [];
  seen.forEach((f, k) => {
    const size = even(Math.min(260, Math.max(110, f.sizePx * between(rnd, 0.55, 1.2))));
    const enter = snap(f.leaveMs + LEFT_AFTER_MS + between(rnd, 500, 3_000) - B_START_MS);
    const at = slotAt(k);
    onB.push(face(f.subject, size, enter, B_MS, k, at.x, at.y));
  });
  strangers.forEach((s, k) => {
    const at = slotAt(seen.length + k);
    onB.push(face(s, even(between(rnd, 110, 260)), snap(between(rnd, 500, 6_000)), B_MS, seen.length + k, at.x, at.y));
  });
  const scene = (cam: string, durationMs: number, faces: SceneFace[], bg: number): Scene => ({
    name: `${name}-${cam}`, seed, width: W, height: H, fps, durationMs, backgroundSeed: bg, faces,
  });
  return {
    name, a: scene('a', A_MS, onA, seed * 7919 + 1), b: scene('b', B_MS, onB, seed * 7919 + 2), bStartMs: B_START_MS, light,
    seenOnBoth: seen.map((f) => f.subject), strangers,
  };
}
