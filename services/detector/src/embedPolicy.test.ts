import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FaceCrop } from '@emostream/contracts';
import { EmbeddingPolicy } from './embedPolicy.js';

const FRAME = { width: 1280, height: 720 };
const face = (x: number, h = 60, y = 100): FaceCrop => ({ box: { x, y, width: h, height: h }, score: 0.9, crop: new Uint8Array(0) });
const xs = (fs: FaceCrop[]) => fs.map((f) => f.box.x);

test('embedding policy, fixed period: new faces, each face once per everyMs of media time, cuts; never small faces', () => {
  const p = new EmbeddingPolicy({ everyMs: 300, minFacePx: 40 });
  assert.deepEqual(xs(p.select('c', [face(100), face(600, 30)], false, 0, FRAME)), [100], 'first frame: every face, the small one left out');
  assert.deepEqual(xs(p.select('c', [face(102)], false, 100, FRAME)), [], 'the same face again');
  assert.deepEqual(xs(p.select('c', [face(104), face(400)], false, 200, FRAME)), [400], 'a new face');
  assert.deepEqual(xs(p.select('c', [face(106), face(402)], false, 300, FRAME)), [106], '300 ms after its first: the first face');
  assert.deepEqual(xs(p.select('c', [face(108), face(404)], false, 500, FRAME)), [404], 'the second face 300 ms after its own');
  assert.deepEqual(xs(p.select('c', [face(110), face(406)], true, 540, FRAME)), [110, 406], 'a cut: every face');
  assert.deepEqual(xs(p.select('c', [face(112), face(408)], false, 800, FRAME)), [], '260 ms since the cut: not yet');
  assert.deepEqual(xs(p.select('c', [face(114), face(410)], false, 840, FRAME)), [114, 410], 'due at 840 ms, whatever the frame rate');
  assert.deepEqual(xs(p.select('c', [face(116), face(412)], false, 40, FRAME)), [116, 412], 'media time went back (a looped file): every face');
  assert.deepEqual(xs(p.select('c', [face(118), face(414)], false, 80, FRAME)), [], 'and counts from there');
  assert.deepEqual(xs(p.select('other', [face(108)], false, 900, FRAME)), [108], 'each camera on its own');
  // At 25 fps, 3 s of frames embed a face as often as at 10 fps.
  for (const fps of [10, 25]) {
    const q = new EmbeddingPolicy({ everyMs: 1000, minFacePx: 40 });
    let all = 0;
    for (let i = 0; i < fps * 3; i++) all += q.select('c', [face(100)], false, Math.round((i * 1000) / fps), FRAME).length;
    assert.equal(all, 3, `${fps} fps: 3 embeddings in 3 s`);
  }
  assert.throws(() => new EmbeddingPolicy({ everyMs: 0, minFacePx: 40 }), /positive/);
});

test('embedding policy: a face alone waits 1, 2, 4 s… up to maxEveryMs; a face near another keeps everyMs', () => {
  const run = (faces: () => FaceCrop[], seconds: number) => {
    const p = new EmbeddingPolicy({ everyMs: 1000, maxEveryMs: 4000, minFacePx: 40 });
    const at: number[][] = faces().map(() => []);
    for (let t = 0; t <= seconds * 1000; t += 100) {
      const fs = faces();
      for (const f of p.select('c', fs, false, t, FRAME)) at[fs.indexOf(f)].push(t / 1000);
    }
    return at;
  };
  assert.deepEqual(run(() => [face(100)], 20), [[0, 1, 3, 7, 11, 15, 19]], 'alone: 1 s, then 2, then 4 s apart');
  // Two faces 100 px apart (under two widths of 60 px): each once a second, as the tracker may need to tell them apart.
  assert.deepEqual(run(() => [face(100), face(200)], 3), [[0, 1, 2, 3], [0, 1, 2, 3]]);
  // 300 px apart: alone.
  assert.deepEqual(run(() => [face(100), face(400)], 3), [[0, 1, 3], [0, 1, 3]]);
  const fixed = new EmbeddingPolicy({ everyMs: 1000, maxEveryMs: 500, minFacePx: 40 });
  assert.equal(fixed.periodMs(5, false), 1000, 'a maxEveryMs under everyMs is a fixed period');
});

test('embedding policy: a face cut by the edge when embedded is embedded again once whole; so is one grown 1.5x', () => {
  const p = new EmbeddingPolicy({ everyMs: 1000, maxEveryMs: 4000, minFacePx: 40 });
  // Coming in from the left edge: cut at 0 ms, still cut at 100 ms, whole at 200 ms.
  assert.deepEqual(xs(p.select('c', [face(0)], false, 0, FRAME)), [0]);
  assert.deepEqual(xs(p.select('c', [face(5)], false, 100, FRAME)), [], 'still cut: nothing better to embed');
  assert.deepEqual(xs(p.select('c', [face(20)], false, 200, FRAME)), [20], 'whole now: at once');
  assert.deepEqual(xs(p.select('c', [face(22)], false, 300, FRAME)), [], 'then its period again');
  // Walking towards the camera: 60 px high, then 80 (1.33x), then 90 (1.5x its last embedding).
  assert.deepEqual(xs(p.select('d', [face(500, 60)], false, 0, FRAME)), [500]);
  assert.deepEqual(xs(p.select('d', [face(495, 80)], false, 100, FRAME)), []);
  assert.deepEqual(xs(p.select('d', [face(490, 90)], false, 200, FRAME)), [490]);
});

test('embedding policy: a face that jumped between two frames (IoU under JUMP_IOU with the face it follows) is embedded again at once', () => {
  const p = new EmbeddingPolicy({ everyMs: 1000, maxEveryMs: 4000, minFacePx: 40 });
  assert.deepEqual(xs(p.select('c', [face(600, 180)], false, 0, FRAME)), [600]);
  // Moving 18 px a frame: IoU 0.82, the period holds.
  assert.deepEqual(xs(p.select('c', [face(618, 180)], false, 100, FRAME)), []);
  // 80 px to the left in one frame (a missed cut between two close-ups, as on the scene bench): IoU 0.49, still followed (≥ 0.3).
  assert.deepEqual(xs(p.select('c', [face(538, 180)], false, 200, FRAME)), [538], 'jumped: at once');
  assert.deepEqual(xs(p.select('c', [face(540, 180)], false, 300, FRAME)), [], 'then its period again');
  const off = new EmbeddingPolicy({ everyMs: 1000, maxEveryMs: 4000, minFacePx: 40, jumpIou: 0 });
  off.select('c', [face(600, 180)], false, 0, FRAME);
  assert.deepEqual(xs(off.select('c', [face(538, 180)], false, 100, FRAME)), [], 'jumpIou 0: never');
});
