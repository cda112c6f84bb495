/**
 * The soak's camera: one seeded synthetic scene (the scene generator's model, CK+ faces) where
 * people come and go. Three spots (left, middle, right); each is visited by one person after
 * another: a person walks in from the nearest edge (the middle one from the top) in 1 s, stays
 * 6-20 s wandering a little and changing expression, walks out the same way in 1 s, and after a
 * 2-6 s gap the next one comes. People are drawn from a small pool of subjects, so some come back
 * later (a return of their first appearance), others are seen once. The first and last second
 * are empty, so the clip loops without a jump: looped over RTSP, the same people come again, as
 * regulars do. Pure code: the same seed and catalogue give the same scene.
 */
import { between, expressionsFor, pick, prng, subjectsOf, type FaceAsset, type Scene, type SceneFace } from '../scene/generate.js';

/** Options of {@link generateSoakScene}. */
export interface SoakSceneOptions {
  width?: number;
  height?: number;
  fps?: number;
  durationMs?: number;
  /** Subjects in the pool (people who may come, some more than once). */
  pool?: number;
  /** Side of the face squares, px (min, max). */
  sizePx?: [number, number];
}

/** Generates the soak scene (defaults: 640x360, 10 fps, 90 s, a pool of 8, faces of 90-120 px). */
export function generateSoakScene(seed: number, catalogue: readonly FaceAsset[], o: SoakSceneOptions = {}): Scene {
  const rnd = prng(seed);
  const width = o.width ?? 640;
  const height = o.height ?? 360;
  const fps = o.fps ?? 10;
  const durationMs = o.durationMs ?? 90_000;
  const [minSize, maxSize] = o.sizePx ?? [90, 120];
  const subjects = subjectsOf(catalogue, 2);
  const poolSize = o.pool ?? 8;
  if (subjects.size < poolSize) throw new Error(`the catalogue has ${subjects.size} subjects with two or more expressions; the soak scene needs ${poolSize}`);
  const names = [...subjects.keys()];
  const pool: string[] = [];
  while (pool.length < poolSize) {
    const s = pick(rnd, names);
    if (!pool.includes(s)) pool.push(s);
  }
  const frameMs = 1000 / fps;
  const snap = (t: number) => Math.round(t / frameMs) * frameMs;
  const endBy = durationMs - 1_000;
  // Visits per spot, in time order, planned spot by spot; a subject is never at two spots at once.
  const spots = [
    { x: 0.2 * width, y: 0.55 * height, from: 'left' as const },
    { x: 0.5 * width, y: 0.45 * height, from: 'top' as const },
    { x: 0.8 * width, y: 0.55 * height, from: 'right' as const },
  ];
  const faces: SceneFace[] = [];
  const busy = (subject: string, from: number, to: number) => faces.some((f) => f.subject === subject && f.enterMs < to + 1_000 && from < f.leaveMs + 1_000);
  spots.forEach((spot, s) => {
    let t = snap(1_000 + s * between(rnd, 500, 2_500));
    while (true) {
      const stay = between(rnd, 6_000, 20_000);
      const enterMs = t;
      const leaveMs = snap(enterMs + 1_000 + stay + 1_000);
      if (leaveMs > endBy) break;
      const free = pool.filter((p) => !busy(p, enterMs, leaveMs));
      if (free.length === 0) { t = snap(t + 2_000); continue; }
      const subject = pick(rnd, free);
      const size = Math.round(between(rnd, minSize, maxSize) / 2) * 2;
      const half = size / 2;
      const at = { x: spot.x + between(rnd, -20, 20), y: Math.min(height - half - 4, Math.max(half + 4, spot.y + between(rnd, -15, 15))) };
      const outside = spot.from === 'left' ? { x: -half - 2, y: at.y } : spot.from === 'right' ? { x: width + half + 2, y: at.y } : { x: at.x, y: -half - 2 };
      const face: SceneFace = {
        id: `p${faces.length}`, subject, sizePx: size, enterMs, leaveMs, z: faces.length,
        path: [
          { tMs: enterMs, ...outside },
          { tMs: enterMs + 1_000, ...at },
          { tMs: enterMs + 1_000 + stay / 2, x: at.x + between(rnd, -15, 15), y: at.y + between(rnd, -10, 10) },
          { tMs: leaveMs - 1_000, ...at },
          { tMs: leaveMs, ...outside },
        ],
        expressions: expressionsFor(rnd, subjects.get(subject)!, enterMs, leaveMs, 3_000, snap),
      };
      faces.push(face);
      t = snap(leaveMs + between(rnd, 2_000, 6_000));
    }
  });
  // In time order; a later visit of a subject is a return of its visit before.
  faces.sort((a, b) => a.enterMs - b.enterMs);
  const lastVisit = new Map<string, SceneFace>();
  for (const f of faces) {
    const previous = lastVisit.get(f.subject);
    if (previous) f.returnOf = previous.id;
    lastVisit.set(f.subject, f);
  }
  return { name: `soak-${seed}`, seed, width, height, fps, durationMs, backgroundSeed: seed * 7919 + 1, faces };
}

/** What a soak scene holds: visits, distinct people, returns, most people at once. */
export function describeSoakScene(scene: Scene): { visits: number; people: number; returns: number; maxAtOnce: number } {
  let maxAtOnce = 0;
  for (let t = 0; t < scene.durationMs; t += 1000 / scene.fps) {
    maxAtOnce = Math.max(maxAtOnce, scene.faces.filter((f) => f.enterMs <= t && t < f.leaveMs).length);
  }
  return {
    visits: scene.faces.length,
    people: new Set(scene.faces.map((f) => f.subject)).size,
    returns: scene.faces.filter((f) => f.returnOf).length,
    maxAtOnce,
  };
}
