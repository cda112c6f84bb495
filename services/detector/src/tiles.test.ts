import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FaceBox } from '@emostream/contracts';
import type { FaceDetector } from './faceDetector.js';
import {
  AUTO_FINE_MIN_TILE, AUTO_FINE_TILE_ZOOM, autoGrid, cropRgb, detectTiles, gridFor, intersectionOverSmaller, mapFromTile, mergeDetections, mergeKeepingOrigin, tileGrid,
} from './tiles.js';

const face = (x: number, y: number, w: number, h: number, score = 0.9, eyes?: FaceBox['eyes']): FaceBox => ({ box: { x, y, width: w, height: h }, score, ...(eyes ? { eyes } : {}) });

test('tileGrid: tiles cover the frame edge to edge, overlap by the fraction asked, in whole pixels', () => {
  const tiles = tileGrid(1280, 720, { cols: 4, rows: 2, overlap: 0.25 });
  assert.equal(tiles.length, 8);
  // Row by row: the first row's x, then the second row.
  assert.deepEqual(tiles.slice(0, 4).map((t) => t.x), [0, 295, 591, 886]);
  assert.deepEqual(tiles.map((t) => t.y), [0, 0, 0, 0, 309, 309, 309, 309]);
  for (const t of tiles) {
    assert.ok(Number.isInteger(t.x) && Number.isInteger(t.y) && Number.isInteger(t.width) && Number.isInteger(t.height));
    assert.ok(t.x + t.width <= 1280 && t.y + t.height <= 720);
    assert.ok(Math.abs(t.width - 394) <= 1 && Math.abs(t.height - 411) <= 1, `${t.width}x${t.height}`);
  }
  assert.equal(tiles[3].x + tiles[3].width, 1280);
  assert.equal(tiles[7].y + tiles[7].height, 720);
  // Neighbours share a quarter of a tile (+-1 px of rounding).
  const shared = tiles[0].x + tiles[0].width - tiles[1].x;
  assert.ok(Math.abs(shared - 0.25 * 394) <= 1, `shared ${shared}`);
  // Every pixel is in some tile.
  for (const [x, y] of [[0, 0], [1279, 719], [640, 360], [394, 410], [1000, 100]]) {
    assert.ok(tiles.some((t) => x >= t.x && x < t.x + t.width && y >= t.y && y < t.y + t.height), `${x},${y}`);
  }
  assert.deepEqual(tileGrid(640, 360, { cols: 1, rows: 1, overlap: 0.25 }), [{ x: 0, y: 0, width: 640, height: 360 }]);
  assert.throws(() => tileGrid(640, 360, { cols: 0, rows: 1, overlap: 0.25 }), /columns and rows/);
  assert.throws(() => tileGrid(640, 360, { cols: 2, rows: 1, overlap: 0.6 }), /overlap/);
});

test('autoGrid: tiles at most a third of the longer side, and a finer grid of at most a 7th (no less than 0.7 of the input); none when the frame fits the input', () => {
  const fine = (cols: number, rows: number) => ({ cols, rows, overlap: 0.25 });
  assert.equal(AUTO_FINE_TILE_ZOOM, 7);
  assert.equal(AUTO_FINE_MIN_TILE, 0.7);
  // 1280x720: 4x2 tiles of 394x411 px, and 9x5 of 183x180 (faces seen 1.4x larger in the 256 px input).
  assert.deepEqual(autoGrid(1280, 720), { cols: 4, rows: 2, overlap: 0.25, finer: fine(9, 5) });
  assert.deepEqual(tileGrid(1280, 720, fine(9, 5))[0], { x: 0, y: 0, width: 183, height: 180 });
  assert.deepEqual(autoGrid(1920, 1080), { cols: 4, rows: 2, overlap: 0.25, finer: fine(9, 5) });
  assert.deepEqual(autoGrid(720, 1280), { cols: 2, rows: 4, overlap: 0.25, finer: fine(5, 9) });
  // 640x360: a third would be 213 px, under the 256 px input: tiles of 256 instead; a 7th would
  // be 91 px, under 0.7 of the input (179 px): the finer grid's tiles of at most 179 px (5x3).
  assert.deepEqual(autoGrid(640, 360), { cols: 3, rows: 2, overlap: 0.25, finer: fine(5, 3) });
  assert.equal(autoGrid(256, 144), undefined);
  for (const [w, h] of [[1280, 720], [1920, 1080], [800, 600], [640, 360]]) {
    const g = autoGrid(w, h)!;
    const coarse = tileGrid(w, h, { ...g, finer: undefined });
    for (const t of coarse) assert.ok(Math.max(t.width, t.height) <= Math.max(256, Math.max(w, h) / 3 + 1), `${w}x${h}: ${t.width}x${t.height}`);
    const all = tileGrid(w, h, g);
    assert.ok(g.finer, `${w}x${h}: a finer grid`);
    assert.equal(all.length, g.cols * g.rows + g.finer.cols * g.finer.rows);
    for (const t of all.slice(coarse.length)) assert.ok(Math.max(t.width, t.height) <= Math.max(0.7 * 256, Math.max(w, h) / 7) + 1, `${w}x${h} finer: ${t.width}x${t.height}`);
  }
});

