import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Box } from '@emostream/contracts';
import { DEFAULT_AGGREGATOR_CONFIG } from './config.js';
import { FaceTracker, cosineSimilarity, iou, isCutByEdge, matchCost } from './tracker.js';

const cfg = DEFAULT_AGGREGATOR_CONFIG;
/** A square face of width `w` centred on (cx, cy). */
const face = (cx: number, cy: number, w = 80): Box => ({ x: cx - w / 2, y: cy - w / 2, width: w, height: w });

test('iou of identical, disjoint and half-overlapping boxes', () => {
  assert.equal(iou(face(0, 0), face(0, 0)), 1);
  assert.equal(iou(face(0, 0), face(500, 0)), 0);
  assert.ok(Math.abs(iou(face(0, 0, 2), { x: 0, y: -1, width: 2, height: 2 }) - 1 / 3) < 1e-12);
});

test('a person keeps its id through a short occlusion while moving', () => {
  const tr = new FaceTracker(cfg);
  const ids = new Set<string>();
  // 10 fps, moving right at 0.3 px/ms (30 px a frame: IoU with the last box alone is 0.45).
  for (let t = 0; t <= 1800; t += 100) {
    const occluded = t > 800 && t < 1500; // 600 ms unseen: 6 frames, less than maxMissMs
    const u = tr.update(t, occluded ? [] : [face(100 + 0.3 * t, 200)]);
    assert.deepEqual(u.evicted, []);
    for (const track of u.tracks) if (track.personId) ids.add(track.personId);
  }
  assert.deepEqual([...ids], ['p1']);
  // Without the motion prediction the face at t=1500 (after a 210 px jump) would not match.
  assert.equal(iou(face(100 + 0.3 * 800, 200), face(100 + 0.3 * 1500, 200)), 0);
});

function crossing(occludeBack: boolean) {
  const tr = new FaceTracker(cfg);
  const seen: Record<string, number[]> = {};
  // 25 fps; A goes right, B goes left at 0.25 px/ms, a little apart vertically; they cross at t = 800.
  for (let t = 0; t <= 1600; t += 40) {
    const a = face(100 + 0.25 * t, 200, 80);
    const b = face(500 - 0.25 * t, 215, 76);
    const overlapping = Math.abs(a.x - b.x) < 60;
    const boxes = occludeBack && overlapping ? [a] : [a, b];
    const u = tr.update(t, boxes);
    u.tracks.forEach((track, j) => {
      if (!track.personId) return;
      (seen[track.personId] ??= []).push(j === 0 ? a.x : b.x);
    });
  }
  return seen;
}

for (const occludeBack of [false, true]) {
  test(`two people crossing keep their ids${occludeBack ? ' (the one behind hidden while they overlap)' : ''}`, () => {
    const seen = crossing(occludeBack);
    assert.deepEqual(Object.keys(seen).sort(), ['p1', 'p2']);
    // p1 (A) only ever moves right, p2 (B) only left: a swap would reverse a step.
    const monotonic = (xs: number[], dir: 1 | -1) => xs.every((x, i) => i === 0 || dir * (x - xs[i - 1]) > 0);
    assert.ok(monotonic(seen.p1, 1), `p1 jumped: ${seen.p1.join(',')}`);
    assert.ok(monotonic(seen.p2, -1), `p2 jumped: ${seen.p2.join(',')}`);
    assert.ok(seen.p1.at(-1)! > 450 && seen.p2.at(-1)! < 150);
  });
}

test('a single-frame false face never becomes a person, nor one seen in 2 of 5 frames', () => {
  const tr = new FaceTracker(cfg);
  const confirmed: string[] = [];
  let dropped = 0;
  for (let i = 0; i < 20; i++) {
    const boxes = [face(300, 300)];
    if (i === 3) boxes.push(face(800, 100, 40)); // a blip
    if (i === 10 || i === 13) boxes.push(face(50, 600, 40)); // a flicker, 2 of 5 frames
    const u = tr.update(i * 40, boxes);
    confirmed.push(...u.confirmed.map((t) => t.personId!));
    dropped += u.dropped.length;
  }
  assert.deepEqual(confirmed, ['p1']);
  assert.equal(dropped, 2); // the blip, and the flicker (its two sightings are one tentative track)
  assert.equal(tr.tracks.length, 1);
});

test('a person is confirmed on the confirmHits-th frame it is seen, not before', () => {
  const tr = new FaceTracker(cfg);
  assert.equal(tr.update(0, [face(100, 100)]).confirmed.length, 0);
  assert.equal(tr.update(40, [face(102, 100)]).confirmed.length, 0);
  assert.equal(tr.update(80, []).confirmed.length, 0);
  const u = tr.update(120, [face(104, 100)]);
  assert.deepEqual(u.confirmed.map((t) => [t.personId, t.firstSeenMs]), [['p1', 0]]);
});

