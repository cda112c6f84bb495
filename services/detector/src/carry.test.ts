import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FaceBox } from '@emostream/contracts';
import { boxGrid, DetectionCarry, GRID, gridMotion, onSchedule } from './carry.js';

const W = 200, H = 120;

/** A textured frame (a diagonal pattern), shifted right by `dx` px and brightened by `add`. */
function picture(dx = 0, add = 0): Uint8Array {
  const rgb = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const v = (((x - dx) * 13 + y * 7) % 200) + add;
      rgb.fill(Math.max(0, Math.min(255, v)), (y * W + x) * 3, (y * W + x) * 3 + 3);
    }
  }
  return rgb;
}

const face = (score = 0.9, x = 40): FaceBox => ({ box: { x, y: 20, width: 64, height: 64 }, score, eyes: { left: [x + 16, 40], right: [x + 48, 42] } });
const opts = { everyMs: 300, minScore: 0.7, maxMotion: 0.02 };

test('carries a still detection for everyMs of media time, then asks for a detection (due), at any frame rate', () => {
  for (const [fps, expected] of [
    // 10 fps: detected on frames 0, 3, 6 (two carried frames after each detection).
    [10, ['tracked', 'tracked', 'due', 'tracked', 'tracked', 'due', 'tracked']],
    // 25 fps: on frames 0, 8 (40 ms apart: 280 ms still carried, 320 ms due).
    [25, ['tracked', 'tracked', 'tracked', 'tracked', 'tracked', 'tracked', 'tracked', 'due', 'tracked']],
  ] as const) {
    const carry = new DetectionCarry(opts);
    const still = picture();
    assert.deepEqual(carry.reuse('cam', still, W, H, false, 0), { carried: false, reason: 'first' });
    carry.record('cam', still, W, H, [face()], 0);
    const reasons: string[] = [];
    for (let i = 1; i <= expected.length; i++) {
      const t = Math.round((i * 1000) / fps);
      const d = carry.reuse('cam', still, W, H, false, t);
      reasons.push(d.reason);
      if (!d.carried) carry.record('cam', still, W, H, [face()], t);
    }
    assert.deepEqual(reasons, expected, `${fps} fps`);
  }
  // Media time that goes back (a looped file, a restarted stream) is detected afresh.
  const carry = new DetectionCarry(opts);
  carry.record('cam', picture(), W, H, [face()], 5000);
  assert.equal(carry.reuse('cam', picture(), W, H, false, 5100).reason, 'tracked');
  assert.equal(carry.reuse('cam', picture(), W, H, false, 100).reason, 'due');
});

test('the carried faces are copies: box, score and eyes as detected, no crop or embedding, and changing them changes nothing', () => {
  const carry = new DetectionCarry(opts);
  const detected = { ...face(), embedding: 'AAAA', crop: new Uint8Array(4) } as FaceBox;
  carry.record('cam', picture(), W, H, [detected], 0);
  const d = carry.reuse('cam', picture(), W, H, false, 100);
  assert.ok(d.carried);
  assert.deepEqual(d.faces, [face()]);
  d.faces[0].box.x = 0;
  d.faces[0].eyes!.left[0] = 0;
  detected.box.x = 1;
  const again = carry.reuse('cam', picture(), W, H, false, 100);
  assert.ok(again.carried);
  assert.deepEqual(again.faces, [face()]);
});

