import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TILE_HOLD_SEARCHES, TileSchedule } from './tileSchedule.js';

const grid = { cols: 4, rows: 2, overlap: 0.25 };

test('a sweep of every tile on the first frame, then every n-th frame; only tiles with faces in between', () => {
  const s = new TileSchedule(3);
  const p0 = s.plan('cam', 1280, 720, grid, false);
  assert.equal(p0.sweep, true);
  assert.deepEqual(p0.indices, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(p0.tiles.length, 8);
  s.record('cam', p0.indices, [2, 5]);
  const p1 = s.plan('cam', 1280, 720, grid, false);
  assert.equal(p1.sweep, false);
  assert.deepEqual(p1.indices, [2, 5]);
  assert.deepEqual(p1.tiles, [p0.tiles[2], p0.tiles[5]]);
  s.record('cam', p1.indices, [2, 5]);
  assert.deepEqual(s.plan('cam', 1280, 720, grid, false).indices, [2, 5]);
  s.record('cam', [2, 5], [5]);
  assert.equal(s.plan('cam', 1280, 720, grid, false).sweep, true); // the 3rd frame after the sweep
});

test('no face found: nothing is searched between sweeps', () => {
  const s = new TileSchedule(5);
  const p = s.plan('cam', 1280, 720, grid, false);
  s.record('cam', p.indices, []);
  for (let i = 1; i < 5; i++) assert.deepEqual(s.plan('cam', 1280, 720, grid, false).indices, []);
  assert.equal(s.plan('cam', 1280, 720, grid, false).sweep, true);
});

test(`a tile stays planned until ${TILE_HOLD_SEARCHES} searches in a row find nothing in it`, () => {
  const s = new TileSchedule(100);
  const p = s.plan('cam', 1280, 720, grid, false);
  s.record('cam', p.indices, [4]);
  for (let i = 0; i < TILE_HOLD_SEARCHES; i++) {
    const q = s.plan('cam', 1280, 720, grid, false);
    assert.deepEqual(q.indices, [4], `search ${i}`);
    s.record('cam', q.indices, []);
  }
  assert.deepEqual(s.plan('cam', 1280, 720, grid, false).indices, []);
});

test('a hard cut or a new frame size sweeps at once; cameras are independent; no grid, no tiles', () => {
  const s = new TileSchedule(10);
  s.record('a', s.plan('a', 1280, 720, grid, false).indices, []);
  s.record('b', s.plan('b', 1280, 720, grid, false).indices, [1]);
  assert.equal(s.plan('a', 1280, 720, grid, true).sweep, true);
  assert.deepEqual(s.plan('b', 1280, 720, grid, false).indices, [1]);
  const resized = s.plan('b', 640, 360, { cols: 3, rows: 2, overlap: 0.25 }, false);
  assert.equal(resized.sweep, true);
  assert.equal(resized.tiles.length, 6);
  assert.deepEqual(s.plan('b', 640, 360, undefined, false), { tiles: [], indices: [], sweep: false });
  assert.throws(() => new TileSchedule(0), /positive integer/);
});
