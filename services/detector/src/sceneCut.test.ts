import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SceneCutDetector, frameGrid, gridChange } from './sceneCut.js';

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
