/**
 * When the tile pass searches which tile, per camera. A tile costs about one full-frame BlazeFace
 * pass, so not every tile of every frame is searched:
 * - the first frame of a camera, the first after a hard cut and the first after the frame size
 *   changed search every tile (a sweep): the picture is new;
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
import { tileGrid, type Tile, type TileGridSpec } from './tiles.js';

/** How many searches in a row must find nothing in a tile before it leaves the plan (until the next sweep). */
export const TILE_HOLD_SEARCHES = 3;

/** The tiles to search on one frame. */
export interface TilePlan {
  tiles: Tile[];
  /** Index of each tile in the camera's grid (row by row). */
  indices: number[];
  /** All tiles of the grid (a sweep: a new picture). */
  sweep: boolean;
}

interface CameraTiles {
  key: string;
  tiles: Tile[];
  /** The next tile of the rolling share. */
  cursor: number;
  /** Tiles that held a face, to search again on the next frames: searches left before one is dropped. */
  occupied: Map<number, number>;
}

/** Per-camera memory of the tile grid and of the tiles that held faces. */
export class TileSchedule {
  private readonly cams = new Map<string, CameraTiles>();
  constructor(private readonly sweepEveryFrames: number) {
    if (!Number.isInteger(sweepEveryFrames) || sweepEveryFrames < 1) throw new Error(`sweepEveryFrames must be a positive integer, got ${sweepEveryFrames}`);
  }

  /** The tiles to search on this frame of `cameraId` (frames of a camera in order); none when `grid` is undefined. */
  plan(cameraId: string, width: number, height: number, grid: TileGridSpec | undefined, sceneCut: boolean): TilePlan {
    if (!grid) {
      this.cams.delete(cameraId);
      return { tiles: [], indices: [], sweep: false };
    }
    const key = `${width}x${height}:${JSON.stringify(grid)}`;
    let cam = this.cams.get(cameraId);
    const sweep = !cam || cam.key !== key || sceneCut;
    if (!cam || cam.key !== key) {
      cam = { key, tiles: tileGrid(width, height, grid), cursor: 0, occupied: new Map() };
      this.cams.set(cameraId, cam);
    }
    if (sweep) {
      cam.cursor = 0;
      return { tiles: cam.tiles, indices: cam.tiles.map((_, i) => i), sweep };
    }
    const n = cam.tiles.length;
    const share = Math.ceil(n / this.sweepEveryFrames);
    const wanted = new Set(cam.occupied.keys());
    for (let k = 0; k < share; k++) wanted.add((cam.cursor + k) % n);
    cam.cursor = (cam.cursor + share) % n;
    const indices = [...wanted].sort((a, b) => a - b);
    return { tiles: indices.map((i) => cam.tiles[i]), indices, sweep };
  }

  /**
   * What the search of this frame's planned tiles found: the grid indices of the tiles that held
   * a face. A tile stays in the plan until {@link TILE_HOLD_SEARCHES} searches in a row find
   * nothing in it (a face the detector misses in one frame is looked for again).
   */
  record(cameraId: string, searched: readonly number[], withFaces: readonly number[]): void {
    const cam = this.cams.get(cameraId);
    if (!cam) return;
    for (const i of searched) {
      const left = (cam.occupied.get(i) ?? 0) - 1;
      if (left > 0) cam.occupied.set(i, left);
      else cam.occupied.delete(i);
    }
    for (const i of withFaces) cam.occupied.set(i, TILE_HOLD_SEARCHES);
  }

  /** Forgets a camera. */
  forget(cameraId: string): void {
    this.cams.delete(cameraId);
  }
}
