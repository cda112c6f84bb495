import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchByIou, type Box, type FacesMessage } from '@emostream/contracts';
import { ClassificationReuse, cropChange, type ReuseOptions } from './reuse.js';

const OPTS: ReuseOptions = { maxMs: 300, minMs: 0, maxChange: 0.03, minIou: 0.9, maxCameras: 8, idleMs: 60_000 };
const box = (x: number, w = 40): Box => ({ x, y: 10, width: w, height: w });
/** A 48x48 crop of gray `v`, with `patch` (x0, y0, size, value) painted on it. */
function crop(v: number, patch?: [number, number, number, number]): Uint8Array {
  const c = new Uint8Array(2304).fill(v);
  if (patch) for (let y = patch[1]; y < patch[1] + patch[2]; y++) for (let x = patch[0]; x < patch[0] + patch[2]; x++) c[y * 48 + x] = patch[3];
  return c;
}
/** Frame `seq` of a camera, at media time `o.ms` (default: 10 fps, 100 ms apart). */
const frame = (seq: number, faces: Array<{ box: Box; crop: Uint8Array }>, o: { camera?: string; cut?: boolean; ms?: number } = {}): FacesMessage => ({
  frame: { schemaVersion: 1, cameraId: o.camera ?? 'cam', seq, mediaTimeMs: o.ms ?? seq * 100, capturedAtMs: 1e12 + seq, width: 640, height: 360, ...(o.cut ? { sceneCut: true } : {}) },
  faces: faces.map((f) => ({ ...f, score: 0.9 })),
});
/** A model's output: face i of the call → probability 1 on emotion (base + i) % 7. */
const out = (n: number, base: number) => { const o = new Float32Array(n * 7); for (let i = 0; i < n; i++) o[i * 7 + ((base + i) % 7)] = 1; return o; };
const top = (p: Float32Array) => p.indexOf(Math.max(...p));

/** Runs frames one batch each; returns per frame how many faces went to the model and each face's argmax. */
function run(r: ClassificationReuse, frames: FacesMessage[], version = 'v1'): Array<{ model: number; tops: number[] }> {
  return frames.map((m, i) => {
    const plan = r.plan([m], version);
    const probs = plan.resolve(out(plan.crops.length, i));
    return { model: plan.crops.length, tops: probs[0].map(top) };
  });
}

test('cropChange: the largest mean absolute difference of a 6x6 grid cell, gray levels / 255', () => {
  assert.equal(cropChange(crop(100), crop(100)), 0);
  assert.ok(Math.abs(cropChange(crop(100), crop(110)) - 10 / 255) < 1e-9, 'a uniform change is its size');
  // One 8x8 cell changed by 51: the whole face's mean would be 1/36 of it; the cell's is all of it.
  assert.ok(Math.abs(cropChange(crop(100), crop(100, [8, 16, 8, 151])) - 0.2) < 1e-9);
  // A quarter of a cell (4x4 of its 8x8 pixels) changed: a quarter of the change.
  assert.ok(Math.abs(cropChange(crop(100), crop(100, [8, 16, 4, 151])) - 0.05) < 1e-9);
});

test('matchByIou: each box continues the best overlapping box of the frame before (IoU at least minIou), each used once', () => {
  assert.deepEqual(matchByIou([box(0), box(100)], [box(101), box(1), box(300)], 0.9), [1, 0]);
  assert.deepEqual(matchByIou([box(0), box(1)], [box(0)], 0.9), [0, undefined], 'the better overlap wins the one box');
  assert.deepEqual(matchByIou([box(0)], [box(3)], 0.9), [undefined], 'IoU 0.86 is under 0.9');
  assert.deepEqual(matchByIou([box(0)], [], 0.9), [undefined]);
});