test('crops: the last crops of the carried faces while younger than maxAgeMs, forgotten by a detection; copies', () => {
  const carry = new DetectionCarry(opts);
  const crop = (v: number) => ({ ...face(), crop: new Uint8Array(2304).fill(v) });
  assert.equal(carry.crops('cam', 0, 100), undefined, 'nothing before a detection');
  carry.keepCrops('cam', 0, [crop(1)]);
  assert.equal(carry.crops('cam', 0, 100), undefined, 'no detection: nothing kept');
  carry.record('cam', picture(), W, H, [face()], 0);
  assert.equal(carry.crops('cam', 40, 100), undefined, 'the detection\'s frame was not cut yet');
  carry.keepCrops('cam', 0, [crop(1), crop(2)]);
  assert.equal(carry.crops('cam', 40, 100), undefined, 'crops of other faces than the detection\'s are not kept');
  carry.keepCrops('cam', 0, [crop(1)]);
  const kept = carry.crops('cam', 40, 100)!;
  assert.deepEqual(kept.map((c) => c.crop[0]), [1]);
  assert.deepEqual({ box: kept[0].box, score: kept[0].score, eyes: kept[0].eyes }, face());
  kept[0].box.x = 0;
  assert.equal(carry.crops('cam', 80, 100)![0].box.x, face().box.x, 'a copy');
  assert.equal(carry.crops('cam', 100, 100), undefined, '100 ms old: too old');
  assert.equal(carry.crops('cam', 40, 0), undefined, 'maxAgeMs 0: never');
  assert.equal(carry.crops('cam', -10, 100), undefined, 'media time gone back');
  assert.equal(carry.crops('other', 40, 100), undefined, 'cameras are apart');
  carry.keepCrops('cam', 120, [crop(3)]);
  assert.deepEqual(carry.crops('cam', 160, 100)!.map((c) => c.crop[0]), [3]);
  carry.record('cam', picture(), W, H, [face()], 200);
  assert.equal(carry.crops('cam', 210, 100), undefined, 'a new detection forgets them');
});

test('everyMs 0 never carries (every frame detected)', () => {
  const carry = new DetectionCarry({ ...opts, everyMs: 0 });
  carry.record('cam', picture(), W, H, [face()], 0);
  assert.deepEqual(carry.reuse('cam', picture(), W, H, false, 100), { carried: false, reason: 'every_frame' });
  assert.throws(() => new DetectionCarry({ ...opts, everyMs: -1 }), /0 or more/);
  assert.throws(() => new DetectionCarry({ ...opts, everyMs: 1.5 }), /whole number/);
});

test('a hard cut, a new frame size, a face under minScore or a weak candidate forces a detection', () => {
  const carry = new DetectionCarry(opts);
  carry.record('cam', picture(), W, H, [face(0.9), face(0.75, 120)], 0);
  assert.equal(carry.reuse('cam', picture(), W, H, true, 100).reason, 'cut');
  assert.equal(carry.reuse('cam', new Uint8Array(100 * 60 * 3), 100, 60, false, 100).reason, 'size');
  carry.record('cam', picture(), W, H, [face(0.9), face(0.69, 120)], 0);
  assert.equal(carry.reuse('cam', picture(), W, H, false, 100).reason, 'score');
  // A weak candidate was dropped (low_score): it may be a face that comes and goes.
  carry.record('cam', picture(), W, H, [face(0.9)], 0, true);
  assert.equal(carry.reuse('cam', picture(), W, H, false, 100).reason, 'score');
});

test('motion inside any box forces a detection; noise and a small brightness change do not', () => {
  const carry = new DetectionCarry(opts);
  carry.record('cam', picture(), W, H, [face(0.9, 20), face(0.9, 110)], 0);
  assert.equal(carry.reuse('cam', picture(0, 3), W, H, false, 100).reason, 'tracked', '3 gray levels brighter: 0.012');
  carry.record('cam', picture(), W, H, [face(0.9, 20), face(0.9, 110)], 0);
  // The picture moved by 4 px: the diagonal pattern inside both boxes changes.
  assert.equal(carry.reuse('cam', picture(4), W, H, false, 100).reason, 'motion');
  // Only the second face's region changed.
  const partly = picture();
  const moved = picture(6);
  for (let y = 0; y < H; y++) partly.set(moved.subarray((y * W + 110) * 3, (y * W + 174) * 3), (y * W + 110) * 3);
  carry.record('cam', picture(), W, H, [face(0.9, 20), face(0.9, 110)], 0);
  assert.equal(carry.reuse('cam', partly, W, H, false, 100).reason, 'motion');
});

