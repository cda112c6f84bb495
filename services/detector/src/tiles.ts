/**
 * A second detection pass on overlapping tiles, for faces too small for the full-frame pass.
 *
 * BlazeFace sees the whole frame letterboxed into its 256 px input: a 1280x720 frame shrinks 5x,
 * so a 50 px face becomes 10 px and is not found (it needs about 22 px of its input). Cutting the
 * frame into overlapping tiles and letterboxing each tile into the same input magnifies every
 * face by frame side / tile side. As in sliced inference (SAHI: slices with 20-25% overlap, a
 * full-image pass kept beside them, duplicates merged on intersection over the smaller box),
 * the tile boxes are mapped back to frame pixels and merged with the full-frame pass, so large
 * faces keep the full-frame box and small ones gain the tile box. Pure geometry and merging here;
 * {@link detectTiled} runs any {@link FaceDetector} on the tiles.
 */
import type { Box, FaceBox } from '@emostream/contracts';
import { detectEach, type DetectorImage, type FaceDetector } from './faceDetector.js';

/** A grid of tiles: columns x rows, each tile overlapping its neighbours by `overlap` of its side. */
export interface TileGridSpec {
  cols: number;
  rows: number;
  /** Fraction of a tile's width (height) shared with the next tile along x (y), 0..0.5. */
  overlap: number;
  /** A second, finer grid searched as well (its tiles follow this grid's in {@link tileGrid}). */
  finer?: TileGridSpec;
}

/** One tile: a rectangle of the frame in integer pixels. */
export type Tile = Box;

/** The `tiles` setting: `off`, `auto` or a grid such as `3x2`. */
export const TILES_PATTERN = /^(off|auto|[1-9]x[1-9])$/;

/** The overlap of neighbouring tiles (a quarter of a tile: faces up to that size are whole in some tile). */
export const TILE_OVERLAP = 0.25;

/**
 * `auto` searches two grids. The coarse one has tiles of at most a third of the frame's longer
 * side, so that each face is magnified 3x or more against the full-frame pass (1280x720: 4x2
 * tiles of 394x411 px): it finds faces of 40-150 px, which the full-frame pass misses up to
 * 40% of the time, and their tiles are large enough to hold them whole.
 */
export const AUTO_TILE_ZOOM = 3;

/**
 * The finer grid of `auto`: tiles of at most the longer side / 7 (1280x720: 9x5 tiles of
 * 183x180 px, seen 1.4x larger in BlazeFace's 256 px input), for faces of 20-40 px. On the scene
 * bench's two crowd scenes (faces of 20-60 px in 1280x720 frames, every frame, with the tile
 * schedule), against the 6x3 grid of a 4.3th (270x288 px, 0.89x) it had before: faces of 20-29 px
 * found 46% -> 92%, 30-39 px 99% -> 100%, no false face; 17% more BlazeFace images per crowd frame
 * (14.4 -> 16.9). Finer still (11x6, 1.7x) found 93% but lost faces of 60-99 px. Alone it loses
 * larger faces (a quarter of a small tile is too little overlap to hold them whole), hence both grids.
 */
export const AUTO_FINE_TILE_ZOOM = 7;

/**
 * The finer grid's tiles are at least this share of the detector's input (magnified at most
 * 1 / 0.7 = 1.4x: smaller tiles would magnify the picture's noise and background more).
 */
export const AUTO_FINE_MIN_TILE = 0.7;

/** Tiles along one axis of `length` px: `n` tiles overlapping by `overlap`, first at 0, last at the end. */
function axis(length: number, n: number, overlap: number): Array<[number, number]> {
  const side = length / (n - (n - 1) * overlap);
  const step = side * (1 - overlap);
  return Array.from({ length: n }, (_, i) => {
    const start = Math.round(i * step);
    const end = i === n - 1 ? length : Math.min(length, Math.round(i * step + side));
    return [start, end - start] as [number, number];
  });
}

/** The tiles of `spec` over a `width` x `height` frame, row by row (then its finer grid's); each grid covers the frame. */
export function tileGrid(width: number, height: number, spec: TileGridSpec): Tile[] {
  if (spec.cols < 1 || spec.rows < 1 || !Number.isInteger(spec.cols) || !Number.isInteger(spec.rows)) {
    throw new Error(`a tile grid needs whole positive columns and rows, got ${spec.cols}x${spec.rows}`);
  }
  if (!(spec.overlap >= 0 && spec.overlap <= 0.5)) throw new Error(`tile overlap must be 0..0.5, got ${spec.overlap}`);
  const xs = axis(width, spec.cols, spec.overlap);
  const ys = axis(height, spec.rows, spec.overlap);
  const tiles = ys.flatMap(([y, h]) => xs.map(([x, w]) => ({ x, y, width: w, height: h })));
  return spec.finer ? [...tiles, ...tileGrid(width, height, spec.finer)] : tiles;
}

