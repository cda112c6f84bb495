import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SceneCutDetector, frameGrid, gridChange } from './sceneCut.js';
import type { FaceCrop } from '@emostream/contracts';
import { EmbeddingPolicy } from './embedPolicy.js';

/** A 64x48 RGB frame: a gray background with a bright square at (x, y). */
function frame(bg: number, square?: { x: number; y: number; v: number }): Uint8Array {
  const f = new Uint8Array(64 * 48 * 3).fill(bg);
  if (square) for (let y = square.y; y < square.y + 16; y++) for (let x = square.x; x < square.x + 16; x++) f.fill(square.v, (y * 64 + x) * 3, (y * 64 + x) * 3 + 3);
  return f;
}

test('frameGrid: the 8x6 mean gray levels; gridChange: the median cell\'s change', () => {
  const g = frameGrid(frame(51), 64, 48);
  assert.equal(g.length, 48);
  assert.ok(g.every((v) => Math.abs(v - 0.2) < 1e-6));
  assert.equal(gridChange(g, frameGrid(frame(153), 64, 48)).toFixed(4), '0.4000');
  // A bright square over 4 of 48 cells: a big local change, but the median cell did not change.
  assert.equal(gridChange(g, frameGrid(frame(51, { x: 0, y: 0, v: 255 }), 64, 48)), 0);
});

test('a cut is a change well above the recent motion; a moving square is not, a new picture is', () => {
  const d = new SceneCutDetector({ minChange: 0.03, ratio: 2 });
  const seen: boolean[] = [];
  for (let i = 0; i < 6; i++) seen.push(d.isCut('a', frame(60, { x: 4 * i, y: 8, v: 200 }), 64, 48));
  seen.push(d.isCut('a', frame(180), 64, 48)); // a new shot
  seen.push(d.isCut('a', frame(180), 64, 48));
  assert.deepEqual(seen, [false, false, false, false, false, false, true, false]);
  assert.equal(d.isCut('b', frame(0), 64, 48), false, 'a camera\'s first frame is no cut');
  // A picture that keeps changing as much (a strobe): motion, never a cut.
  const m = new SceneCutDetector({ minChange: 0.03, ratio: 2 });
  const strobe: boolean[] = [];
  for (let i = 0; i < 8; i++) strobe.push(m.isCut('a', frame(i % 2 ? 40 : 120), 64, 48));
  assert.deepEqual(strobe, [false, false, false, false, false, false, false, false]);
});

test('embedding policy: new faces, once per everyMs of media time, cuts; never small faces', () => {
  const p = new EmbeddingPolicy({ everyMs: 300, minFacePx: 40 });
  const face = (x: number, h = 60): FaceCrop => ({ box: { x, y: 10, width: h, height: h }, score: 0.9, crop: new Uint8Array(0) });
  const ids = (fs: FaceCrop[]) => fs.map((f) => f.box.x);
  assert.deepEqual(ids(p.select('c', [face(0), face(200, 30)], false, 0)), [0], 'first frame: every face, the small one left out');
  assert.deepEqual(ids(p.select('c', [face(2)], false, 100)), [], 'the same face again');
  assert.deepEqual(ids(p.select('c', [face(4), face(400)], false, 200)), [400], 'a new face');
  assert.deepEqual(ids(p.select('c', [face(6), face(402)], false, 300)), [6, 402], '300 ms on: every face');
  assert.deepEqual(ids(p.select('c', [face(8), face(404)], true, 340)), [8, 404], 'a cut');
  assert.deepEqual(ids(p.select('c', [face(10), face(406)], false, 560)), [], '260 ms since the last: not yet');
  assert.deepEqual(ids(p.select('c', [face(12), face(408)], false, 600)), [12, 408], 'due at 600 ms, whatever the frame rate');
  assert.deepEqual(ids(p.select('c', [face(14), face(410)], false, 40)), [14, 410], 'media time went back (a looped file): every face');
  assert.deepEqual(ids(p.select('c', [face(16), face(412)], false, 80)), [], 'and counts from there');
  assert.deepEqual(ids(p.select('other', [face(8)], false, 900)), [8], 'each camera on its own');
  // At 25 fps, 1 s of frames embeds every face once a second (25 frames), as at 10 fps (10 frames).
  for (const fps of [10, 25]) {
    const q = new EmbeddingPolicy({ everyMs: 1000, minFacePx: 40 });
    let all = 0;
    for (let i = 0; i < fps * 3; i++) all += q.select('c', [face(0)], false, Math.round((i * 1000) / fps)).length;
    assert.equal(all, 3, `${fps} fps: 3 embeddings in 3 s`);
  }
  assert.throws(() => new EmbeddingPolicy({ everyMs: 0, minFacePx: 40 }), /positive/);
});
