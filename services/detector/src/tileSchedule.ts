/**
 * When the tile pass searches which tile, per camera. A tile costs about half a full-frame BlazeFace
 * pass (in a batch with the frame), so not every tile of every frame is searched:
 * - the first frame of a camera, the first after a hard cut and the first after the frame size
 *   changed start a sweep of every tile (the picture is new), spread over `sweepFrames` detected
 *   frames: `ceil(tiles / sweepFrames)` tiles a frame in {@link sweepOrder} (the coarse grid first,
 *   each share spread over the frame), plus the tiles holding faces, and none of the rolling share
 *   until the sweep is done; a new cut restarts it. The whole grid on one frame (26 BlazeFace passes
 *   at 720p one at a time, 0.7-1.4 s on 2 cores; the 53 tiles of today's grids in one batch,
 *   0.65 s) was a latency spike at a camera's start and at every cut: the frames behind it queue
 *   over Kafka (no shedding). Measured on woman2 at 720p, 10 fps, 2 loaded
 *   cores (bench/RESULTS.md, Session 11): the slowest frame of the detector stage 700-934 ms with
 *   the sweep on one frame, 224-296 ms spread over 4; what it costs: the crowd scenes' recall of
 *   faces of 20-39 px 74.6% -> 72.1% (their first frames), all scenes 96.9% -> 96.6%;
 * - every other frame searches a rolling share of the grid (both grids of `auto`),
 *   `ceil(tiles / sweepEveryFrames)` tiles in turn, so that every tile is searched once per `sweepEveryFrames` frames and the cost
 *   is spread evenly over the frames (no frame pays for the whole grid, which would be a latency
 *   spike of the grid's size), plus the tiles in which the last searches found a face.
 * A small face is thus looked for on every frame once found (the tracker needs it in 3 of 5 frames
 * to confirm a person), and a new one is found within `sweepEveryFrames` frames. A scene with no
 * small face pays for `tiles / sweepEveryFrames` tile searches per frame. (Frigate spends its
 * detector the same way: on model-sized regions where motion or tracked objects are, rather than
 * on the whole frame every time.)
 */
import type { Box } from '@emostream/contracts';
import { tileGrid, type Tile, type TileGridSpec } from './tiles.js';

/** How many searches in a row must find nothing in a tile before it leaves the plan (until the next sweep). */
export const TILE_HOLD_SEARCHES = 3;

/**
 * Faces at least this high in the detector's input (the frame letterboxed into 256 px; 150 px of
 * a 720p frame) hold no tile: the full-frame pass finds nearly all of them (97% of faces of 150 px
 * and more on the scene bench, against 61% of 100-149 px).
 */
export const HOLD_BELOW_INPUT_PX = 30;

/** The tiles to search on one frame. */
export interface TilePlan {
  tiles: Tile[];
  /** Index of each tile in the camera's grid (row by row). */
  indices: number[];
  /** This frame searches a share of a sweep (a new picture) rather than the rolling share. */
  sweep: boolean;
  /** Tiles of the sweep still to search after this frame (0 when none is under way). */
  sweepLeft: number;
}

interface CameraTiles {
  key: string;
  width: number;
  height: number;
  tiles: Tile[];
  /** The next tile of the rolling share. */
  cursor: number;
  /** Tiles that held a face, to search again on the next frames: searches left before one is dropped. */
  occupied: Map<number, number>;
  /** The sweep under way: tiles not yet searched since it began, in {@link sweepOrder}. */
  pending: number[];
  /** Tiles a frame of the sweep searches besides the occupied ones. */
  sweepShare: number;
  /** A share left out of the last plan (`deferShare`), for {@link TileSchedule.planShare}: whether it is the rolling one. */
  due?: { rolling: boolean };
}

/** The plan of the tiles `wanted` of a camera's grid, in grid order. */
function planOf(cam: CameraTiles, wanted: ReadonlySet<number>, sweep: boolean): TilePlan {
  const indices = [...wanted].sort((a, b) => a - b);
  return { tiles: indices.map((i) => cam.tiles[i]), indices, sweep, sweepLeft: cam.pending.length };
}

/** `v`, when it is a positive integer; else an error naming `name`. */
function positiveInteger(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
  return v;
}

/** Per-camera memory of the tile grid, of the sweep under way and of the tiles that held faces. */
export class TileSchedule {
  private readonly cams = new Map<string, CameraTiles>();
  /**
   * @param sweepEveryFrames every tile is searched at least once per this many frames (the rolling share).
   * @param sweepFrames a sweep is spread over this many frames (1: the whole grid on one frame).
   */
  constructor(private readonly sweepEveryFrames: number, private readonly sweepFrames = 1) {
    positiveInteger('sweepEveryFrames', sweepEveryFrames);
    positiveInteger('sweepFrames', sweepFrames);
  }

