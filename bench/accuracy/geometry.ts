/**
 * Where the labelled faces go in the synthetic frames of the through-the-pipeline measurement:
 * face sizes, non-overlapping random positions, in-plane roll, and the slight head motion of a
 * short clip. Pure and seeded: the same generator state gives the same layout on every machine.
 */
import type { Box } from '@emostream/contracts';

/** A uniform [0, 1) generator (mulberry32 from @emostream/runtime in the bench). */
export type Rng = () => number;

/**
 * One placed face: the 48x48 FER-2013 image scaled to a `side` x `side` patch whose unrotated
 * top-left corner is (x, y), rotated by `rollDeg` (clockwise on screen) about its centre. The
 * patch is FER-2013's own framing (forehead to chin, some hair), so its square is the truth box.
 */
export interface PlacedFace {
  x: number;
  y: number;
  side: number;
  rollDeg: number;
}

/** How faces are laid out in a frame. */
export interface PlacementOptions {
  width: number;
  height: number;
  /** Smallest and largest patch side, px (drawn log-uniformly between them). */
  minSidePx: number;
  maxSidePx: number;
  /** Largest in-plane roll, degrees (drawn uniformly in ±maxRollDeg). */
  maxRollDeg: number;
  /** Empty space kept between two faces' rotated extents, as a fraction of the larger side. */
  gapFraction: number;
  /** Least distance of a face's rotated extent from the frame edge, px. */
  edgePx: number;
}

/** The measurement's layout: 1280x720, faces 40-200 px, roll within ±12°, half a face apart. */
export const DEFAULT_PLACEMENT: PlacementOptions = {
  width: 1280, height: 720, minSidePx: 40, maxSidePx: 200, maxRollDeg: 12, gapFraction: 0.5, edgePx: 8,
};

/** A side drawn log-uniformly in [min, max], rounded to whole pixels (small faces as likely per octave as large ones). */
export function drawSide(rng: Rng, minPx: number, maxPx: number): number {
  return Math.round(Math.exp(Math.log(minPx) + rng() * (Math.log(maxPx) - Math.log(minPx))));
}

/** Side of the axis-aligned square that holds a `side` square rotated by `rollDeg`. */
export function rotatedExtent(side: number, rollDeg: number): number {
  const a = (Math.abs(rollDeg) * Math.PI) / 180;
  return side * (Math.abs(Math.cos(a)) + Math.abs(Math.sin(a)));
}

/** The truth box of a placed face: its unrotated patch square. */
export function patchBox(p: PlacedFace): Box {
  return { x: p.x, y: p.y, width: p.side, height: p.side };
}

/** Centre of a placed face, px. */
export function centreOf(p: PlacedFace): [number, number] {
  return [p.x + p.side / 2, p.y + p.side / 2];
}

/** The axis-aligned square a placed face's rotated patch covers: centre ± extent / 2. */
function footprint(p: PlacedFace): Box {
  const e = rotatedExtent(p.side, p.rollDeg);
  const [cx, cy] = centreOf(p);
  return { x: cx - e / 2, y: cy - e / 2, width: e, height: e };
}

function apart(a: PlacedFace, b: PlacedFace, gapFraction: number): boolean {
  const fa = footprint(a), fb = footprint(b);
  const gap = gapFraction * Math.max(a.side, b.side);
  return fa.x + fa.width + gap <= fb.x || fb.x + fb.width + gap <= fa.x
    || fa.y + fa.height + gap <= fb.y || fb.y + fb.height + gap <= fa.y;
}

/**
 * `n` faces at random positions in the frame, each wholly inside it (rotated extent at least
 * `edgePx` from every edge) and apart from the others by `gapFraction` of the larger side, so that
 * even a loose crop of one never shows another. Sizes log-uniform in [minSidePx, maxSidePx], roll
 * uniform in ±maxRollDeg. Draws, per face: side, roll, then positions until one fits (at most 500
 * tries, then a new side and roll: a crowded frame gets smaller faces rather than an error).
 */