test('a person leaves after personTtlMs of media time without a face, and ids are never reused', () => {
  const tr = new FaceTracker(cfg);
  for (let t = 0; t <= 200; t += 40) tr.update(t, [face(100, 100)]);
  let leftAt: number | undefined;
  for (let t = 240; t <= 4000 && leftAt === undefined; t += 40) {
    const u = tr.update(t, []);
    if (u.evicted.length) {
      assert.equal(u.evicted[0].personId, 'p1');
      assert.equal(u.evicted[0].lastSeenMs, 200);
      leftAt = t;
    }
  }
  // First frame more than personTtlMs (2000) after the last sighting at 200.
  assert.equal(leftAt, 2240);
  for (let t = 2280; t <= 2480; t += 40) tr.update(t, [face(100, 100)]);
  assert.deepEqual(tr.persons.map((t) => t.personId), ['p2']);
});

test('a lost person is re-acquired on its last spot until personTtlMs, but not by a face elsewhere', () => {
  const tr = new FaceTracker(cfg);
  for (let t = 0; t <= 200; t += 40) tr.update(t, [face(100, 100)]);
  // 1.5 s unseen (beyond maxMissMs: e.g. turned to profile), back on the same spot.
  const back = tr.update(1700, [face(104, 100), face(600, 100)]);
  assert.equal(back.tracks[0].personId, 'p1');
  assert.equal(back.tracks[1].status, 'tentative');
});

test('the appearance descriptor decides what motion and overlap cannot', () => {
  const descA = [1, 0, 0, 0.2], descB = [0, 1, 0.1, 0];
  const run = (withAppearance: boolean) => {
    const tr = new FaceTracker(cfg);
    for (let t = 0; t <= 160; t += 40) tr.update(t, [face(100, 100), face(160, 100)], withAppearance ? [descA, descB] : undefined);
    // They swap places between two frames (say, a camera cut to the same scene mirrored).
    const u = tr.update(200, [face(100, 100), face(160, 100)], withAppearance ? [descB, descA] : undefined);
    return u.tracks.map((t) => t.personId);
  };
  assert.deepEqual(run(false), ['p1', 'p2']);
  assert.deepEqual(run(true), ['p2', 'p1']);
});

test('matchCost forbids implausible size changes', () => {
  const tr = new FaceTracker(cfg);
  tr.update(0, [face(100, 100, 80)]);
  assert.equal(matchCost(tr.tracks[0], face(100, 100, 200), 40, cfg), Infinity);
  assert.ok(Number.isFinite(matchCost(tr.tracks[0], face(100, 100, 90), 40, cfg)));
});

test('a restored tracker continues with the same ids and numbering', () => {
  const a = new FaceTracker(cfg);
  for (let t = 0; t <= 200; t += 40) a.update(t, [face(100, 100)]);
  const b = new FaceTracker(cfg, JSON.parse(JSON.stringify(a.snapshot())));
  for (const tr of [a, b]) {
    const u = tr.update(240, [face(102, 100)]);
    assert.equal(u.tracks[0].personId, 'p1');
    for (let t = 280; t <= 400; t += 40) tr.update(t, [face(102, 100), face(500, 500)]);
    assert.deepEqual(tr.persons.map((t) => t.personId), ['p1', 'p2']);
  }
  assert.throws(() => a.update(100, []), /backwards/);
});

test('a face whose box reaches, or nearly reaches, the frame\'s edge is cut by it', () => {
  const frame = { width: 1280, height: 720 };
  assert.equal(isCutByEdge({ x: 1180, y: 100, width: 100, height: 120 }, frame), true, 'clipped at the right edge');
  assert.equal(isCutByEdge({ x: 1160, y: 125, width: 110, height: 115 }, frame), true, 'stopping 10 px short (a face 10% outside, on the scene bench)');
  assert.equal(isCutByEdge({ x: 0, y: 300, width: 90, height: 120 }, frame), true, 'left');
  assert.equal(isCutByEdge({ x: 500, y: 625, width: 100, height: 100 }, frame), true, 'bottom');
  assert.equal(isCutByEdge({ x: 1015, y: 120, width: 135, height: 130 }, frame), false, 'whole, 130 px inside');
  assert.equal(isCutByEdge({ x: 20, y: 20, width: 100, height: 100 }, frame), false, 'whole, 20 px inside');
});