  /**
   * The tiles to search on this frame of `cameraId` (frames of a camera in order); none when `grid`
   * is undefined. `rolling` false: no rolling share on this frame (the detector stage's extra
   * detections between scheduled ones), only the occupied tiles and any sweep under way.
   * `sweepFrames`: a sweep that starts on this frame is spread over this many frames instead of the
   * schedule's own (a live camera's). `deferShare`: only the occupied tiles now; the share of the
   * sweep or of the rolling grid this frame would search is kept for {@link planShare} on the
   * next frame (a live camera's: no frame pays for the full-frame pass and the share together).
   * A share kept so and not taken by the next frame is searched in that frame's plan instead.
   */
  plan(cameraId: string, width: number, height: number, grid: TileGridSpec | undefined, sceneCut: boolean, rolling = true, sweepFrames = this.sweepFrames, deferShare = false): TilePlan {
    if (!grid) {
      this.cams.delete(cameraId);
      return { tiles: [], indices: [], sweep: false, sweepLeft: 0 };
    }
    const key = `${width}x${height}:${JSON.stringify(grid)}`;
    let cam = this.cams.get(cameraId);
    const fresh = !cam || cam.key !== key;
    if (!cam || fresh) {
      const tiles = tileGrid(width, height, grid);
      cam = { key, width, height, tiles, cursor: 0, occupied: new Map(), pending: [], sweepShare: 0 };
      this.cams.set(cameraId, cam);
    }
    if (fresh || sceneCut) {
      // A new picture: the whole grid again, from the start of the sweep order (a cut mid-sweep restarts it).
      cam.pending = sweepOrder(cam.tiles);
      cam.sweepShare = Math.ceil(cam.tiles.length / positiveInteger('sweepFrames', sweepFrames));
      cam.cursor = 0;
    }
    const wanted = new Set(cam.occupied.keys());
    const sweep = cam.pending.length > 0;
    // A share kept for the frame after a detection that was not searched on it: now, with this detection.
    const due = cam.due;
    cam.due = undefined;
    if (deferShare && !due && (sweep || rolling)) cam.due = { rolling };
    else this.takeShare(cam, wanted, rolling || (due?.rolling ?? false));
    return planOf(cam, wanted, sweep);
  }

  /** Whether a share kept by the last plan (`deferShare`) waits for {@link planShare}. */
  shareDue(cameraId: string): boolean {
    return this.cams.get(cameraId)?.due !== undefined;
  }

  /**
   * The share the last plan kept (`deferShare`), alone: the sweep's next tiles or the rolling
   * share, without the occupied tiles (the detection searched those). Empty when none is kept.
   */
  planShare(cameraId: string): TilePlan {
    const cam = this.cams.get(cameraId);
    if (!cam?.due) return { tiles: [], indices: [], sweep: false, sweepLeft: cam?.pending.length ?? 0 };
    const { rolling } = cam.due;
    cam.due = undefined;
    const sweep = cam.pending.length > 0;
    const wanted = new Set<number>();
    this.takeShare(cam, wanted, rolling, cam.occupied);
    return planOf(cam, wanted, sweep);
  }

  /**
   * Adds the sweep's next share (while a sweep is under way) or, with `rolling`, the rolling
   * share to `wanted`, advancing the sweep or the cursor. The tiles in `wanted` or `skip` (the
   * occupied ones, searched with every detection) leave the sweep too; one of them within the
   * share counts as searched.
   */
  private takeShare(cam: CameraTiles, wanted: Set<number>, rolling: boolean, skip: ReadonlyMap<number, unknown> = new Map()): void {
    if (cam.pending.length > 0) {
      // The sweep's next share; an occupied tile searched now leaves the sweep too.
      for (const i of cam.pending.slice(0, cam.sweepShare)) if (!skip.has(i)) wanted.add(i);
      cam.pending = cam.pending.filter((i) => !wanted.has(i) && !skip.has(i));
    } else if (rolling) {
      const n = cam.tiles.length;
      const share = Math.ceil(n / this.sweepEveryFrames);
      for (let k = 0; k < share; k++) wanted.add((cam.cursor + k) % n);
      cam.cursor = (cam.cursor + share) % n;
    }
  }