test('reuse: an unchanged face reuses its probabilities while its classification is under maxMs of media old, then is classified again', () => {
  const f = { box: box(0), crop: crop(100) };
  const fresh = (got: Array<{ model: number }>) => got.flatMap((g, i) => (g.model ? [i] : []));
  // 10 fps, 100 ms apart: 0 fresh, 100 and 200 reused, 300 fresh (300 - 0 is not under 300).
  const ten = run(new ClassificationReuse(OPTS), [0, 1, 2, 3, 4, 5, 6].map((s) => frame(s, [f])));
  assert.deepEqual(fresh(ten), [0, 3, 6], 'at 10 fps classified on frames 0, 3, 6');
  assert.deepEqual(ten.map((g) => g.tops[0]), [0, 0, 0, 3, 3, 3, 6], 'a reused face carries the probabilities of its last classification');
  // 25 fps, 40 ms apart: 280 ms is the last reused, 320 is fresh: every 8th frame.
  const frames25 = Array.from({ length: 20 }, (_, s) => frame(s, [f], { ms: s * 40 }));
  const twentyFive = run(new ClassificationReuse(OPTS), frames25);
  assert.deepEqual(fresh(twentyFive), [0, 8, 16], 'at 25 fps classified on frames 0, 8, 16');
  assert.deepEqual(twentyFive.map((g) => g.tops[0]).slice(6, 10), [0, 0, 1, 1], 'frames 6-7 carry frame 0\'s call, 8-9 frame 8\'s (emotion 8 % 7)');
  // Uneven frame times: measured from the fresh classification, not from the frame before.
  const uneven = run(new ClassificationReuse(OPTS), [0, 250, 299, 300, 590, 610].map((ms, s) => frame(s, [f], { ms })));
  assert.deepEqual(fresh(uneven), [0, 3, 5]);
});

test('reuse: media time that goes back (a file that loops, a restarted stream) classifies afresh', () => {
  const r = new ClassificationReuse(OPTS);
  const f = { box: box(0), crop: crop(100) };
  const got = run(r, [frame(0, [f], { ms: 5000 }), frame(1, [f], { ms: 5100 }), frame(2, [f], { ms: 0 }), frame(3, [f], { ms: 100 }), frame(4, [f], { ms: 4999 })]);
  assert.deepEqual(got.map((g) => g.model), [1, 0, 1, 0, 1], 'back to 0: afresh, then reused from there; a jump ahead past maxMs: afresh');
  assert.deepEqual(got.map((g) => g.tops[0]), [0, 0, 2, 2, 4]);
  const same = run(new ClassificationReuse(OPTS), [frame(0, [f], { ms: 700 }), frame(1, [f], { ms: 700 }), frame(2, [f], { ms: 699 })]);
  assert.deepEqual(same.map((g) => g.model), [1, 0, 1], 'the same media time is reused (0 ms old); 1 ms before it is not');
});

test('reuse: each condition of reuse', () => {
  const r = new ClassificationReuse({ ...OPTS, maxMs: 10_000 });
  const f = { box: box(0), crop: crop(100) };
  const model = (m: FacesMessage, version = 'v1') => run(r, [m], version)[0].model;
  assert.equal(model(frame(0, [f])), 1, 'the first frame');
  assert.equal(model(frame(1, [{ box: box(0), crop: crop(100, [0, 0, 8, 107]) }])), 0, 'one cell changed by 7/255 = 0.027: reused');
  assert.equal(model(frame(2, [{ box: box(0), crop: crop(100, [0, 0, 8, 109]) }])), 1, 'by 9/255 = 0.035 against the crop classified: afresh');
  assert.equal(model(frame(3, [{ box: box(3), crop: crop(100, [0, 0, 8, 109]) }])), 1, 'the box moved (IoU 0.86): afresh');
  assert.equal(model(frame(4, [{ box: box(3), crop: crop(100, [0, 0, 8, 109]) }], { cut: true })), 1, 'a hard cut: afresh');
  assert.equal(model(frame(5, [{ box: box(3), crop: crop(100, [0, 0, 8, 109]) }])), 0, 'unchanged since: reused');
  assert.equal(model(frame(5, [{ box: box(3), crop: crop(100, [0, 0, 8, 109]) }])), 1, 'the same seq again (a redelivery): afresh');
  assert.equal(model(frame(6, [{ box: box(3), crop: crop(100, [0, 0, 8, 109]) }]), 'v2'), 1, 'a new model version: afresh');
  assert.equal(model(frame(7, [{ box: box(3), crop: crop(100, [0, 0, 8, 109]) }]), 'v2'), 0);
  assert.equal(model(frame(8, [{ box: box(3), crop: crop(100, [0, 0, 8, 109]) }], { camera: 'other' }), 'v2'), 1, 'another camera has its own faces');
});