test('gridFor: off, auto, COLSxROWS; anything else fails', () => {
  assert.equal(gridFor('off', 1280, 720), undefined);
  assert.deepEqual(gridFor('auto', 1280, 720), autoGrid(1280, 720));
  assert.deepEqual(gridFor('3x2', 1280, 720), { cols: 3, rows: 2, overlap: 0.25 });
  assert.throws(() => gridFor('3by2', 1280, 720), /off, auto or COLSxROWS/);
});

test('mapFromTile: box and eyes move by the tile offset; faces at an inner tile edge are marked', () => {
  const tile = { x: 400, y: 300, width: 400, height: 300 };
  const m = mapFromTile(face(10, 20, 30, 40, 0.8, { left: [15, 30], right: [30, 31] }), tile, 1280, 720, 5);
  assert.deepEqual(m.box, { x: 410, y: 320, width: 30, height: 40 });
  assert.deepEqual(m.eyes, { left: [415, 330], right: [430, 331] });
  assert.equal(m.tile, 5);
  assert.equal(m.score, 0.8);
  assert.equal(m.atInnerEdge, undefined);
  // Touching the tile's left edge, which is inside the frame: may be cut.
  assert.equal(mapFromTile(face(0, 50, 30, 30), tile, 1280, 720).atInnerEdge, true);
  assert.equal(mapFromTile(face(370, 50, 30, 30), tile, 1280, 720).atInnerEdge, true);
  // At the frame's own edge (tile at 0,0 and at the far corner): a face there is not cut by a tile.
  assert.equal(mapFromTile(face(0, 0, 30, 30), { x: 0, y: 0, width: 400, height: 300 }, 1280, 720).atInnerEdge, undefined);
  assert.equal(mapFromTile(face(370, 270, 30, 30), { x: 880, y: 420, width: 400, height: 300 }, 1280, 720).atInnerEdge, undefined);
});

test('intersectionOverSmaller: 1 for a box inside another, 0 apart, symmetric', () => {
  const big = { x: 0, y: 0, width: 100, height: 100 };
  assert.equal(intersectionOverSmaller(big, { x: 10, y: 10, width: 20, height: 20 }), 1);
  assert.equal(intersectionOverSmaller({ x: 10, y: 10, width: 20, height: 20 }, big), 1);
  assert.equal(intersectionOverSmaller(big, { x: 200, y: 0, width: 10, height: 10 }), 0);
  assert.equal(intersectionOverSmaller({ x: 0, y: 0, width: 10, height: 10 }, { x: 5, y: 0, width: 10, height: 10 }), 0.5);
});

test('mergeDetections: a face in both passes once (the full-frame box), a small face only the tiles found kept, weak tile faces dropped', () => {
  const full = [face(100, 100, 200, 220, 0.95)];
  const tiled = [
    { ...face(105, 102, 190, 215, 0.97), tile: 0 }, // the same large face seen by a tile
    { ...face(150, 150, 60, 60, 0.8), tile: 0 }, // a part of the large face (inside it)
    { ...face(600, 400, 40, 44, 0.75), tile: 3 }, // a small face
    { ...face(603, 401, 38, 42, 0.7), tile: 4 }, // the same small face in the neighbouring tile
    { ...face(900, 100, 30, 30, 0.55), tile: 2 }, // weak: under tileMinScore
  ];
  const kept = mergeKeepingOrigin(full, tiled, { matchThreshold: 0.5, tileMinScore: 0.6 });
  assert.equal(kept.length, 2);
  // The large face keeps its full-frame box although the tile scored it higher.
  assert.deepEqual(kept.map((f) => [f.box.x, f.tile]), [[100, undefined], [600, 3]]);
  const merged = mergeDetections(full, tiled, { matchThreshold: 0.5, tileMinScore: 0.6 });
  assert.deepEqual(merged.map((f) => Object.keys(f).sort()), [['box', 'score'], ['box', 'score']]);
  // With a stricter tile threshold only the full-frame face is left.
  assert.deepEqual(mergeDetections(full, tiled, { matchThreshold: 0.5, tileMinScore: 0.99 }), full);
  // The full-frame pass's own faces are never merged away, even when one lies over another (a crossing).
  const crossing = [face(100, 100, 100, 100, 0.9), face(150, 110, 90, 90, 0.8)];
  assert.deepEqual(mergeDetections(crossing, [{ ...face(155, 112, 88, 88, 0.95), tile: 1 }], { matchThreshold: 0.5, tileMinScore: 0.6 }), crossing);
  // A small full-frame face competes with the tile's box of it by score; a large one does not.
  const small = [face(600, 400, 50, 50, 0.58)];
  const tileBox = { ...face(612, 410, 24, 24, 0.86), tile: 2 };
  assert.deepEqual(mergeKeepingOrigin(small, [tileBox], { matchThreshold: 0.5, tileMinScore: 0.6, keepFullFromPx: 120 }).map((f) => f.tile), [2]);
  assert.deepEqual(mergeKeepingOrigin(small, [tileBox], { matchThreshold: 0.5, tileMinScore: 0.6, keepFullFromPx: 40 }).map((f) => f.tile), [undefined]);
  // No tile faces: the full-frame pass as it was.
  assert.deepEqual(mergeDetections(full, [], { matchThreshold: 0.5, tileMinScore: 0.6 }), full);
});

