/**
 * The scene kinds beyond `basic`: hard cuts, exits and returns, crowds (see generate.ts for the
 * scene model and the ground truth). Pure, seeded code like the rest of the generator.
 */
import type { Emotion } from '@emostream/contracts';
import { between, expressionsFor, pick, prng, subjectsOf, type FaceAsset, type Scene, type SceneFace, type Waypoint } from './generate.js';
import { positionAt } from './groundTruth.js';

/** Options of the scene kinds beyond `basic` (each has its own defaults). */
export interface KindOptions {
  width?: number;
  height?: number;
  fps?: number;
  durationMs?: number;
  /** Side of the face squares, px (min, max). */
  sizePx?: [number, number];
  /** Shortest time an expression is held, ms. */
  minHoldMs?: number;
}

/** `n` distinct subjects (a person is one identity), drawn with `rnd`. */
function drawSubjects(rnd: () => number, subjects: Map<string, Map<Emotion, string[]>>, n: number, what: string): string[] {
  if (subjects.size < n) throw new Error(`the catalogue has ${subjects.size} subjects with two or more expressions; the ${what} scene needs ${n}`);
  const names = [...subjects.keys()];
  const chosen: string[] = [];
  while (chosen.length < n) {
    const s = pick(rnd, names);
    if (!chosen.includes(s)) chosen.push(s);
  }
  return chosen;
}

/** Shared set-up of the kind generators: sizes, the frame grid, clamping into the frame. */
function setUp(o: KindOptions, defaults: { durationMs: number; sizePx: [number, number] }) {
  const width = o.width ?? 1280;
  const height = o.height ?? 720;
  const fps = o.fps ?? 10;
  const durationMs = o.durationMs ?? defaults.durationMs;
  const frameMs = 1000 / fps;
  const snap = (t: number) => Math.round(t / frameMs) * frameMs;
  const inside = (size: number) => ({
    x: (x: number) => Math.min(width - size / 2 - 4, Math.max(size / 2 + 4, x)),
    y: (y: number) => Math.min(height - size / 2 - 4, Math.max(size / 2 + 4, y)),
  });
  return { width, height, fps, durationMs, snap, inside, sizePx: o.sizePx ?? defaults.sizePx, minHoldMs: o.minHoldMs ?? 3_000 };
}

const evenSize = (x: number) => Math.max(2, Math.round(x / 2) * 2);

/** A kind's face builder: a face of `subject` present in [enterMs, leaveMs), its expressions drawn with `rnd` as it is built. */
function faceMaker(rnd: () => number, subjects: Map<string, Map<Emotion, string[]>>, k: { minHoldMs: number; snap: (t: number) => number }) {
  return (id: string, subject: string, size: number, enterMs: number, leaveMs: number, z: number, path: Waypoint[], returnOf?: string): SceneFace => ({
    id, subject, sizePx: size, enterMs, leaveMs, z, path,
    expressions: expressionsFor(rnd, subjects.get(subject)!, enterMs, leaveMs, k.minHoldMs, k.snap),
    ...(returnOf ? { returnOf } : {}),
  });
}

/**
 * Hard cuts. Three shots of equal length (faces of 170-230 px, as in `basic`, so that the
 * detector finds them): shot 1 shows subjects a0-a2 in a lower row over one background; at the
 * first cut the background and every face change at once: b0 appears on the
 * very spot (centre and size) where a0 was in the frame before the cut (what a tracker without
 * cut detection continues as a0), b1 and b2 in an upper row; at the second cut the picture
 * returns to shot 1's background and people (a0-a2 again, returns of the first appearances,
 * near their first places), as in a shot / reverse shot.
 */