test('a detection without faces is carried too (until due); cameras are apart', () => {
  const carry = new DetectionCarry(opts);
  carry.record('a', picture(), W, H, [], 0);
  const d = carry.reuse('a', picture(9), W, H, false, 100);
  assert.deepEqual(d, { carried: true, reason: 'tracked', faces: [] });
  assert.equal(carry.reuse('b', picture(), W, H, false, 100).reason, 'first');
  carry.forget('a');
  assert.equal(carry.reuse('a', picture(), W, H, false, 100).reason, 'first');
});

test('boxGrid: mean gray per cell, boxes clamped to the frame, tiny boxes too', () => {
  const flat = new Uint8Array(W * H * 3).fill(51);
  const g = boxGrid(flat, W, H, { x: 10, y: 10, width: 40, height: 40 });
  assert.equal(g.length, GRID * GRID);
  for (const v of g) assert.ok(Math.abs(v - 0.2) < 1e-6);
  // Half outside the frame, and a 3 px box (cells of less than a pixel).
  for (const box of [{ x: W - 20, y: H - 20, width: 60, height: 60 }, { x: 5.5, y: 5.5, width: 3, height: 3 }]) {
    const c = boxGrid(flat, W, H, box);
    for (const v of c) assert.ok(Math.abs(v - 0.2) < 1e-6, `${JSON.stringify(box)}: ${v}`);
  }
  assert.equal(gridMotion(g, g), 0);
  const left = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) left.fill(255, y * W * 3, (y * W + 30) * 3); // columns 0-29 white
  const h = boxGrid(left, W, H, { x: 0, y: 0, width: 80, height: 80 });
  // Cells of 10 px: the first three columns of cells white, the rest black.
  assert.deepEqual(Array.from(h.slice(0, GRID)), [1, 1, 1, 0, 0, 0, 0, 0]);
  assert.ok(Math.abs(gridMotion(h, g) - (3 * 0.8 + 5 * 0.2) / 8) < 1e-6);
});

test('expire (a tile found a face the detection lacks): the next frame is detected (tile, off schedule); a detection carries again; other cameras unaffected', () => {
  const carry = new DetectionCarry(opts);
  const still = picture();
  carry.record('cam', still, W, H, [face()], 0);
  carry.record('other', still, W, H, [face()], 0);
  carry.expire('cam');
  carry.expire('nobody');
  assert.deepEqual(carry.reuse('cam', still, W, H, false, 100), { carried: false, reason: 'tile' });
  assert.equal(onSchedule('tile'), false);
  assert.equal(carry.reuse('other', still, W, H, false, 100).reason, 'tracked');
  carry.record('cam', still, W, H, [face(), face(0.9, 120)], 100);
  assert.equal(carry.reuse('cam', still, W, H, false, 200).reason, 'tracked');
});

test('crops of a detection that is no longer the last are neither kept nor given (current, the token of keepCrops and crops)', () => {
  const carry = new DetectionCarry(opts);
  const crop = (v: number) => ({ ...face(), crop: new Uint8Array(2304).fill(v) });
  assert.equal(carry.current('cam'), undefined);
  carry.record('cam', picture(), W, H, [face()], 0);
  const first = carry.current('cam')!;
  carry.keepCrops('cam', 0, [crop(1)], first);
  assert.deepEqual(carry.crops('cam', 40, 100, first)!.map((c) => c.crop[0]), [1], 'its own detection: kept and given');
  // The next frame's detection came before this frame's crops were cut (they are cut beside it).
  carry.record('cam', picture(), W, H, [face()], 40);
  const second = carry.current('cam')!;
  assert.notEqual(second, first);
  carry.keepCrops('cam', 40, [crop(2)], first);
  assert.equal(carry.crops('cam', 60, 100), undefined, 'the stale crops were not kept for the new detection');
  assert.equal(carry.crops('cam', 60, 100, first), undefined, 'nor are crops given for a detection that is gone');
  carry.keepCrops('cam', 40, [crop(3)], second);
  assert.deepEqual(carry.crops('cam', 60, 100, second)!.map((c) => c.crop[0]), [3]);
});
