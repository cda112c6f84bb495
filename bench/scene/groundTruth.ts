/**
 * What a generated scene shows at a media time: where each face is, which expression it shows,
 * which shot and background, the ground truth the scorer compares the pipeline with.
 */
import type { Box } from '@emostream/contracts';
import { iou } from '@emostream/aggregator';
import type { ExpressionChange, ExpressionSpan, GroundTruthFace, Scene, SceneFace, ViewKey } from './generate.js';

/** Number of frames of a scene's video. */
export function frameCount(scene: Scene): number {
  return Math.round((scene.durationMs * scene.fps) / 1000);
}

/** Media time of frame `i`, ms. */
export function frameTimeMs(scene: Scene, i: number): number {
  return (i * 1000) / scene.fps;
}

/** A face's centre at time t (linear between waypoints, held before the first and after the last). */
export function positionAt(face: SceneFace, tMs: number): { x: number; y: number } {
  const p = face.path;
  if (tMs <= p[0].tMs) return { x: p[0].x, y: p[0].y };
  for (let k = 1; k < p.length; k++) {
    if (tMs <= p[k].tMs) {
      const a = p[k - 1];
      const b = p[k];
      const u = b.tMs === a.tMs ? 1 : (tMs - a.tMs) / (b.tMs - a.tMs);
      return { x: a.x + u * (b.x - a.x), y: a.y + u * (b.y - a.y) };
    }
  }
  const l = p[p.length - 1];
  return { x: l.x, y: l.y };
}

/** The expression span in force at time t. */
export function expressionAt(face: SceneFace, tMs: number): ExpressionSpan {
  let cur = face.expressions[0];
  for (const s of face.expressions) if (s.startMs <= tMs) cur = s;
  return cur;
}

/** A face's square at time t, in frame pixels (integer corner, so rendering and truth agree). */
export function boxAt(face: SceneFace, tMs: number): Box {
  const c = positionAt(face, tMs);
  return { x: Math.round(c.x - face.sizePx / 2), y: Math.round(c.y - face.sizePx / 2), width: face.sizePx, height: face.sizePx };
}

/** The camera's view at time t (linear between keys; the still, unzoomed frame without keys). */
export function viewAt(scene: Scene, tMs: number): ViewKey {
  const v = scene.view;
  if (!v || v.length === 0) return { tMs, cx: scene.width / 2, cy: scene.height / 2, zoom: 1 };
  if (tMs <= v[0].tMs) return { ...v[0], tMs };
  for (let k = 1; k < v.length; k++) {
    if (tMs <= v[k].tMs) {
      const a = v[k - 1];
      const b = v[k];
      const u = b.tMs === a.tMs ? 1 : (tMs - a.tMs) / (b.tMs - a.tMs);
      return { tMs, cx: a.cx + u * (b.cx - a.cx), cy: a.cy + u * (b.cy - a.cy), zoom: a.zoom + u * (b.zoom - a.zoom) };
    }
  }
  return { ...v[v.length - 1], tMs };
}

/**
 * A face's square at time t in frame pixels: {@link boxAt} under the scene's view (the same box
 * as boxAt when the scene has no view).
 */
export function boxInFrame(scene: Scene, face: SceneFace, tMs: number): Box {
  if (!scene.view) return boxAt(face, tMs);
  const v = viewAt(scene, tMs);
  const c = positionAt(face, tMs);
  const x = (c.x - (v.cx - scene.width / (2 * v.zoom))) * v.zoom;
  const y = (c.y - (v.cy - scene.height / (2 * v.zoom))) * v.zoom;
  const size = Math.max(2, Math.round(face.sizePx * v.zoom));
  return { x: Math.round(x - size / 2), y: Math.round(y - size / 2), width: size, height: size };
}

/** The person a face is: its own id, or the first appearance's when it is a return. */
export function personOf(scene: Scene, faceId: string): string {
  let id = faceId;
  for (let hops = 0; hops < scene.faces.length; hops++) {
    const f = scene.faces.find((x) => x.id === id);
    if (!f?.returnOf) return id;
    id = f.returnOf;
  }
  return id;
}

/** The background seed in force at time t (the last cut at or before t, else the scene's). */
export function backgroundSeedAt(scene: Scene, tMs: number): number {
  let seed = scene.backgroundSeed;
  for (const c of scene.cuts ?? []) if (c.atMs <= tMs) seed = c.backgroundSeed;
  return seed;
}

// Visibility is sampled on a grid of this many points per side: 1/400 resolution is finer than
// any threshold we score with.
const GRID = 20;

/**
 * The ground truth of the frame at time t: the faces present, bottom to top (drawing order),
 * each with its box, expression and visible fraction.
 */
export function groundTruthAt(scene: Scene, tMs: number): GroundTruthFace[] {
  const present = scene.faces.filter((f) => f.enterMs <= tMs && tMs < f.leaveMs).sort((a, b) => a.z - b.z);
  const boxes = present.map((f) => boxInFrame(scene, f, tMs));
  return present.map((f, i) => {
    const b = boxes[i];
    let visible = 0;
    for (let gy = 0; gy < GRID; gy++) {
      for (let gx = 0; gx < GRID; gx++) {
        const x = b.x + ((gx + 0.5) * b.width) / GRID;
        const y = b.y + ((gy + 0.5) * b.height) / GRID;
        if (x < 0 || y < 0 || x >= scene.width || y >= scene.height) continue;
        const covered = boxes.some((o, j) => j > i && x >= o.x && x < o.x + o.width && y >= o.y && y < o.y + o.height);
        if (!covered) visible++;
      }
    }
    const e = expressionAt(f, tMs);
    return {
      faceId: f.id, person: f.returnOf ? personOf(scene, f.id) : f.id, subject: f.subject, box: b,
      emotion: e.emotion, image: e.image, z: f.z, visibleFraction: visible / (GRID * GRID),
    };
  });
}

/** Every expression change of the scene, in time order. */
export function expressionChanges(scene: Scene): ExpressionChange[] {
  const out: ExpressionChange[] = [];
  for (const f of scene.faces) {
    for (let k = 1; k < f.expressions.length; k++) {
      out.push({ faceId: f.id, atMs: f.expressions[k].startMs, from: f.expressions[k - 1].emotion, to: f.expressions[k].emotion });
    }
  }
  return out.sort((a, b) => a.atMs - b.atMs || a.faceId.localeCompare(b.faceId));
}

/** Intersection over union of two boxes (the tracker's own). */
export const boxIou: (a: Box, b: Box) => number = iou;