export function generateCutScene(seed: number, catalogue: readonly FaceAsset[], o: KindOptions = {}): Scene {
  const rnd = prng(seed);
  const k = setUp(o, { durationMs: 24_000, sizePx: [170, 230] });
  const subjects = subjectsOf(catalogue, 2);
  const [a0, a1, a2, b0, b1, b2] = drawSubjects(rnd, subjects, 6, 'cut');
  const cut1 = k.snap(k.durationMs / 3);
  const cut2 = k.snap((2 * k.durationMs) / 3);
  const frameMs = 1000 / k.fps;
  const face = faceMaker(rnd, subjects, k);
  // A face wandering +-30 px about (x, y) within [from, to).
  const wander = (size: number, x: number, y: number, from: number, to: number): Waypoint[] => {
    const c = k.inside(size);
    const pts: Waypoint[] = [{ tMs: from, x: c.x(x), y: c.y(y) }];
    pts.push({ tMs: (from + to) / 2, x: c.x(x + between(rnd, -30, 30)), y: c.y(y + between(rnd, -30, 30)) });
    pts.push({ tMs: to, x: c.x(x + between(rnd, -30, 30)), y: c.y(y + between(rnd, -30, 30)) });
    return pts;
  };
  const lane = (i: number) => ((i + 0.5) / 3) * k.width;
  const size = () => evenSize(between(rnd, k.sizePx[0], k.sizePx[1]));
  const lowY = () => between(rnd, 0.6, 0.68) * k.height;
  const highY = 0.24 * k.height;
  const faces: SceneFace[] = [];
  // Shot 1.
  const shot1 = [a0, a1, a2].map((subject, i) => {
    const f = face(`a${i}`, subject, size(), 0, cut1, i, []);
    f.path = wander(f.sizePx, lane(i) + between(rnd, -30, 30), lowY(), 0, cut1);
    return f;
  });
  faces.push(...shot1);
  // Shot 2: b0 on a0's spot of the frame before the cut, held for a second, then wandering.
  const last = positionAt(shot1[0], cut1 - frameMs);
  const b0Face = face('b0', b0, shot1[0].sizePx, cut1, cut2, 3, [
    { tMs: cut1, x: last.x, y: last.y }, { tMs: cut1 + 1_000, x: last.x, y: last.y },
    ...wander(shot1[0].sizePx, last.x, last.y, cut1 + 1_000, cut2).slice(1),
  ]);
  const b1Face = face('b1', b1, size(), cut1, cut2, 4, []);
  b1Face.path = wander(b1Face.sizePx, 0.45 * k.width, highY, cut1, cut2);
  const b2Face = face('b2', b2, size(), cut1, cut2, 5, []);
  b2Face.path = wander(b2Face.sizePx, 0.8 * k.width, highY, cut1, cut2);
  faces.push(b0Face, b1Face, b2Face);
  // Shot 3: back to shot 1's people, near their first places, 85-100% of their first size.
  shot1.forEach((f, i) => {
    const r = face(`a${i}r`, f.subject, evenSize(f.sizePx * between(rnd, 0.85, 1)), cut2, k.durationMs, 6 + i, [], f.id);
    r.path = wander(r.sizePx, f.path[0].x + between(rnd, -40, 40), f.path[0].y + between(rnd, -20, 20), cut2, k.durationMs);
    faces.push(r);
  });
  const bg = seed * 7919 + 1;
  return {
    name: `cut-${seed}`, kind: 'cut', seed, width: k.width, height: k.height, fps: k.fps, durationMs: k.durationMs,
    backgroundSeed: bg, cuts: [{ atMs: cut1, backgroundSeed: bg + 1 }, { atMs: cut2, backgroundSeed: bg }], faces,
  };
}

/**
 * Exits and returns. A stayer (s) in the middle of a lower row the whole scene; r1 walks off the
 * left edge at 4-6 s and r2 off the right edge at 10-12 s, each away 2-6 s, then comes back
 * elsewhere (the upper row, in from the other edge) at 0.6-0.8x their size; a newcomer (n), a
 * subject never seen before, comes in from the top at 6.5-9.5 s at the returners' size (who
 * must not get a returner's id). Exits and entries take 1 s; nobody crosses anybody. Faces are
 * 200-250 px at first, so that the returns (120-200 px) stay mostly within the detector's reach
 * (BlazeFace at its 256 px input finds few faces under ~110 px high in a 1280x720 frame).
 */