test('reuse: several faces are matched by their boxes; a new face is classified, a face that left is forgotten', () => {
  const r = new ClassificationReuse({ ...OPTS, maxMs: 10_000 });
  const a = { box: box(0), crop: crop(50) };
  const b = { box: box(200), crop: crop(150) };
  const c = { box: box(400), crop: crop(250) };
  const got = run(r, [frame(0, [a, b]), frame(1, [b, a]), frame(2, [c, a]), frame(3, [b, a, c])]);
  assert.deepEqual(got.map((g) => g.model), [2, 0, 1, 1]);
  assert.deepEqual(got[1].tops, [1, 0], 'b and a keep their own probabilities whatever their order');
  assert.deepEqual(got[2].tops, [2, 0], 'c is new');
  assert.deepEqual(got[3].tops, [3, 0, 2], 'b had left (forgotten), a and c reused');
});

test('reuse: frames of one batch reuse the faces of an earlier frame of the same batch; a failed batch keeps nothing', () => {
  const r = new ClassificationReuse(OPTS);
  const f = { box: box(0), crop: crop(100) };
  const failed = r.plan([frame(0, [f])], 'v1');
  assert.equal(failed.crops.length, 1);
  // No resolve: the model call failed. The next batch starts from nothing.
  const plan = r.plan([frame(0, [f]), frame(1, [f]), frame(2, [f]), frame(3, [f], { camera: 'b' })], 'v1');
  assert.equal(plan.crops.length, 2, 'one crop of cam and one of b go to the model');
  assert.deepEqual(plan.reused, [0, 1, 1, 0]);
  const probs = plan.resolve(out(2, 4));
  assert.deepEqual(probs.map((fr) => top(fr[0])), [4, 4, 4, 5]);
  assert.throws(() => plan.resolve(out(2, 4)), /resolved once/);
  assert.equal(r.plan([frame(3, [f])], 'v1').crops.length, 1, 'classified at 0 ms, now 300 ms: afresh');
});

test('reuse: minMs reuses a changed face until its classification is minMs of media old, at 30 fps every third frame, at 10 fps none', () => {
  const r = new ClassificationReuse({ ...OPTS, minMs: 100 });
  // Every frame's crop differs from the last by far more than maxChange: only minMs reuses.
  const faces = (i: number) => [{ box: box(0), crop: crop(i % 2 ? 200 : 20) }];
  const at30 = Array.from({ length: 7 }, (_, i) => frame(i, faces(i), { ms: Math.round((i * 1000) / 30) }));
  const got = run(r, at30);
  assert.deepEqual(got.map((g) => g.model), [1, 0, 0, 1, 0, 0, 1], 'classified at 0, 100 and 200 ms');
  assert.deepEqual(got.map((g) => g.tops[0]), [0, 0, 0, 3, 3, 3, 6], 'the frames between take the last fresh probabilities');
  const at10 = Array.from({ length: 4 }, (_, i) => frame(10 + i, faces(i), { ms: 1000 + i * 100 }));
  assert.deepEqual(run(r, at10).map((g) => g.model), [1, 1, 1, 1], '100 ms apart: every frame afresh');
  // The box must still match: a face that moved (IoU under minIou) or a cut is classified afresh.
  const moved = new ClassificationReuse({ ...OPTS, minMs: 100 });
  assert.deepEqual(run(moved, [frame(0, faces(0), { ms: 0 }), frame(1, [{ box: box(5), crop: crop(20) }], { ms: 33 })]).map((g) => g.model), [1, 1]);
  const cut = new ClassificationReuse({ ...OPTS, minMs: 100 });
  assert.deepEqual(run(cut, [frame(0, faces(0), { ms: 0 }), frame(1, faces(0), { ms: 33, cut: true })]).map((g) => g.model), [1, 1]);
  // minMs alone, without maxMs, is a cache of its own.
  const alone = new ClassificationReuse({ ...OPTS, maxMs: 0, minMs: 100 });
  assert.deepEqual(run(alone, at30.slice(0, 4)).map((g) => g.model), [1, 0, 0, 1]);
  assert.ok(ClassificationReuse.enabled({ maxMs: 0, minMs: 100 }) && !ClassificationReuse.enabled({ maxMs: 0, minMs: 0 }));
  for (const bad of [1.5, -1, NaN]) assert.throws(() => new ClassificationReuse({ ...OPTS, minMs: bad }), /reuse minMs must be a whole number of 0 or more/);
});

