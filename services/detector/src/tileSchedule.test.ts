import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tileGrid } from './tiles.js';
import { HOLD_BELOW_INPUT_PX, TILE_HOLD_SEARCHES, TileSchedule, holdingTile } from './tileSchedule.js';

const grid = { cols: 4, rows: 2, overlap: 0.25 };
const TILES = tileGrid(1280, 720, grid);
/** A face of `side` px at the centre of tile `i` of the 4x2 grid at 1280x720 (whole in that tile only). */
const faceIn = (i: number, side = 40) => {
  const t = TILES[i];
  return { x: t.x + t.width / 2 - side / 2, y: t.y + t.height / 2 - side / 2, width: side, height: side };
};

test('a sweep of every tile on the first frame; then a rolling share of the grid plus the tiles holding faces', () => {
  const s = new TileSchedule(4); // 8 tiles: 2 a frame
  const p0 = s.plan('cam', 1280, 720, grid, false);
  assert.equal(p0.sweep, true);
  assert.deepEqual(p0.indices, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(p0.tiles.length, 8);
  s.record('cam', p0.indices, [faceIn(5)]);
  const p1 = s.plan('cam', 1280, 720, grid, false);
  assert.equal(p1.sweep, false);
  assert.deepEqual(p1.indices, [0, 1, 5]);
  assert.deepEqual(p1.tiles, [p0.tiles[0], p0.tiles[1], p0.tiles[5]]);
  s.record('cam', p1.indices, [faceIn(5)]);
  assert.deepEqual(s.plan('cam', 1280, 720, grid, false).indices, [2, 3, 5]);
});

test(`faces of ${HOLD_BELOW_INPUT_PX} input px and more (150 px at 720p) hold no tile: the full-frame pass finds them`, () => {
  const s = new TileSchedule(100);
  s.record('cam', s.plan('cam', 1280, 720, grid, false).indices, [faceIn(2, 150), faceIn(6, 149)]);
  assert.deepEqual(s.plan('cam', 1280, 720, grid, false).indices, [0, 6]);
});

test('no face found: every tile is searched once per n frames, the same share on every frame', () => {
  const s = new TileSchedule(5); // 8 tiles: 2 a frame, the grid covered in 4 frames
  s.record('cam', s.plan('cam', 1280, 720, grid, false).indices, []);
  const seen: number[][] = [];
  for (let i = 0; i < 8; i++) {
    const p = s.plan('cam', 1280, 720, grid, false);
    assert.equal(p.sweep, false);
    seen.push(p.indices);
    s.record('cam', p.indices, []);
  }
  assert.deepEqual(seen, [[0, 1], [2, 3], [4, 5], [6, 7], [0, 1], [2, 3], [4, 5], [6, 7]]);
  const one = new TileSchedule(100); // fewer tiles than frames: one a frame
  one.record('c', one.plan('c', 1280, 720, grid, false).indices, []);
  assert.deepEqual([0, 1, 2].map(() => one.plan('c', 1280, 720, grid, false).indices), [[0], [1], [2]]);
});

test(`a tile stays planned until ${TILE_HOLD_SEARCHES} searches in a row hold no face`, () => {
  const s = new TileSchedule(100);
  const p = s.plan('cam', 1280, 720, grid, false);
  s.record('cam', p.indices, [faceIn(4)]);
  for (let i = 0; i < TILE_HOLD_SEARCHES; i++) {
    const q = s.plan('cam', 1280, 720, grid, false);
    assert.ok(q.indices.includes(4), `search ${i}`);
    s.record('cam', q.indices, []);
  }
  const after = s.plan('cam', 1280, 720, grid, false);
  assert.deepEqual(after.indices, [TILE_HOLD_SEARCHES], 'only the rolling share is left');
});

test('holdingTile: the smallest tile that holds the face whole with a margin, else the one holding most of it', () => {
  // Two grids, as auto's: 4x2 (tiles 0-7) then 6x3 (tiles 8-25).
  const both = tileGrid(1280, 720, { ...grid, finer: { cols: 6, rows: 3, overlap: 0.25 } });
  const fine = both.slice(8);
  const small = { x: fine[7].x + 100, y: fine[7].y + 100, width: 30, height: 30 };
  assert.equal(holdingTile(both, small, 1280, 720), 8 + 7, 'a small face: its fine tile');
  // A 200 px face fits no fine tile (270x288 with its margin) but a coarse one.
  const big = faceIn(1, 200);
  assert.equal(holdingTile(both, big, 1280, 720), 1);
  // A face across the inner edge of tiles 0 and 1 of 4x2 (tile 0 ends at x 394): whole in tile 1 only.
  const cut = { x: 380, y: 100, width: 60, height: 60 };
  assert.equal(holdingTile(TILES, cut, 1280, 720), 1);
  // At the frame's edge the margin outside the frame does not count.
  assert.equal(holdingTile(TILES, { x: 0, y: 0, width: 40, height: 40 }, 1280, 720), 0);
  // Nothing holds it whole: the tile holding most of it.
  assert.equal(holdingTile([{ x: 0, y: 0, width: 100, height: 100 }, { x: 80, y: 0, width: 100, height: 100 }], { x: 75, y: 10, width: 50, height: 50 }, 200, 100), 1);
  assert.equal(holdingTile([{ x: 0, y: 0, width: 10, height: 10 }], { x: 50, y: 50, width: 5, height: 5 }, 100, 100), undefined);
});

test('a hard cut or a new frame size sweeps at once; cameras are independent; no grid, no tiles', () => {
  const s = new TileSchedule(10);
  s.record('a', s.plan('a', 1280, 720, grid, false).indices, []);
  s.record('b', s.plan('b', 1280, 720, grid, false).indices, [faceIn(1)]);
  assert.equal(s.plan('a', 1280, 720, grid, false).sweep, false);
  const cut = s.plan('a', 1280, 720, grid, true);
  assert.equal(cut.sweep, true);
  assert.equal(cut.indices.length, 8);
  assert.deepEqual(s.plan('a', 1280, 720, grid, false).indices, [0], 'the rolling share starts again after a sweep');
  assert.deepEqual(s.plan('b', 1280, 720, grid, false).indices, [0, 1]);
  const resized = s.plan('b', 640, 360, { cols: 3, rows: 2, overlap: 0.25 }, false);
  assert.equal(resized.sweep, true);
  assert.equal(resized.tiles.length, 6);
  assert.deepEqual(s.plan('b', 640, 360, undefined, false), { tiles: [], indices: [], sweep: false });
  assert.throws(() => new TileSchedule(0), /positive integer/);
});