test('mergeDetections: a large face only a tile found must score largeMinScore; small ones and those the full frame saw keep tileMinScore', () => {
  const o = { matchThreshold: 0.5, tileMinScore: 0.65, largeFromPx: 40, largeMinScore: 0.75 };
  const carving = { ...face(424, 235, 53, 53, 0.7), tile: 5 }; // large, weak, the full frame saw nothing there
  const sure = { ...face(100, 50, 60, 60, 0.8), tile: 1 }; // large and sure
  const small = { ...face(300, 40, 30, 30, 0.68), tile: 2 }; // under largeFromPx: tileMinScore applies
  const seen = { ...face(500, 100, 62, 62, 0.7), tile: 3 }; // weak, but the full-frame pass found it too (lower)
  const full = [face(498, 98, 66, 66, 0.55)];
  const kept = mergeKeepingOrigin(full, [carving, sure, small, seen], o);
  assert.deepEqual(kept.map((f) => f.box.x).sort((a, b) => a - b), [100, 300, 498]);
  // Without the two options every tile face over tileMinScore counts, the carving too.
  assert.deepEqual(mergeKeepingOrigin([], [carving], { matchThreshold: 0.5, tileMinScore: 0.65 }).map((f) => f.box.x), [424]);
  assert.deepEqual(mergeKeepingOrigin([], [carving], { ...o, largeMinScore: 0.7 }).map((f) => f.box.x), [424]);
});

test('mergeDetections: a face cut by a tile edge gives way to its whole box even when it scores higher', () => {
  const cut = { ...face(390, 200, 20, 40, 0.9), tile: 0, atInnerEdge: true as const };
  const whole = { ...face(385, 200, 40, 40, 0.7), tile: 1 };
  assert.deepEqual(mergeKeepingOrigin([], [cut, whole], { matchThreshold: 0.5, tileMinScore: 0.6 }).map((f) => f.tile), [1]);
  // Where no whole box was found, the cut one is kept (better than nothing).
  assert.deepEqual(mergeKeepingOrigin([], [cut], { matchThreshold: 0.5, tileMinScore: 0.6 }).map((f) => f.tile), [0]);
});

test('cropRgb copies the tile pixels row by row', () => {
  const w = 5, h = 4;
  const rgb = new Uint8Array(w * h * 3).map((_, i) => i % 251);
  const out = cropRgb(rgb, w, { x: 1, y: 2, width: 3, height: 2 });
  assert.equal(out.length, 3 * 2 * 3);
  const px = (x: number, y: number) => Array.from(rgb.subarray((y * w + x) * 3, (y * w + x) * 3 + 3));
  assert.deepEqual(Array.from(out.subarray(0, 3)), px(1, 2));
  assert.deepEqual(Array.from(out.subarray(15, 18)), px(3, 3));
});

test('detectTiles runs the detector on each tile\'s pixels and maps its faces back', async () => {
  const W = 40, H = 20;
  const rgb = new Uint8Array(W * H * 3);
  rgb.set([200, 10, 10], (5 * W + 30) * 3); // a marked pixel at (30, 5)
  const seen: Array<[number, number]> = [];
  const detector: FaceDetector = {
    name: 'fake',
    async detect(px, width, height) {
      seen.push([width, height]);
      // Report a face around the marked pixel when this tile holds it.
      for (let i = 0; i < width * height; i++) {
        if (px[i * 3] === 200) return [face((i % width) - 2, Math.floor(i / width) - 2, 4, 4, 0.9)];
      }
      return [];
    },
    dispose() {},
  };
  const tiles = tileGrid(W, H, { cols: 2, rows: 1, overlap: 0.25 });
  const found = await detectTiles(detector, rgb, W, H, tiles, [7, 9]);
  assert.equal(seen.length, 2);
  assert.deepEqual(found.map((f) => [f.box.x, f.box.y, f.tile]), [[28, 3, 9]]);
});
