import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TILE_HOLD_SEARCHES, TileSchedule } from './tileSchedule.js';

const grid = { cols: 4, rows: 2, overlap: 0.25 };

test('a sweep of every tile on the first frame; then a rolling share of the grid plus the tiles with faces', () => {
  const s = new TileSchedule(4); // 8 tiles: 2 a frame
  const p0 = s.plan('cam', 1280, 720, grid, false);
  assert.equal(p0.sweep, true);
  assert.deepEqual(p0.indices, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(p0.tiles.length, 8);
  s.record('cam', p0.indices, [5]);
  const p1 = s.plan('cam', 1280, 720, grid, false);
  assert.equal(p1.sweep, false);
  assert.deepEqual(p1.indices, [0, 1, 5]);
  assert.deepEqual(p1.tiles, [p0.tiles[0], p0.tiles[1], p0.tiles[5]]);
  s.record('cam', p1.indices, [5]);
  assert.deepEqual(s.plan('cam', 1280, 720, grid, false).indices, [2, 3, 5]);
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

test(`a tile stays planned until ${TILE_HOLD_SEARCHES} searches in a row find nothing in it`, () => {
  const s = new TileSchedule(100);
  const p = s.plan('cam', 1280, 720, grid, false);
  s.record('cam', p.indices, [4]);
  for (let i = 0; i < TILE_HOLD_SEARCHES; i++) {
    const q = s.plan('cam', 1280, 720, grid, false);
    assert.ok(q.indices.includes(4), `search ${i}`);
    s.record('cam', q.indices, []);
  }
  const after = s.plan('cam', 1280, 720, grid, false);
  assert.deepEqual(after.indices, [TILE_HOLD_SEARCHES], 'only the rolling share is left');
});

test('a hard cut or a new frame size sweeps at once; cameras are independent; no grid, no tiles', () => {
  const s = new TileSchedule(10);
  s.record('a', s.plan('a', 1280, 720, grid, false).indices, []);
  s.record('b', s.plan('b', 1280, 720, grid, false).indices, [1]);
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