test('reuse: memory stays bounded (least recently seen cameras first, idle ones forgotten); maxMs 0 keeps nothing; bad values throw', () => {
  let now = 0;
  const r = new ClassificationReuse({ ...OPTS, maxCameras: 3, idleMs: 1000 }, () => now);
  const f = { box: box(0), crop: crop(100) };
  for (const cam of ['a', 'b', 'c', 'd']) run(r, [frame(0, [f], { camera: cam })]);
  assert.equal(r.cameras, 3);
  assert.equal(run(r, [frame(1, [f], { camera: 'a' })])[0].model, 1, 'a, the least recently seen, was evicted');
  assert.equal(run(r, [frame(1, [f], { camera: 'd' })])[0].model, 0, 'd is still there');
  now = 1500;
  assert.equal(run(r, [frame(2, [f], { camera: 'd' })])[0].model, 1, 'd was not seen for 1.5 s: forgotten');
  assert.equal(r.cameras, 1, 'the other idle cameras went too');
  const off = new ClassificationReuse({ ...OPTS, maxMs: 0 });
  assert.deepEqual(run(off, [frame(0, [f]), frame(1, [f])]).map((g) => g.model), [1, 1]);
  assert.equal(off.cameras, 0);
  for (const bad of [1.5, -1, NaN, Infinity]) assert.throws(() => new ClassificationReuse({ ...OPTS, maxMs: bad }), /reuse maxMs must be a whole number of 0 or more/);
  assert.throws(() => new ClassificationReuse({ ...OPTS, maxCameras: 0 }), /maxCameras/);
});

test('paired views: a face new to the camera gets both views, then one pass a classification, the view it did not get, averaged with the last', () => {
  const r = new ClassificationReuse({ ...OPTS, maxMs: 0, pairMs: 300 });
  // A crop whose left half is dark: its mirror image is dark on the right.
  const c = crop(200, [0, 0, 24, 0]);
  for (let y = 0; y < 48; y++) for (let x = 24; x < 48; x++) c[y * 48 + x] = 200;
  const f = { box: box(0), crop: c };
  const sent: Uint8Array[][] = [];
  const answers: Float32Array[] = [];
  // The model answers by the view: emotion 0 for the plain crop, 1 for its mirror image, each with its own weight.
  const model = (crops: Uint8Array[]) => {
    const o = new Float32Array(crops.length * 7);
    crops.forEach((k, i) => { o[i * 7 + (k[0] === 0 ? 0 : 1)] = 1; });
    return o;
  };
  for (let s = 0; s < 5; s++) {
    const plan = r.plan([frame(s, [f])], 'v1', true);
    assert.equal(plan.single, true);
    sent.push(plan.crops);
    answers.push(plan.resolve(model(plan.crops))[0][0]);
  }
  assert.deepEqual(sent.map((cs) => cs.length), [2, 1, 1, 1, 1], 'both views first, then one pass a frame');
  assert.deepEqual(sent.map((cs) => cs.map((k) => (k[0] === 0 ? 'plain' : 'mirror')).join('+')), ['plain+mirror', 'plain', 'mirror', 'plain', 'mirror']);
  for (const a of answers) assert.deepEqual(Array.from(a.slice(0, 2)), [0.5, 0.5], 'every answer averages a plain and a mirrored view');
  // A model that does not mirror, a cut, a gap over pairMs, another model version: both views afresh (or no pairing).
  const r2 = new ClassificationReuse({ ...OPTS, maxMs: 0, pairMs: 300 });
  assert.equal(r2.plan([frame(0, [f])], 'v1', false).single, false);
  const counts = (frames: FacesMessage[], version = 'v1') => frames.map((m) => { const p = r2.plan([m], version, true); p.resolve(model(p.crops)); return p.crops.length; });
  assert.deepEqual(counts([frame(1, [f]), frame(2, [f]), frame(3, [f], { cut: true }), frame(4, [f])]), [2, 1, 2, 1], 'a cut starts again with both views');
  assert.deepEqual(counts([frame(5, [f], { ms: 400 }), frame(6, [f], { ms: 800 })]), [1, 2], '400 ms after the last fresh one: both views again');
  assert.deepEqual(counts([frame(7, [f], { ms: 900 })], 'v2'), [2], 'a new model version: both views');
  // Two frames of one batch: the second pairs with the first's view, classified in the same call.
  const r3 = new ClassificationReuse({ ...OPTS, maxMs: 0, pairMs: 300 });
  const plan = r3.plan([frame(0, [f]), frame(1, [f])], 'v1', true);
  assert.equal(plan.crops.length, 3);
  const both = plan.resolve(model(plan.crops));
  assert.deepEqual(both.map((fr) => Array.from(fr[0].slice(0, 2))), [[0.5, 0.5], [0.5, 0.5]]);
});
