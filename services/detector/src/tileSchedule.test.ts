import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autoGrid, tileGrid, type TileGridSpec } from './tiles.js';
import { HOLD_BELOW_INPUT_PX, TILE_HOLD_SEARCHES, TileSchedule, holdingTile, sweepOrder } from './tileSchedule.js';

const grid = { cols: 4, rows: 2, overlap: 0.25 };
const TILES = tileGrid(1280, 720, grid);
/** auto's two grids at 1280x720: 4x2 (tiles 0-7) then 9x5 (tiles 8-52). */
const AUTO = { ...grid, finer: { cols: 9, rows: 5, overlap: 0.25 } };
const AUTO_TILES = 8 + 45;
/** A face of `side` px at the centre of tile `i` of the 4x2 grid at 1280x720 (whole in that tile only). */
const faceIn = (i: number, side = 40) => {
  const t = TILES[i];
  return { x: t.x + t.width / 2 - side / 2, y: t.y + t.height / 2 - side / 2, width: side, height: side };
};

test('sweepFrames 1: a sweep of every tile on the first frame; then a rolling share of the grid plus the tiles holding faces', () => {
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

test('rolling false (an extra detection between scheduled ones): the tiles holding faces and the sweep, no rolling share; the share resumes where it stopped', () => {
  const s = new TileSchedule(4); // 8 tiles: 2 a frame
  const first = s.plan('cam', 1280, 720, grid, false, false);
  assert.deepEqual(first.indices, [0, 1, 2, 3, 4, 5, 6, 7], 'a sweep is searched whatever the frame');
  s.record('cam', first.indices, [faceIn(5)]);
  const extra = s.plan('cam', 1280, 720, grid, false, false);
  assert.deepEqual(extra.indices, [5]);
  s.record('cam', extra.indices, [faceIn(5)]);
  assert.deepEqual(s.plan('cam', 1280, 720, grid, false).indices, [0, 1, 5], 'the rolling share starts where it was');
  const none = new TileSchedule(4);
  none.record('cam', none.plan('cam', 1280, 720, grid, false).indices, []);
  assert.deepEqual(none.plan('cam', 1280, 720, grid, false, false).indices, [], 'no face held: nothing');
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
  // auto's two grids: 4x2 (tiles 0-7) then 9x5 (tiles 8-52).
  assert.deepEqual(autoGrid(1280, 720), AUTO);
  const both = tileGrid(1280, 720, AUTO);
  const fine = both.slice(8);
  const small = { x: fine[7].x + 100, y: fine[7].y + 100, width: 30, height: 30 };
  assert.equal(holdingTile(both, small, 1280, 720), 8 + 7, 'a small face: its fine tile');
  // A 200 px face fits no fine tile (183x180) but a coarse one.
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
  assert.deepEqual(s.plan('b', 640, 360, undefined, false), { tiles: [], indices: [], sweep: false, sweepLeft: 0 });
  assert.throws(() => new TileSchedule(0), /positive integer/);
  assert.throws(() => new TileSchedule(30, 0), /sweepFrames must be a positive integer/);
});


/** Plans `frames` frames of camera `cam` with no face found, the first one a cut when `cut`; the indices of each. */
function run(s: TileSchedule, frames: number, g: TileGridSpec = AUTO, cut = false): { indices: number[]; sweep: boolean; sweepLeft: number }[] {
  return Array.from({ length: frames }, (_, f) => {
    const p = s.plan('cam', 1280, 720, g, cut && f === 0);
    s.record('cam', p.indices, []);
    return { indices: p.indices, sweep: p.sweep, sweepLeft: p.sweepLeft };
  });
}

test('a sweep spread over n frames: every tile exactly once within n frames, at most ceil(tiles / n) a frame, then the rolling share', () => {
  for (const [g, n, tiles] of [[AUTO, 4, AUTO_TILES], [{ cols: 9, rows: 3, overlap: 0.25 }, 4, 27], [AUTO, 3, AUTO_TILES], [AUTO, 30, AUTO_TILES]] as const) {
    const s = new TileSchedule(30, n);
    const frames = run(s, Math.max(n, tiles) + 2, g);
    const cap = Math.ceil(tiles / n);
    const swept = frames.filter((f) => f.sweep);
    assert.equal(swept.length, Math.ceil(tiles / cap), `${tiles} tiles over ${n} frames`);
    assert.ok(swept.length <= n);
    const all = swept.flatMap((f) => f.indices).sort((a, b) => a - b);
    assert.deepEqual(all, Array.from({ length: tiles }, (_, i) => i), 'each tile once');
    for (const f of swept) assert.ok(f.indices.length <= cap, `${f.indices.length} > ${cap}`);
    assert.deepEqual(swept.map((f) => f.sweepLeft), swept.map((_, k) => Math.max(0, tiles - (k + 1) * cap)));
    // After the sweep: the rolling share only (ceil(tiles / 30) a frame: 2 of auto's 53, 1 of 27), from the grid's start.
    const share = Math.ceil(tiles / 30);
    const after = frames.slice(swept.length, swept.length + 2);
    const run0 = (from: number) => Array.from({ length: share }, (_, k) => from + k);
    assert.deepEqual(after.map((f) => [f.sweep, f.indices]), [[false, run0(0)], [false, run0(share)]]);
  }
});

test('a cut mid-sweep restarts it: the whole grid again within n frames of the cut', () => {
  const s = new TileSchedule(30, 4);
  const first = run(s, 2); // 53 tiles over 4 frames: 14 a frame
  assert.equal(first[1].sweepLeft, AUTO_TILES - 28);
  const again = run(s, 5, AUTO, true);
  assert.deepEqual(again[0].indices, first[0].indices, 'the cut starts the sweep order over');
  assert.equal(again[0].sweepLeft, AUTO_TILES - 14);
  const swept = again.filter((f) => f.sweep);
  assert.equal(swept.length, 4);
  assert.deepEqual(swept.flatMap((f) => f.indices).sort((a, b) => a - b), Array.from({ length: AUTO_TILES }, (_, i) => i));
  assert.equal(again[4].sweep, false);
  // sweepFrames 1: the whole grid on the cut's frame, as before.
  const one = new TileSchedule(30, 1);
  run(one, 3);
  const cut = run(one, 2, AUTO, true);
  assert.equal(cut[0].indices.length, AUTO_TILES);
  assert.deepEqual(cut[1].indices, [0, 1]);
});

test('during a sweep the tiles holding faces are searched on every frame besides the share, and leave the sweep once searched', () => {
  const s = new TileSchedule(30, 4);
  const order = sweepOrder(tileGrid(1280, 720, AUTO));
  const p0 = s.plan('cam', 1280, 720, AUTO, false);
  assert.deepEqual(p0.indices, order.slice(0, 14).sort((a, b) => a - b));
  // A face in coarse tile 5 (searched on frame 0: it holds the fine tile that holds it whole) and
  // one in the fine tile that the sweep searches last.
  const all = tileGrid(1280, 720, AUTO);
  const fine = all[order[AUTO_TILES - 1]];
  const small = { x: fine.x + fine.width / 2 - 12, y: fine.y + fine.height / 2 - 12, width: 24, height: 24 };
  const held = [holdingTile(all, faceIn(5), 1280, 720)!, holdingTile(all, small, 1280, 720)!];
  assert.equal(held[1], order[AUTO_TILES - 1]);
  assert.ok(held[0] >= 8 && !p0.indices.includes(held[0]), 'a fine tile not searched yet');
  s.record('cam', p0.indices, [faceIn(5), small]);
  const p1 = s.plan('cam', 1280, 720, AUTO, false);
  const share1 = order.slice(14, 28);
  assert.deepEqual(p1.indices, [...new Set([...share1, ...held])].sort((a, b) => a - b));
  const pendingAfter1 = order.slice(14).filter((i) => !share1.includes(i) && !held.includes(i));
  assert.equal(p1.sweepLeft, pendingAfter1.length, 'the held tiles were searched: they leave the sweep');
  s.record('cam', p1.indices, [faceIn(5), small]);
  const p2 = s.plan('cam', 1280, 720, AUTO, false);
  assert.deepEqual(p2.indices, [...new Set([...pendingAfter1.slice(0, 14), ...held])].sort((a, b) => a - b));
  assert.ok(p2.indices.length <= 14 + held.length);
});

test('sweepOrder: the coarse grid first, then the fine tiles so that each share covers the frame', () => {
  const tiles = tileGrid(1280, 720, AUTO);
  const order = sweepOrder(tiles);
  assert.deepEqual([...order].sort((a, b) => a - b), tiles.map((_, i) => i), 'a permutation');
  assert.deepEqual(order.slice(0, 8).sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7], 'the 4x2 tiles first');
  // The first four fine tiles reach over most of the frame (row by row they would be one row's left part).
  const spread = (ix: number[]) => {
    const cx = ix.map((i) => tiles[i].x + tiles[i].width / 2), cy = ix.map((i) => tiles[i].y + tiles[i].height / 2);
    return [Math.max(...cx) - Math.min(...cx), Math.max(...cy) - Math.min(...cy)];
  };
  const [w, h] = spread(order.slice(8, 12));
  assert.ok(w > 0.4 * 1280 && h > 0.4 * 720, `first fine tiles span ${w}x${h}`);
  const [rw, rh] = spread([8, 9, 10, 11]);
  assert.ok(!(rw > 0.4 * 1280 && rh > 0.4 * 720), 'row-by-row order would not');
  assert.deepEqual(sweepOrder([]), []);
});

test('a sweep spread over the frames given to plan (a live camera\'s), whatever the schedule\'s own; a bad count is refused', () => {
  const s = new TileSchedule(4); // its own sweep: the whole grid on one frame
  const shares: number[] = [];
  for (let f = 0; f < 5; f++) shares.push(s.plan('live', 1280, 720, grid, false, true, 4).indices.length);
  // 8 tiles over 4 frames, 2 a frame; then the rolling share (8 / 4 = 2).
  assert.deepEqual(shares, [2, 2, 2, 2, 2]);
  assert.equal(s.plan('file', 1280, 720, grid, false).indices.length, 8, 'another camera keeps the schedule\'s own');
  assert.throws(() => s.plan('live', 1280, 720, grid, true, true, 0), /sweepFrames must be a positive integer/);
});

test('deferShare: the plan keeps only the tiles holding faces, planShare gives the share alone on the next frame; not taken then, it joins the next plan', () => {
  const s = new TileSchedule(4); // 8 tiles: 2 a rolling share
  // A sweep spread over 4 frames (2 tiles a frame), kept for the frame after.
  const first = s.plan('cam', 1280, 720, grid, false, true, 4, true);
  assert.deepEqual(first.indices, []);
  assert.equal(s.shareDue('cam'), true);
  const share = s.planShare('cam');
  assert.equal(share.sweep, true);
  assert.equal(share.indices.length, 2);
  assert.equal(s.shareDue('cam'), false);
  assert.deepEqual(s.planShare('cam').indices, [], 'a share is given once');
  s.record('cam', share.indices, [faceIn(5)]);
  // The tile holding the face on every plan; the sweep's shares go on without it.
  const next = s.plan('cam', 1280, 720, grid, false, true, 4, true);
  assert.deepEqual(next.indices, [5]);
  const share2 = s.planShare('cam');
  assert.ok(!share2.indices.includes(5) && share2.indices.length === 2, `the next sweep share, the held tile left out: ${share2.indices}`);
  // A share kept and not asked for (the next frame was detected) joins that frame's plan.
  s.plan('cam', 1280, 720, grid, false, true, 4, true);
  const joined = s.plan('cam', 1280, 720, grid, false, false, 4, true);
  assert.ok(joined.indices.includes(5) && joined.indices.length === 3, `held tile plus the kept share: ${joined.indices}`);
  assert.equal(s.shareDue('cam'), false, 'not kept twice');
  // Every tile is searched within the sweep, kept shares included.
  const all = new Set([...share.indices, ...share2.indices, ...joined.indices]);
  for (let k = 0; k < 4; k++) { s.plan('cam', 1280, 720, grid, false, true, 4, true); s.planShare('cam').indices.forEach((i) => all.add(i)); }
  assert.deepEqual([...all].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7]);
  // Without a sweep the rolling share is kept the same way; rolling false keeps none.
  const r = new TileSchedule(4);
  r.record('cam', r.plan('cam', 1280, 720, grid, false).indices, []);
  assert.deepEqual(r.plan('cam', 1280, 720, grid, false, true, 1, true).indices, []);
  assert.deepEqual(r.planShare('cam').indices, [0, 1]);
  assert.deepEqual(r.plan('cam', 1280, 720, grid, false, false, 1, true).indices, []);
  assert.equal(r.shareDue('cam'), false);
});