export function placeFaces(rng: Rng, n: number, o: PlacementOptions = DEFAULT_PLACEMENT): PlacedFace[] {
  const out: PlacedFace[] = [];
  for (let k = 0; k < n; k++) {
    let placed: PlacedFace | undefined;
    for (let attempt = 0; attempt < 20 && !placed; attempt++) {
      const side = drawSide(rng, o.minSidePx, o.maxSidePx);
      const rollDeg = (rng() * 2 - 1) * o.maxRollDeg;
      const e = rotatedExtent(side, rollDeg);
      const span = (frame: number) => frame - 2 * o.edgePx - e;
      if (span(o.width) < 0 || span(o.height) < 0) continue;
      for (let t = 0; t < 500; t++) {
        // Centre drawn so that the rotated extent stays edgePx inside the frame.
        const cx = o.edgePx + e / 2 + rng() * span(o.width);
        const cy = o.edgePx + e / 2 + rng() * span(o.height);
        const cand: PlacedFace = { x: Math.round(cx - side / 2), y: Math.round(cy - side / 2), side, rollDeg };
        if (out.every((f) => apart(f, cand, o.gapFraction))) { placed = cand; break; }
      }
    }
    if (!placed) throw new Error(`placeFaces: no room for face ${k + 1} of ${n} in ${o.width}x${o.height}`);
    out.push(placed);
  }
  return out;
}

/** The slight head motion of a clip. */
export interface MotionOptions {
  /** Largest drift of the centre over the clip, as a fraction of the side (each axis). */
  driftFraction: number;
  /** Per-frame jitter of the centre, fraction of the side (uniform ±). */
  jitterFraction: number;
  /** Scale change over the clip (uniform ±) and per-frame scale jitter (uniform ±). */
  scaleDrift: number;
  scaleJitter: number;
  /** Per-frame roll jitter, degrees (uniform ±), around a slow roll drift of the same size. */
  rollJitterDeg: number;
  /** Frame size: poses are kept inside it. */
  width: number;
  height: number;
}

/** A person moving a little: ±8% drift, ±1.5% jitter, ±6% scale drift, ±2% scale jitter, ±2° roll. */
export const DEFAULT_MOTION: MotionOptions = {
  driftFraction: 0.08, jitterFraction: 0.015, scaleDrift: 0.06, scaleJitter: 0.02, rollJitterDeg: 2, width: 1280, height: 720,
};

/**
 * Poses of one face over `frames` frames: from `base`, a linear drift of the centre and scale
 * (their end points drawn once), a slow roll drift, and small per-frame jitter on each. The
 * centre is kept so that the patch stays inside the frame. Frame 0 is the base pose drawn with
 * its jitter.
 */
export function clipPoses(rng: Rng, base: PlacedFace, frames: number, m: MotionOptions = DEFAULT_MOTION): PlacedFace[] {
  const [bx, by] = centreOf(base);
  const dx = (rng() * 2 - 1) * m.driftFraction * base.side;
  const dy = (rng() * 2 - 1) * m.driftFraction * base.side;
  const ds = (rng() * 2 - 1) * m.scaleDrift;
  const dr = (rng() * 2 - 1) * m.rollJitterDeg;
  const out: PlacedFace[] = [];
  for (let i = 0; i < frames; i++) {
    const u = frames > 1 ? i / (frames - 1) : 0;
    const side = Math.max(8, Math.round(base.side * (1 + ds * u + (rng() * 2 - 1) * m.scaleJitter)));
    const rollDeg = base.rollDeg + dr * u + (rng() * 2 - 1) * m.rollJitterDeg;
    const e = rotatedExtent(side, rollDeg);
    const cx = clamp(bx + dx * u + (rng() * 2 - 1) * m.jitterFraction * base.side, e / 2, m.width - e / 2);
    const cy = clamp(by + dy * u + (rng() * 2 - 1) * m.jitterFraction * base.side, e / 2, m.height - e / 2);
    out.push({ x: Math.round(cx - side / 2), y: Math.round(cy - side / 2), side, rollDeg });
  }
  return out;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, v));
}

/** Size buckets of the report, px of patch side: [from, to). */
export const SIZE_BUCKETS: ReadonlyArray<readonly [number, number]> = [[40, 60], [60, 100], [100, 201]];

/** The bucket label of a side (`40-59`, `60-99`, `100-200`), or `other`. */
export function sizeBucket(side: number): string {
  for (const [a, b] of SIZE_BUCKETS) if (side >= a && side < b) return `${a}-${b - 1}`;
  return 'other';
}