export function generateReturnScene(seed: number, catalogue: readonly FaceAsset[], o: KindOptions = {}): Scene {
  const rnd = prng(seed);
  const k = setUp(o, { durationMs: 24_000, sizePx: [200, 250] });
  const subjects = subjectsOf(catalogue, 2);
  const [sSub, r1Sub, r2Sub, nSub] = drawSubjects(rnd, subjects, 4, 'return');
  const lane = (i: number) => ((i + 0.5) / 3) * k.width;
  const lowY = 0.66 * k.height;
  const highY = 0.22 * k.height;
  const face = faceMaker(rnd, subjects, k);
  const size = () => evenSize(between(rnd, k.sizePx[0], k.sizePx[1]));
  const jitter = (p: { x: number; y: number }, sz: number, d: number) => {
    const c = k.inside(sz);
    return { x: c.x(p.x + between(rnd, -d, d)), y: c.y(p.y + between(rnd, -d, d)) };
  };
  // Walks from `at` (reached at `from`) about its spot until `to`.
  const stay = (sz: number, at: { x: number; y: number }, from: number, to: number): Waypoint[] => {
    const m = jitter(at, sz, 25);
    return [{ tMs: from, ...at }, { tMs: (from + to) / 2, ...m }, { tMs: to, ...jitter(at, sz, 25) }];
  };
  const faces: SceneFace[] = [];
  // The stayer.
  const sSize = size();
  faces.push(face('s', sSub, sSize, 0, k.durationMs, 0, stay(sSize, jitter({ x: lane(1), y: lowY }, sSize, 20), 0, k.durationMs)));
  // A leaver: about its lane until exitMs, then 1 s to just outside the frame edge `side`.
  const leaver = (id: string, subject: string, i: number, side: 'left' | 'right', exitMs: number, z: number) => {
    const sz = size();
    const home = jitter({ x: lane(i), y: lowY }, sz, 20);
    const leaveMs = k.snap(exitMs + 1_000);
    const outX = side === 'left' ? -sz / 2 - 2 : k.width + sz / 2 + 2;
    const f = face(id, subject, sz, 0, leaveMs, z, [...stay(sz, home, 0, exitMs), { tMs: leaveMs, x: outX, y: home.y }]);
    faces.push(f);
    return f;
  };
  // An entrant: from just outside an edge, 1 s to its slot in the upper row, then about it.
  const entrant = (id: string, subject: string, sz: number, from: 'left' | 'right' | 'top', slotX: number, enterMs: number, z: number, returnOf?: string) => {
    const slot = jitter({ x: slotX, y: highY }, sz, 15);
    const start = from === 'left' ? { x: -sz / 2 - 2, y: slot.y } : from === 'right' ? { x: k.width + sz / 2 + 2, y: slot.y } : { x: slot.x, y: -sz / 2 - 2 };
    const f = face(id, subject, sz, enterMs, k.durationMs, z, [{ tMs: enterMs, ...start }, ...stay(sz, slot, enterMs + 1_000, k.durationMs)], returnOf);
    faces.push(f);
    return f;
  };
  const r1 = leaver('r1', r1Sub, 0, 'left', k.snap(between(rnd, 4_000, 6_000)), 1);
  const r2 = leaver('r2', r2Sub, 2, 'right', k.snap(between(rnd, 10_000, 12_000)), 2);
  const nSize = evenSize(size() * between(rnd, 0.6, 0.8));
  entrant('n', nSub, nSize, 'top', 0.5 * k.width, k.snap(between(rnd, 6_500, 9_500)), 3);
  entrant('r1r', r1Sub, evenSize(r1.sizePx * between(rnd, 0.6, 0.8)), 'right', 0.8 * k.width, k.snap(r1.leaveMs + between(rnd, 2_000, 6_000)), 4, 'r1');
  entrant('r2r', r2Sub, evenSize(r2.sizePx * between(rnd, 0.6, 0.8)), 'left', 0.2 * k.width, k.snap(r2.leaveMs + between(rnd, 2_000, 6_000)), 5, 'r2');
  return {
    name: `return-${seed}`, kind: 'return', seed, width: k.width, height: k.height, fps: k.fps, durationMs: k.durationMs,
    backgroundSeed: seed * 7919 + 1, faces,
  };
}

/**
 * A crowd: 8-15 faces of 20-60 px (world px; the zoom makes them up to 25% bigger), one per cell
 * of a jittered 5x3 grid over the middle of the picture, each wandering a little, under a slow
 * zoom (1 to 1.25 over the scene) and pan (to the right and up); every face stays inside the
 * view and none overlaps another.
 */
export function generateCrowdScene(seed: number, catalogue: readonly FaceAsset[], o: KindOptions & { faces?: number; zoomTo?: number } = {}): Scene {
  const rnd = prng(seed);
  const k = setUp(o, { durationMs: 15_000, sizePx: [20, 60] });
  const n = o.faces ?? 8 + Math.floor(rnd() * 8);
  if (n > 15) throw new Error(`a crowd scene has at most 15 faces (one per grid cell); asked for ${n}`);
  const subjects = subjectsOf(catalogue, 2);
  const chosen = drawSubjects(rnd, subjects, n, 'crowd');
  // The cells (5 x 3) over world x 300..1200, y 90..560 (of a 1280x720 world: inside the final
  // view for zoomTo 1.25 with the pan below), taken in a seeded order.
  const sx = k.width / 1280;
  const sy = k.height / 720;
  const cells = Array.from({ length: 15 }, (_, c) => ({ col: c % 5, row: Math.floor(c / 5) }));
  for (let i = cells.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [cells[i], cells[j]] = [cells[j], cells[i]];
  }
  const cellW = (900 * sx) / 5;
  const cellH = (470 * sy) / 3;
  const faces: SceneFace[] = chosen.map((subject, i) => {
    const sz = Math.round(between(rnd, k.sizePx[0], k.sizePx[1]));
    const cell = cells[i];
    const cx = 300 * sx + (cell.col + 0.5) * cellW + between(rnd, -0.15, 0.15) * cellW;
    const cy = 90 * sy + (cell.row + 0.5) * cellH + between(rnd, -0.12, 0.12) * cellH;
    const enterMs = 0;
    const leaveMs = k.durationMs;
    const path: Waypoint[] = [0, 1, 2, 3].map((q) => ({
      tMs: (q * k.durationMs) / 3,
      x: q === 0 ? cx : cx + between(rnd, -12, 12) * sx,
      y: q === 0 ? cy : cy + between(rnd, -10, 10) * sy,
    }));
    return { id: `c${i}`, subject, sizePx: sz, enterMs, leaveMs, z: i, path, expressions: expressionsFor(rnd, subjects.get(subject)!, enterMs, leaveMs, k.minHoldMs, k.snap) };
  });
  const zoomTo = o.zoomTo ?? 1.25;
  return {
    name: `crowd-${seed}`, kind: 'crowd', seed, width: k.width, height: k.height, fps: k.fps, durationMs: k.durationMs,
    backgroundSeed: seed * 7919 + 1, faces,
    view: [
      { tMs: 0, cx: k.width / 2, cy: k.height / 2, zoom: 1 },
      { tMs: k.durationMs, cx: k.width / 2 + 0.09 * k.width * ((zoomTo - 1) / 0.25), cy: k.height / 2 - 0.05 * k.height * ((zoomTo - 1) / 0.25), zoom: zoomTo },
    ],
  };
}