test('a cut face\'s embedding counts only until a whole face\'s: the first whole one replaces it, later cut ones are ignored', () => {
  const frame = { width: 1280, height: 720 };
  const whole = [1, 0, 0, 0], sliver = [0.6, 0.8, 0, 0], other = [0.9, 0, 0.43, 0.1];
  const boxes = [
    { x: 1200, y: 100, width: 80, height: 100 }, // cut by the right edge
    { x: 1150, y: 100, width: 100, height: 100 }, // whole, 30 px inside
    { x: 1180, y: 100, width: 100, height: 100 }, // cut again
    { x: 1150, y: 100, width: 100, height: 100 }, // whole
  ];
  const run = (reidCutFaces: 'whole-first' | 'alike') => {
    const tr = new FaceTracker({ ...cfg, reidCutFaces });
    const seen: Array<{ descriptor?: number[]; cut?: boolean }> = [];
    [sliver, whole, sliver, other].forEach((d, i) => {
      tr.update(i * 100, [boxes[i]], [d], undefined, { frame });
      seen.push({ descriptor: tr.tracks[0].descriptor, cut: tr.tracks[0].descriptorCut });
    });
    assert.equal(tr.tracks.length, 1);
    return seen;
  };
  const w = run('whole-first');
  assert.deepEqual(w.map((x) => x.cut), [true, undefined, undefined, undefined]);
  assert.deepEqual(w[1].descriptor, whole, 'the whole face replaces the cut one');
  assert.deepEqual(w[2].descriptor, whole, 'a cut face is ignored once a whole one is known');
  assert.ok(cosineSimilarity(w[3].descriptor!, other) > cosineSimilarity(whole, other), 'whole faces are averaged as before');
  const a = run('alike');
  assert.deepEqual(a.map((x) => x.cut), [undefined, undefined, undefined, undefined]);
  assert.ok(cosineSimilarity(a[1].descriptor!, whole) < 0.99, 'alike: the cut face stays in the mean');
  // Snapshots hold neither the descriptor nor the cut flag.
  const tr = new FaceTracker(cfg);
  tr.update(0, [boxes[0]], [sliver], undefined, { frame });
  assert.ok(!JSON.stringify(tr.snapshot()).includes('descriptor'));
});

test('a cut face\'s likeness weighs in the matching cost but vetoes nothing', () => {
  const frame = { width: 1280, height: 720 };
  const tr = new FaceTracker(cfg);
  tr.update(0, [{ x: 1200, y: 100, width: 80, height: 100 }], [[0, 1, 0, 0]], undefined, { frame });
  const t = tr.tracks[0];
  const box = { x: 1150, y: 100, width: 100, height: 100 };
  assert.equal(t.descriptorCut, true);
  const unlike = matchCost(t, box, 100, cfg, [1, 0, 0, 0]);
  assert.ok(Number.isFinite(unlike) && unlike > matchCost(t, box, 100, cfg, [0, 1, 0, 0]));
  assert.equal(matchCost({ ...t, descriptorCut: undefined }, box, 100, cfg, [1, 0, 0, 0]), Infinity, 'two whole faces: vetoed');
  assert.ok(Number.isFinite(matchCost({ ...t, descriptorCut: undefined }, box, 100, cfg, [1, 0, 0, 0], true)), 'the face is cut: not vetoed');
});

test('a face that jumped continues a track only when it clearly looks like its person (jumpMinAppearanceSimilarity)', () => {
  const person = [1, 0, 0, 0];
  const tr = new FaceTracker(cfg);
  for (let t = 0; t <= 400; t += 100) tr.update(t, [face(700, 340, 180)], [person]);
  const t = tr.tracks[0];
  const jumped = face(620, 350, 170), steady = face(705, 340, 180);
  assert.ok(iou(jumped, t.box) < 0.5 && iou(steady, t.box) > 0.5);
  // A stranger after a missed cut, as alike as the scene bench's (0.45): above minAppearanceSimilarity (0.35), under 0.5.
  const stranger = [0.45, Math.sqrt(1 - 0.45 ** 2), 0, 0];
  assert.equal(matchCost(t, jumped, 500, cfg, stranger), Infinity, 'jumped and not clearly alike: a new track');
  assert.ok(Number.isFinite(matchCost(t, steady, 500, cfg, stranger)), 'in place, the usual bar');
  assert.ok(Number.isFinite(matchCost(t, jumped, 500, cfg, [0.7, Math.sqrt(1 - 0.49), 0, 0])), 'jumped, but alike (0.7): the same track');
  assert.ok(Number.isFinite(matchCost(t, jumped, 500, cfg)), 'jumped, no likeness: motion and overlap decide');
  const u = tr.update(500, [jumped], [stranger]);
  assert.notEqual(u.tracks[0], t, 'the stranger starts a track of their own');
});