  /**
   * What this frame's search found: `faces`, the boxes kept (from the full frame or any tile) that
   * may hold a tile (the detector stage leaves out a face the full-frame pass placed and scored
   * above `tilesReleaseScore`). Each face under {@link HOLD_BELOW_INPUT_PX} holds the tile that best holds it
   * ({@link holdingTile}), searched on the next frames whichever pass found the face; a tile
   * stays in the plan until {@link TILE_HOLD_SEARCHES} searches in a row hold no face (a face the
   * detector misses in one frame is looked for again).
   */
  record(cameraId: string, searched: readonly number[], faces: readonly Box[]): void {
    const cam = this.cams.get(cameraId);
    if (!cam) return;
    for (const i of searched) {
      const left = (cam.occupied.get(i) ?? 0) - 1;
      if (left > 0) cam.occupied.set(i, left);
      else cam.occupied.delete(i);
    }
    const holdBelowPx = (HOLD_BELOW_INPUT_PX * Math.max(cam.width, cam.height)) / 256;
    for (const box of faces) {
      if (box.height >= holdBelowPx) continue;
      const i = holdingTile(cam.tiles, box, cam.width, cam.height);
      if (i !== undefined) cam.occupied.set(i, TILE_HOLD_SEARCHES);
    }
  }

  /** Forgets a camera. */
  forget(cameraId: string): void {
    this.cams.delete(cameraId);
  }
}

/**
 * The tile that best holds a face: the smallest tile (the most magnified: a tile of the finer
 * grid for a small face) that holds the box whole with a tenth of its side around it, else the
 * one that holds most of it. A face found at a tile's edge, cut, thus holds the tile in which it
 * is whole, and is found whole there on the next frame.
 */
export function holdingTile(tiles: readonly Tile[], box: Box, frameWidth: number, frameHeight: number): number | undefined {
  const m = 0.1 * Math.max(box.width, box.height);
  const x0 = Math.max(0, box.x - m), y0 = Math.max(0, box.y - m);
  const x1 = Math.min(frameWidth, box.x + box.width + m), y1 = Math.min(frameHeight, box.y + box.height + m);
  let best: number | undefined;
  let bestHeld = 0;
  let bestArea = Infinity;
  tiles.forEach((t, i) => {
    const whole = t.x <= x0 + 0.5 && t.y <= y0 + 0.5 && t.x + t.width >= x1 - 0.5 && t.y + t.height >= y1 - 0.5;
    const ix = Math.max(0, Math.min(t.x + t.width, box.x + box.width) - Math.max(t.x, box.x));
    const iy = Math.max(0, Math.min(t.y + t.height, box.y + box.height) - Math.max(t.y, box.y));
    // Whole tiles first (2), then the share of the box held (0..1); among equals, the smaller tile.
    const held = whole ? 2 : (ix * iy) / Math.max(1, box.width * box.height);
    const area = t.width * t.height;
    if (held > bestHeld || (held === bestHeld && held > 0 && area < bestArea)) { best = i; bestHeld = held; bestArea = area; }
  });
  return best;
}

/**
 * The order in which a sweep searches the tiles: the larger tiles first (the coarse grid of
 * `auto`: it finds the faces of 40-150 px, most of the faces the full-frame pass misses, and covers
 * the frame in fewer tiles), then each size's tiles so that every share of the sweep covers the
 * frame evenly: the tile nearest the frame's centre, then each time the tile farthest from those
 * of its size already taken (farthest-point order; ties: the lower index).
 */
export function sweepOrder(tiles: readonly Tile[]): number[] {
  const centre = (t: Tile) => [t.x + t.width / 2, t.y + t.height / 2] as const;
  const bySize = new Map<number, number[]>();
  tiles.forEach((t, i) => {
    const area = Math.round(t.width * t.height);
    bySize.set(area, [...(bySize.get(area) ?? []), i]);
  });
  const order: number[] = [];
  for (const area of [...bySize.keys()].sort((a, b) => b - a)) {
    const left = bySize.get(area)!;
    const xs = left.map((i) => centre(tiles[i]));
    const mid = [Math.max(...tiles.map((t) => t.x + t.width)) / 2, Math.max(...tiles.map((t) => t.y + t.height)) / 2];
    const d2 = (a: readonly number[], b: readonly number[]) => (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2;
    // Distance of each tile to the nearest one taken (to the frame's centre before the first: taken nearest).
    const near = xs.map((c) => -d2(c, mid));
    const taken = new Set<number>();
    while (taken.size < left.length) {
      let best = -1;
      for (let k = 0; k < left.length; k++) if (!taken.has(k) && (best < 0 || near[k] > near[best])) best = k;
      taken.add(best);
      order.push(left[best]);
      for (let k = 0; k < left.length; k++) near[k] = taken.size === 1 ? d2(xs[k], xs[best]) : Math.min(near[k], d2(xs[k], xs[best]));
    }
  }
  return order;
}