/**
 * A change of shot size across cuts, as film cuts from a wide shot to a close-up and back. Four
 * shots of equal length: a wide shot of w0-w2 (faces of 50-70 px in a row), a close-up of one
 * of them (190-240 px, in the middle: a return across a cut at 3-4 times the size), a close-up of
 * a stranger (x, who must get no one's id), and the wide shot again (every one of w0-w2 back,
 * near their first places, at their first sizes). Shots 1 and 4 share a background.
 */
export function generateReframeScene(seed: number, catalogue: readonly FaceAsset[], o: KindOptions = {}): Scene {
  const rnd = prng(seed);
  const k = setUp(o, { durationMs: 24_000, sizePx: [50, 70] });
  const subjects = subjectsOf(catalogue, 2);
  const [w0, w1, w2, x] = drawSubjects(rnd, subjects, 4, 'reframe');
  const cuts = [1, 2, 3].map((i) => k.snap((i * k.durationMs) / 4));
  const face = faceMaker(rnd, subjects, k);
  // About (x, y) within [from, to), a few px each way (a face in a wide shot barely moves on screen).
  const about = (size: number, px: number, py: number, from: number, to: number, d: number): Waypoint[] => {
    const c = k.inside(size);
    return [from, (from + to) / 2, to].map((tMs, i) => ({ tMs, x: c.x(px + (i ? between(rnd, -d, d) : 0)), y: c.y(py + (i ? between(rnd, -d, d) : 0)) }));
  };
  const wide = [w0, w1, w2].map((subject, i) => {
    const size = evenSize(between(rnd, k.sizePx[0], k.sizePx[1]));
    const at = { x: ((i + 0.5) / 3) * k.width + between(rnd, -60, 60), y: between(rnd, 0.4, 0.55) * k.height };
    return face(`w${i}`, subject, size, 0, cuts[0], i, about(size, at.x, at.y, 0, cuts[0], 6));
  });
  const closeSize = () => evenSize(between(rnd, 190, 240));
  const pickedIndex = Math.floor(rnd() * 3);
  const picked = wide[pickedIndex];
  const closeUp = (id: string, subject: string, from: number, to: number, z: number, returnOf?: string) => {
    const size = closeSize();
    return face(id, subject, size, from, to, z, about(size, k.width / 2 + between(rnd, -80, 80), k.height * 0.45, from, to, 30), returnOf);
  };
  const pickedClose = closeUp(`${picked.id}c`, picked.subject, cuts[0], cuts[1], 3, picked.id);
  const stranger = closeUp('x', x, cuts[1], cuts[2], 4);
  const back = wide.map((f, i) => {
    const start = f.path[0];
    return face(`${f.id}r`, f.subject, f.sizePx, cuts[2], k.durationMs, 5 + i, about(f.sizePx, start.x + between(rnd, -20, 20), start.y, cuts[2], k.durationMs, 6), i === pickedIndex ? pickedClose.id : f.id);
  });
  const bg = seed * 7919 + 1;
  return {
    name: `reframe-${seed}`, kind: 'reframe', seed, width: k.width, height: k.height, fps: k.fps, durationMs: k.durationMs,
    backgroundSeed: bg,
    cuts: [{ atMs: cuts[0], backgroundSeed: bg + 1 }, { atMs: cuts[1], backgroundSeed: bg + 2 }, { atMs: cuts[2], backgroundSeed: bg }],
    faces: [...wide, pickedClose, stranger, ...back],
  };
}
