import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Box } from '@emostream/contracts';
import { DEFAULT_AGGREGATOR_CONFIG } from './config.js';
import { FaceTracker, iou, matchCost } from './tracker.js';

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