/** The fewest tiles along each axis whose side is at most `maxSide`. */
function gridOfSide(width: number, height: number, maxSide: number, overlap: number): TileGridSpec {
  // side >= length / (n - (n-1) * overlap)  <=>  n >= (length / side - overlap) / (1 - overlap)
  const count = (length: number) => Math.max(1, Math.ceil((length / maxSide - overlap) / (1 - overlap) - 1e-9));
  return { cols: count(width), rows: count(height), overlap };
}

/**
 * The grids `auto` chooses for a frame: tiles of at most the longer side / {@link AUTO_TILE_ZOOM}
 * (no smaller than the detector's input) and, when that gives more tiles, a finer grid of at most
 * the longer side / {@link AUTO_FINE_TILE_ZOOM} (no smaller than {@link AUTO_FINE_MIN_TILE} of the
 * input). Undefined when a frame's longer side is no larger than the input (`inputPx`): tiles
 * would not magnify anything.
 */
export function autoGrid(width: number, height: number, inputPx = 256, overlap = TILE_OVERLAP): TileGridSpec | undefined {
  const longer = Math.max(width, height);
  if (longer <= inputPx) return undefined;
  const coarse = gridOfSide(width, height, Math.max(inputPx, longer / AUTO_TILE_ZOOM), overlap);
  const fine = gridOfSide(width, height, Math.max(inputPx * AUTO_FINE_MIN_TILE, longer / AUTO_FINE_TILE_ZOOM), overlap);
  return fine.cols * fine.rows > coarse.cols * coarse.rows ? { ...coarse, finer: fine } : coarse;
}

/** The grid of a `tiles` setting for a frame; undefined for `off` (or `auto` on a small frame). */
export function gridFor(setting: string, width: number, height: number, inputPx = 256): TileGridSpec | undefined {
  if (!TILES_PATTERN.test(setting)) throw new Error(`tiles must be off, auto or COLSxROWS (e.g. 3x2), got "${setting}"`);
  if (setting === 'off') return undefined;
  if (setting === 'auto') return autoGrid(width, height, inputPx);
  const [cols, rows] = setting.split('x').map(Number);
  return { cols, rows, overlap: TILE_OVERLAP };
}

/** A face found in a tile, in frame pixels, and whether its box touches an edge shared with another tile. */
export interface TileFace extends FaceBox {
  /** Index of the tile it was found in (its grid's order); none for the full-frame pass. */
  tile?: number;
  /** The box reaches an inner edge of its tile: the face may be cut there (and whole in the neighbour). */
  atInnerEdge?: boolean;
}

/**
 * Maps a face found in `tile` (box and eyes in the tile's pixels) to frame pixels, and marks it
 * when its box comes within `edgePx` of an edge of the tile that is not the frame's edge.
 */
export function mapFromTile(face: FaceBox, tile: Tile, frameWidth: number, frameHeight: number, index?: number, edgePx = 2): TileFace {
  const b = face.box;
  const out: TileFace = { ...face, ...(index === undefined ? {} : { tile: index }), box: { x: b.x + tile.x, y: b.y + tile.y, width: b.width, height: b.height } };
  if (face.eyes) {
    out.eyes = {
      left: [face.eyes.left[0] + tile.x, face.eyes.left[1] + tile.y],
      right: [face.eyes.right[0] + tile.x, face.eyes.right[1] + tile.y],
    };
  }
  const inner = (b.x <= edgePx && tile.x > 0)
    || (b.y <= edgePx && tile.y > 0)
    || (b.x + b.width >= tile.width - edgePx && tile.x + tile.width < frameWidth)
    || (b.y + b.height >= tile.height - edgePx && tile.y + tile.height < frameHeight);
  if (inner) out.atInnerEdge = true;
  return out;
}

/** Intersection over the smaller box's area (1 when one box lies inside the other). */
export function intersectionOverSmaller(a: Box, b: Box): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  const smaller = Math.min(a.width * a.height, b.width * b.height);
  return smaller > 0 ? (w * h) / smaller : 0;
}

/** Options of {@link mergeDetections}. */
export interface MergeOptions {
  /** Two boxes overlapping by at least this intersection over the smaller box are one face (0..1). */
  matchThreshold: number;
  /** Tile faces scoring under this are dropped before merging (the full-frame pass keeps its own threshold). */
  tileMinScore: number;
  /**
   * Full-frame faces at least this high (px of the frame) are kept as they are; smaller ones,
   * whose boxes the full-frame pass places to a few of its input pixels (5 px of a 720p frame),
   * compete with the tiles' boxes by score. 0: every full-frame face is kept as it is.
   */
  keepFullFromPx?: number;
  /**
   * A tile face at least this high (px of the frame) that no full-frame face overlaps must score
   * `largeMinScore`: the full-frame pass sees a face that large well enough, so when only a tile
   * finds it, it is more often background (a carving, a shoulder, hair) magnified. Absent: none.
   */
  largeFromPx?: number;
  largeMinScore?: number;
}

/** A tile face whose height is at least this many of the full-frame pass's input pixels is {@link MergeOptions.largeFromPx}. */
export const LARGE_TILE_FACE_INPUT_PX = 16;

/** BlazeFace places faces at least this high in its input well: {@link MergeOptions.keepFullFromPx} is this many input pixels. */
export const KEEP_FULL_INPUT_PX = 24;

/**
 * Merges the full-frame pass with the tiles' faces (already in frame pixels): greedy
 * non-maximum suppression on intersection over the smaller box, so that a part of a face (cut by
 * a tile edge, or a tile's view of an eye region) does not survive beside the whole face. The
 * full-frame faces of at least `keepFullFromPx` are all kept as they were (its own suppression
 * is the detector's): the tiles only add faces it missed, and a large face keeps the box and
 * crop it had without tiles. Then the smaller full-frame faces and the tiles' whole faces, by
 * score (a small face's tile box is both stronger and closer than the full frame's); then the
 * tiles' faces cut by a tile edge, kept only where no whole box of them was found. Strongest
 * first, like a detector's output.
 */
export function mergeDetections(full: readonly FaceBox[], tiled: readonly TileFace[], o: MergeOptions): FaceBox[] {
  return mergeKeepingOrigin(full, tiled, o).map(({ atInnerEdge: _edge, tile: _tile, ...f }) => f);
}

/** {@link mergeDetections}, each kept face with the tile it came from (`tile`; none: the full-frame pass). */
export function mergeKeepingOrigin(full: readonly FaceBox[], tiled: readonly TileFace[], o: MergeOptions): TileFace[] {
  const candidates = [
    ...full.map((f) => ({ f: { box: f.box, score: f.score, ...(f.eyes ? { eyes: f.eyes } : {}) } as TileFace, rank: f.box.height >= (o.keepFullFromPx ?? 0) ? 0 : 1 })),
    ...tiled.filter((f) => f.score >= o.tileMinScore && !doubted(f, full, o)).map((f) => ({ f, rank: f.atInnerEdge ? 2 : 1 })),
  ];
  candidates.sort((a, b) => a.rank - b.rank || b.f.score - a.f.score);
  const kept: TileFace[] = [];
  for (const { f, rank } of candidates) {
    if (rank > 0 && kept.some((k) => intersectionOverSmaller(k.box, f.box) >= o.matchThreshold)) continue;
    kept.push(f);
  }
  return kept.sort((a, b) => b.score - a.score);
}

/** A large tile face under `largeMinScore` that the full-frame pass did not see (see {@link MergeOptions.largeFromPx}). */
function doubted(f: TileFace, full: readonly FaceBox[], o: MergeOptions): boolean {
  if (o.largeFromPx === undefined || o.largeMinScore === undefined) return false;
  return f.box.height >= o.largeFromPx && f.score < o.largeMinScore && !full.some((g) => intersectionOverSmaller(g.box, f.box) >= o.matchThreshold);
}

/** Copies the pixels of `tile` out of a row-major RGB frame. */
export function cropRgb(rgb: Uint8Array, width: number, tile: Tile): Uint8Array {
  const out = new Uint8Array(tile.width * tile.height * 3);
  const row = tile.width * 3;
  for (let y = 0; y < tile.height; y++) {
    const from = ((tile.y + y) * width + tile.x) * 3;
    out.set(rgb.subarray(from, from + row), y * row);
  }
  return out;
}

/**
 * Runs `detector` on `tiles` (each letterboxed into the detector's input by the detector itself;
 * in one batch where the detector batches) and returns their faces in frame pixels, each with its
 * tile's index (`indices[i]` for `tiles[i]`; the position in `tiles` by default).
 */
export async function detectTiles(detector: FaceDetector, rgb: Uint8Array, width: number, height: number, tiles: readonly Tile[], indices?: readonly number[]): Promise<TileFace[]> {
  return tilesToFrame(await detectEach(detector, tileImages(rgb, width, tiles)), tiles, width, height, indices);
}

/** The pixels of each of `tiles`, cut out of a row-major RGB frame, as images for a detector. */
export function tileImages(rgb: Uint8Array, width: number, tiles: readonly Tile[]): DetectorImage[] {
  return tiles.map((tile) => ({ rgb: cropRgb(rgb, width, tile), width: tile.width, height: tile.height }));
}

/** The faces found in each of `tiles` (same order) in frame pixels, each with its tile's index. */
export function tilesToFrame(found: ReadonlyArray<readonly FaceBox[]>, tiles: readonly Tile[], width: number, height: number, indices?: readonly number[]): TileFace[] {
  return tiles.flatMap((tile, i) => found[i].map((f) => mapFromTile(f, tile, width, height, indices?.[i] ?? i)));
}
