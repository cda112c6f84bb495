/**
 * Unit tests of the through-the-pipeline measurement's pure parts: placement geometry, clip
 * motion, IoU matching, the framing of a detection on its face, scoring, and the pixel work of
 * the renderer. Exact expected values wherever the arithmetic allows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '@emostream/runtime';
import { EMOTIONS, type Segment } from '@emostream/contracts';
import {
  clipPoses, drawSide, patchBox, placeFaces, rotatedExtent, sizeBucket, DEFAULT_PLACEMENT,
  type PlacedFace, type PlacementOptions, type Rng,
} from './geometry.js';
import { framingOf, matchBoxes } from './match.js';
import {
  argmaxAt, dominantEmotion, pairedDelta, RELIABILITY_EDGES, scoreClasses, smoothedReliability, summariseClips, meanLogArgmax, summariseFaces,
  type ClipRecord, type FaceRecord,
} from './score.js';
import { addNoise, applyLighting, composeLitFrame, drawLook, drawTint, LOOK_RANGES, normalTable, pasteFace, windowOf } from './render.js';
import { DEFAULT_RENDER, derivedSeed, frameOf, missReason, ownScene, settingKey } from './measure.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ferPlusLabeller, relabelled, seededShuffle, withFerPlusLabels } from './faces.js';

/** A generator that returns the given values in turn (then repeats the last). */
function scripted(values: number[]): Rng {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)];
}

// EMOTIONS order: angry 0, disgust 1, fear 2, happy 3, neutral 4, sad 5, surprise 6.
const [ANGRY, , , HAPPY, NEUTRAL, SAD] = [0, 1, 2, 3, 4, 5];

test('drawSide is log-uniform between the bounds: 0 gives the least, 0.5 the geometric mean', () => {
  assert.equal(drawSide(() => 0, 40, 200), 40);
  assert.equal(drawSide(() => 0.5, 40, 200), 89); // √(40·200) = 89.44
  assert.equal(drawSide(() => 0.999999, 40, 200), 200);
});

test('rotatedExtent: a square rotated by θ needs side·(|cos θ| + |sin θ|)', () => {
  assert.equal(rotatedExtent(100, 0), 100);
  assert.ok(Math.abs(rotatedExtent(100, 45) - 100 * Math.SQRT2) < 1e-9);
  assert.ok(Math.abs(rotatedExtent(100, -30) - 100 * (Math.cos(Math.PI / 6) + 0.5)) < 1e-9);
});

test('placeFaces: exact positions from a scripted generator; an overlapping draw is retried', () => {
  const o: PlacementOptions = { width: 1000, height: 500, minSidePx: 100, maxSidePx: 100, maxRollDeg: 10, gapFraction: 0.5, edgePx: 0 };
  // Face 1: side (any), roll 0.5 → 0°, centre draws 0, 0 → centre (50, 50).
  // Face 2: side, roll 0.5 → 0°, centre draws 0, 0 (on face 1: retried), then 0.5, 0.5 → centre (500, 250).
  const placed = placeFaces(scripted([0.3, 0.5, 0, 0, 0.3, 0.5, 0, 0, 0.5, 0.5]), 2, o);
  assert.deepEqual(placed, [{ x: 0, y: 0, side: 100, rollDeg: 0 }, { x: 450, y: 200, side: 100, rollDeg: 0 }]);
  assert.deepEqual(patchBox(placed[1]), { x: 450, y: 200, width: 100, height: 100 });
  // Roll 0.75 → +5°, 0.25 → −5°.
  assert.equal(placeFaces(scripted([0, 0.75, 0.5, 0.5]), 1, o)[0].rollDeg, 5);
  assert.equal(placeFaces(scripted([0, 0.25, 0.5, 0.5]), 1, o)[0].rollDeg, -5);
});

test('placeFaces keeps faces inside the frame and apart; no room is an error', () => {
  const rng = mulberry32(7);
  for (let trial = 0; trial < 50; trial++) {
    const faces = placeFaces(rng, 3, DEFAULT_PLACEMENT);
    for (const f of faces) {
      const e = rotatedExtent(f.side, f.rollDeg);
      const cx = f.x + f.side / 2, cy = f.y + f.side / 2;
      assert.ok(f.side >= 40 && f.side <= 200 && Math.abs(f.rollDeg) <= 12);
      // Rounding the corner to whole pixels may move the centre by half a pixel.
      assert.ok(cx - e / 2 >= 8 - 0.5 && cx + e / 2 <= 1280 - 8 + 0.5 && cy - e / 2 >= 8 - 0.5 && cy + e / 2 <= 720 - 8 + 0.5);
    }
    for (let i = 0; i < faces.length; i++) for (let j = i + 1; j < faces.length; j++) {
      const a = faces[i], b = faces[j];
      const dx = Math.abs(a.x + a.side / 2 - (b.x + b.side / 2)), dy = Math.abs(a.y + a.side / 2 - (b.y + b.side / 2));
      const need = (rotatedExtent(a.side, a.rollDeg) + rotatedExtent(b.side, b.rollDeg)) / 2 + 0.5 * Math.max(a.side, b.side) - 1;
      assert.ok(dx >= need || dy >= need, `faces ${i} and ${j} too close`);
    }
  }
  assert.throws(() => placeFaces(() => 0.5, 2, { ...DEFAULT_PLACEMENT, width: 300, height: 300, minSidePx: 200, maxSidePx: 200 }), /no room for face 2 of 2/);
});

test('clipPoses: a linear drift over the clip, exact with no jitter; kept inside the frame', () => {
  const base: PlacedFace = { x: 100, y: 100, side: 100, rollDeg: 0 };
  const still = { driftFraction: 0.1, jitterFraction: 0, scaleDrift: 0, scaleJitter: 0, rollJitterDeg: 0, width: 1280, height: 720 };
  // Constant 0.75: drift (0.75·2 − 1)·0.1·100 = 5 px on each axis over the clip.
  const poses = clipPoses(() => 0.75, base, 3, still);
  assert.deepEqual(poses.map((p) => [p.x, p.y, p.side, p.rollDeg]), [[100, 100, 100, 0], [103, 103, 100, 0], [105, 105, 100, 0]]);
  // 0.5 everywhere: no drift, no jitter: the base pose in every frame.
  assert.deepEqual(clipPoses(() => 0.5, base, 2, { ...still, scaleDrift: 0.1, scaleJitter: 0.1, rollJitterDeg: 3, jitterFraction: 0.1 }), [base, base]);
  // A face at the edge drifting out stays inside.
  const edge = clipPoses(() => 0.999, { x: 1180, y: 620, side: 100, rollDeg: 0 }, 4, { ...still, driftFraction: 0.5 });
  for (const p of edge) assert.ok(p.x + p.side <= 1280 && p.y + p.side <= 720);
});

test('sizeBucket: [40, 60), [60, 100), [100, 200]', () => {
  assert.deepEqual([39, 40, 59, 60, 99, 100, 200, 201].map(sizeBucket), ['other', '40-59', '40-59', '60-99', '60-99', '100-200', '100-200', 'other']);
});

test('matchBoxes: one-to-one, largest IoU first, below minIou unmatched', () => {
  const truth = [{ x: 0, y: 0, width: 10, height: 10 }, { x: 20, y: 0, width: 10, height: 10 }];
  const dets = [
    { x: 5, y: 0, width: 10, height: 10 }, // on truth 0 at IoU 1/3, beaten by det 1
    { x: 0, y: 0, width: 10, height: 10 }, // truth 0 exactly
    { x: 21, y: 0, width: 10, height: 10 }, // truth 1 at 90/110
    { x: 100, y: 100, width: 5, height: 5 }, // nothing
  ];
  assert.deepEqual(matchBoxes(truth, dets), {
    matches: [{ truth: 0, detection: 1, iou: 1 }, { truth: 1, detection: 2, iou: 90 / 110 }],
    unmatchedTruth: [], unmatchedDetections: [0, 3],
  });
  // IoU 1/3 counts at the default 0.3, not at 0.4.
  assert.deepEqual(matchBoxes([truth[0]], [dets[0]]).matches, [{ truth: 0, detection: 0, iou: 1 / 3 }]);
  assert.deepEqual(matchBoxes([truth[0]], [dets[0]], 0.4), { matches: [], unmatchedTruth: [0], unmatchedDetections: [0] });
  // Equal IoU: the lower detection index wins.
  const tie = matchBoxes([{ x: 10, y: 0, width: 10, height: 10 }], [{ x: 15, y: 0, width: 10, height: 10 }, { x: 5, y: 0, width: 10, height: 10 }]);
  assert.deepEqual(tie.matches.map((m) => m.detection), [0]);
  assert.deepEqual(matchBoxes([], dets).unmatchedDetections, [0, 1, 2, 3]);
});

test('framingOf: the margin and vertical offset that would make the crop the placed patch', () => {
  // Patch 100 px; box 80 px, 10 px lower than centred: margin (100/80 − 1)/2, offset −10/80.
  assert.deepEqual(framingOf({ x: 0, y: 0, width: 100, height: 100 }, { x: 10, y: 20, width: 80, height: 80 }), { marginToPatch: 0.125, offsetYToPatch: -0.125, sideRatio: 0.8 });
});

test('scoreClasses: accuracy, balanced accuracy over present classes, recalls, neutral↔sad', () => {
  const labels = [NEUTRAL, NEUTRAL, NEUTRAL, NEUTRAL, SAD, SAD, HAPPY, HAPPY];
  const preds = [NEUTRAL, SAD, SAD, NEUTRAL, SAD, NEUTRAL, HAPPY, ANGRY];
  const s = scoreClasses(labels, preds);
  assert.equal(s.n, 8);
  assert.equal(s.accuracy, 4 / 8);
  assert.equal(s.recall.neutral, 0.5);
  assert.equal(s.recall.sad, 0.5);
  assert.equal(s.recall.happy, 0.5);
  assert.equal(s.recall.angry, null);
  assert.equal(s.balancedAccuracy, 0.5);
  assert.equal(s.neutralToSad, 0.5);
  assert.equal(s.sadToNeutral, 0.5);
  assert.equal(s.confusion[NEUTRAL][SAD], 2);
  assert.equal(s.confusion[HAPPY][ANGRY], 1);
  const empty = scoreClasses([], []);
  assert.equal(empty.accuracy, null);
  assert.equal(empty.balancedAccuracy, null);
  assert.throws(() => scoreClasses([1], []), /1 labels, 0 predictions/);
});

test('argmaxAt: the first largest of k values at an offset', () => {
  assert.equal(argmaxAt([0.1, 0.5, 0.5, 0.2], 0, 4), 1);
  assert.equal(argmaxAt([9, 9, 0, 0.3, 0.2], 2, 3), 1);
});

test('pairedDelta: mean difference and its standard error (sample sd / √n)', () => {
  const d = pairedDelta([1, 1, 0, 1], [0, 1, 0, 0]);
  assert.equal(d.n, 4);
  assert.equal(d.mean, 0.5);
  // Differences 1, 0, 0, 1: variance (4 · 0.25) / 3 = 1/3, se = √(1/12).
  assert.ok(Math.abs(d.se! - Math.sqrt(1 / 12)) < 1e-12);
  assert.deepEqual(pairedDelta([], []), { n: 0, mean: null, se: null });
});

test('summariseFaces: detection rate, still vs pipeline on the same detected faces, by size', () => {
  const r = (id: string, label: number, side: number, still: number, pipe?: number): FaceRecord =>
    ({ id, label, side, still, ...(pipe === undefined ? {} : { pipe, iou: 0.5 }) });
  const s = summariseFaces([
    r('a', HAPPY, 50, HAPPY), // not detected (small)
    r('b', HAPPY, 120, HAPPY, HAPPY),
    r('c', NEUTRAL, 150, NEUTRAL, SAD),
    r('d', SAD, 80, SAD, SAD),
    r('e', NEUTRAL, 90, SAD, NEUTRAL),
  ]);
  assert.equal(s.faces, 5);
  assert.equal(s.detected, 4);
  assert.equal(s.detectionRate, 0.8);
  assert.equal(s.stillAll.accuracy, 4 / 5);
  assert.equal(s.still.accuracy, 3 / 4);
  assert.equal(s.pipeline.accuracy, 3 / 4);
  assert.equal(s.gap, 0);
  // Balanced: still happy 1, neutral 0.5, sad 1 → 5/6; pipeline happy 1, neutral 0.5, sad 1 → 5/6.
  assert.equal(s.still.balancedAccuracy, 2.5 / 3);
  assert.equal(s.still.neutralToSad, 0.5);
  assert.equal(s.pipeline.neutralToSad, 0.5);
  assert.equal(s.meanIou, 0.5);
  assert.equal(s.exact, null, 'no exact crops measured');
  assert.deepEqual(s.bySize, [
    { bucket: '40-59', faces: 1, detected: 0, detectionRate: 0, stillAccuracy: null, pipelineAccuracy: null },
    { bucket: '60-99', faces: 2, detected: 2, detectionRate: 1, stillAccuracy: 0.5, pipelineAccuracy: 1 },
    { bucket: '100-200', faces: 2, detected: 2, detectionRate: 1, stillAccuracy: 1, pipelineAccuracy: 0.5 },
  ]);
});

test('summariseFaces: the exact crops, before and after the camera, on the detected and on all faces', () => {
  const r = (label: number, still: number, oracleClean: number, oracle: number, pipe?: number): FaceRecord =>
    ({ id: `${label}${still}${pipe}`, label, side: 120, still, oracleClean, oracle, ...(pipe === undefined ? {} : { pipe, iou: 0.6 }) });
  const s = summariseFaces([r(HAPPY, HAPPY, HAPPY, HAPPY, HAPPY), r(SAD, SAD, SAD, NEUTRAL, NEUTRAL), r(NEUTRAL, NEUTRAL, SAD, SAD)]);
  assert.equal(s.exact!.clean.accuracy, 1);
  assert.equal(s.exact!.filmed.accuracy, 0.5);
  assert.equal(s.exact!.cleanAll.accuracy, 2 / 3);
  assert.equal(s.exact!.filmedAll.accuracy, 1 / 3);
  assert.equal(s.pipeline.accuracy, 0.5);
  assert.deepEqual(s.bySize, [{
    bucket: '100-200', faces: 3, detected: 2, detectionRate: 2 / 3, stillAccuracy: 1, pipelineAccuracy: 0.5, exactBeforeCamera: 1, exactAfterCamera: 0.5,
  }], 'per size, the exact crops on the detected faces');
});

test('dominantEmotion: the report\'s, the largest share of time; uncertain stretches only for a person with no clear one; none for no segments', () => {
  const seg = (emotion: Segment['emotion'], startMs: number, endMs: number, likeliest?: Segment['likeliest']): Segment => ({ emotion, startMs, endMs, meanConfidence: 0.5, ...(likeliest ? { likeliest } : {}) });
  assert.equal(dominantEmotion([seg('uncertain', 0, 300), seg('happy', 300, 1400), seg('sad', 1400, 1400)]), 'happy');
  // Time summed over segments: sad 0.6 s in two stretches against one happy stretch of 0.5 s.
  assert.equal(dominantEmotion([seg('sad', 0, 300), seg('happy', 300, 800), seg('sad', 800, 1100)]), 'sad');
  // Clear emotions first, however short; an all-uncertain person gets the likeliest of the longest guesses.
  assert.equal(dominantEmotion([seg('uncertain', 0, 1000, 'fear'), seg('neutral', 1000, 1100)]), 'neutral');
  assert.equal(dominantEmotion([seg('uncertain', 0, 400, 'fear'), seg('uncertain', 400, 1400, 'sad')]), 'sad');
  assert.equal(dominantEmotion([seg('uncertain', 0, 400)]), 'uncertain');
  assert.equal(dominantEmotion([]), undefined);
});

test('summariseClips: uncertain and no person count as wrong and are reported apart', () => {
  const c = (label: number, dominant: ClipRecord['dominant'], persons: number, still: number, det: number, ok: number): ClipRecord =>
    ({ id: `x${label}${dominant}`, label, side: 100, still, persons, ...(dominant ? { dominant } : {}), frames: 15, framesDetected: det, framesCorrect: ok });
  const s = summariseClips([
    c(HAPPY, 'happy', 1, HAPPY, 15, 15),
    c(NEUTRAL, 'sad', 1, NEUTRAL, 15, 5),
    c(NEUTRAL, 'uncertain', 2, SAD, 10, 2),
    c(SAD, undefined, 0, SAD, 0, 0),
  ]);
  assert.deepEqual(s, {
    clips: 4, withPerson: 3, correct: 1, uncertain: 1, wrong: 1, noPerson: 1,
    personAccuracy: 0.25, personAccuracyWithPerson: 1 / 3, personBalancedAccuracy: 1 / 3, extraPersons: 1,
    stillAccuracy: 0.75, frameAccuracy: 22 / 40, frameDetectionRate: 40 / 60,
    neutralToSad: 0.5, stillNeutralToSad: 0.5, variants: {},
    personGap: { clips: 0, still: null, person: null, gap: null, gapSe: null, framesMean: null, framesMeanGap: null, framesMeanGapSe: null },
  });
});

test('summariseClips: the per-person gap, paired on the clips whose face was detected; the frames\' mean log-probabilities', () => {
  const p = (top: number, q = 0.6) => EMOTIONS.map((_, i) => (i === top ? q : (1 - q) / (EMOTIONS.length - 1)));
  const c = (label: number, still: number, dominant: ClipRecord['dominant'], frameProbs: number[][]): ClipRecord =>
    ({ id: `g${label}${still}`, label, side: 100, still, persons: dominant ? 1 : 0, ...(dominant ? { dominant } : {}), frames: 15, framesDetected: frameProbs.length, framesCorrect: 0, frameProbs });
  const s = summariseClips([
    c(HAPPY, HAPPY, 'happy', [p(HAPPY), p(HAPPY)]),
    // Right as a still, uncertain per person; its frames: one sure sad, two leaning neutral (the log mean says neutral).
    c(NEUTRAL, NEUTRAL, 'uncertain', [p(SAD, 0.7), p(NEUTRAL, 0.5), p(NEUTRAL, 0.5)]),
    c(SAD, NEUTRAL, 'sad', [p(SAD)]),
    // Never detected: not among the paired clips.
    c(SAD, SAD, undefined, []),
  ]);
  assert.equal(s.personGap.clips, 3);
  assert.equal(s.personGap.still, 2 / 3);
  assert.equal(s.personGap.person, 2 / 3);
  assert.equal(s.personGap.gap, 0);
  assert.equal(s.personGap.framesMean, 1);
  assert.ok(Math.abs(s.personGap.framesMeanGap! - -1 / 3) < 1e-12);
  assert.equal(meanLogArgmax([p(SAD, 0.7), p(NEUTRAL, 0.5), p(NEUTRAL, 0.5)]), NEUTRAL);
});

test('summariseClips: each aggregator variant scored per person and per detected frame', () => {
  const r = (label: number, variants: ClipRecord['variants']): ClipRecord =>
    ({ id: `v${label}`, label, side: 100, still: label, persons: 1, dominant: EMOTIONS[label], frames: 10, framesDetected: 10, framesCorrect: 10, variants });
  const s = summariseClips([
    r(HAPPY, { log: { dominant: 'happy', framesStateCorrect: 8 }, probability: { dominant: 'sad', framesStateCorrect: 4 } }),
    r(SAD, { log: { dominant: 'sad', framesStateCorrect: 10 }, probability: { dominant: 'sad', framesStateCorrect: 6 } }),
  ]);
  assert.deepEqual(s.variants, { log: { personAccuracy: 1, stateAccuracy: 0.9 }, probability: { personAccuracy: 0.5, stateAccuracy: 0.5 } });
});

test('missReason: no candidate, below minScore, too small, or dropped otherwise', () => {
  const cfg = { minScore: 0.5, minFaceSizePx: 32 };
  const f = (score: number, side: number) => ({ box: { x: 0, y: 0, width: side, height: side }, score });
  assert.equal(missReason(undefined, cfg), 'not_found');
  assert.equal(missReason(f(0.4, 100), cfg), 'low_score');
  assert.equal(missReason(f(0.9, 31), cfg), 'too_small');
  assert.equal(missReason(f(0.9, 32), cfg), 'other_filter');
});

test('settingKey and derivedSeed: readable keys; seeds differ by index and stream and repeat', () => {
  assert.equal(settingKey({ marginFraction: 0.05, cropOffsetY: 0, align: true }), 'm0.05 y0 align');
  assert.equal(settingKey({ marginFraction: 0.2, cropOffsetY: -0.1, align: false }), 'm0.2 y-0.1 no-align');
  assert.equal(settingKey({ marginFraction: 0, cropOffsetY: 0.05, align: true }), 'm0 y+0.05 align');
  const seeds = new Set([0, 1, 2, 3].flatMap((i) => [0, 1].map((s) => derivedSeed(1, i, s))));
  assert.equal(seeds.size, 8);
  assert.equal(derivedSeed(1, 2, 3), derivedSeed(1, 2, 3));
});

test('seededShuffle: a permutation, the same for the same seed, input untouched', () => {
  const xs = Array.from({ length: 20 }, (_, i) => i);
  const a = seededShuffle(xs, mulberry32(1)), b = seededShuffle(xs, mulberry32(1));
  assert.deepEqual(a, b);
  assert.deepEqual([...a].sort((p, q) => p - q), xs);
  assert.notDeepEqual(a, xs);
  assert.deepEqual(xs, Array.from({ length: 20 }, (_, i) => i));
});

test('pasteFace: an unrotated patch lands pixel for pixel; the soft edge blends; tint scales', () => {
  const w = 10, h = 8;
  const patch = Uint8Array.from({ length: 16 }, (_, i) => 10 * i + 5);
  const frame = new Uint8Array(w * h * 3);
  pasteFace(frame, w, h, patch, { x: 2, y: 3, side: 4, rollDeg: 0 }, [1, 1, 1], 0);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const inside = x >= 2 && x < 6 && y >= 3 && y < 7;
    const want = inside ? patch[(y - 3) * 4 + (x - 2)] : 0;
    assert.deepEqual([...frame.subarray((y * w + x) * 3, (y * w + x) * 3 + 3)], [want, want, want], `pixel ${x},${y}`);
  }
  // Feather 0.25 of a 4 px side = 1 px: a border pixel (0.5 px inside) is half opaque, inner ones full.
  const bg = new Uint8Array(w * h * 3).fill(100);
  pasteFace(bg, w, h, new Uint8Array(16).fill(200), { x: 2, y: 3, side: 4, rollDeg: 0 }, [1.1, 1, 0.5], 0.25);
  const px = (x: number, y: number) => [...bg.subarray((y * w + x) * 3, (y * w + x) * 3 + 3)];
  assert.deepEqual(px(2, 3), [160, 150, 100]); // ½·100 + ½·(220, 200, 100)
  assert.deepEqual(px(3, 4), [220, 200, 100]);
  assert.deepEqual(px(1, 3), [100, 100, 100]);
  assert.throws(() => pasteFace(frame, w, h, patch, { x: 0, y: 0, side: 5, rollDeg: 0 }, [1, 1, 1], 0), /patch of 16 bytes for side 5/);
});

test('pasteFace rotates about the patch centre: a 90° roll turns the patch a quarter clockwise', () => {
  const w = 4, h = 4;
  // 4x4 patch: the top row bright, the rest dark.
  const patch = Uint8Array.from({ length: 16 }, (_, i) => (i < 4 ? 200 : 0));
  const frame = new Uint8Array(w * h * 3);
  pasteFace(frame, w, h, patch, { x: 0, y: 0, side: 4, rollDeg: 90 }, [1, 1, 1], 0);
  // The top row, turned clockwise, is the right column.
  const g = (x: number, y: number) => frame[(y * w + x) * 3];
  assert.deepEqual([0, 1, 2, 3].map((y) => g(3, y)), [200, 200, 200, 200]);
  assert.deepEqual([0, 1, 2, 3].map((y) => g(0, y)), [0, 0, 0, 0]);
});

test('applyLighting: gain, gamma and the side-light gradient', () => {
  const one = (v: number, look: { gain: number; gamma: number; gradX: number; gradY: number }) => {
    const f = new Uint8Array([v, v, v]);
    applyLighting(f, 1, 1, look);
    return f[0];
  };
  assert.equal(one(200, { gain: 1, gamma: 1, gradX: 0, gradY: 0 }), 200);
  assert.equal(one(200, { gain: 0.5, gamma: 1, gradX: 0, gradY: 0 }), 100);
  assert.equal(one(128, { gain: 1, gamma: 2, gradX: 0, gradY: 0 }), 64); // 255·(128/255)² = 64.25
  assert.equal(one(200, { gain: 2, gamma: 1, gradX: 0, gradY: 0 }), 255);
  // 2x1 frame, gradX 0.4: light 1 − 0.2 at x = 0 (x/w − ½ = −½), 1 + 0 at x = 1 (½ − ½).
  const f = new Uint8Array([100, 100, 100, 100, 100, 100]);
  applyLighting(f, 2, 1, { gain: 1, gamma: 1, gradX: 0.4, gradY: 0 });
  assert.deepEqual([...f], [80, 80, 80, 100, 100, 100]);
});

test('composeLitFrame: the same pixels as pasting into the background and lighting the whole frame', () => {
  const w = 40, h = 30;
  const raw = Buffer.from(Array.from({ length: w * h * 3 }, (_, i) => (i * 37) % 251));
  const look = { gain: 0.8, gamma: 1.3, gradX: 0.3, gradY: -0.2 };
  const patch = Uint8Array.from({ length: 12 * 12 }, (_, i) => (i * 13) % 256);
  const pose = { x: 20, y: 9, side: 12, rollDeg: 9 };
  const whole = Buffer.from(raw);
  pasteFace(whole, w, h, patch, pose, [1.1, 0.97, 0.8], 0.1);
  applyLighting(whole, w, h, look);
  const lit = Buffer.from(raw);
  applyLighting(lit, w, h, look);
  assert.deepEqual(composeLitFrame(lit, raw, w, h, patch, pose, [1.1, 0.97, 0.8], 0.1, look), whole);
  // A face at the corner, partly outside.
  const corner = { x: -4, y: 22, side: 12, rollDeg: 0 };
  const whole2 = Buffer.from(raw);
  pasteFace(whole2, w, h, patch, corner, [1, 1, 1], 0.1);
  applyLighting(whole2, w, h, look);
  assert.deepEqual(composeLitFrame(lit, raw, w, h, patch, corner, [1, 1, 1], 0.1, look), whole2);
});

test('addNoise: none at sigma 0; the same seed gives the same noise; zero mean, sigma spread', () => {
  const table = normalTable(mulberry32(3));
  const a = new Uint8Array(30_000).fill(128);
  addNoise(a, 0, table, 1);
  assert.ok(a.every((v) => v === 128));
  const b = new Uint8Array(30_000).fill(128), c = new Uint8Array(30_000).fill(128);
  addNoise(b, 5, table, 42);
  addNoise(c, 5, table, 42);
  assert.deepEqual(b, c);
  const mean = b.reduce((s, v) => s + v, 0) / b.length;
  const sd = Math.sqrt(b.reduce((s, v) => s + (v - mean) ** 2, 0) / b.length);
  assert.ok(Math.abs(mean - 128) < 0.2, `mean ${mean}`);
  assert.ok(Math.abs(sd - 5) < 0.3, `sd ${sd}`);
});

test('drawTint keeps Rec. 709 luma; drawLook stays in its ranges', () => {
  const rng = mulberry32(11);
  for (let i = 0; i < 100; i++) {
    const [r, g, b] = drawTint(rng);
    assert.ok(Math.abs(0.2126 * r + 0.7152 * g + 0.0722 * b - 1) < 1e-12);
    assert.ok(r > 1 && b < 1);
    const l = drawLook(rng);
    assert.ok(l.gain >= LOOK_RANGES.gain[0] && l.gain <= LOOK_RANGES.gain[1]);
    assert.ok(l.gamma >= LOOK_RANGES.gamma[0] && l.gamma <= LOOK_RANGES.gamma[1]);
    assert.ok(l.blurSigma === 0 || (l.blurSigma >= 0.4 && l.blurSigma <= 1.6));
    assert.ok(Number.isInteger(l.jpegQuality) && l.jpegQuality >= 35 && l.jpegQuality <= 90);
  }
});

test('windowOf copies a window of a larger picture', () => {
  const bg = Buffer.from(Array.from({ length: 4 * 3 * 3 }, (_, i) => i));
  // 4x3 picture, window 2x2 at (1, 1): pixels (1,1), (2,1), (1,2), (2,2).
  const px = (x: number, y: number) => [0, 1, 2].map((k) => (y * 4 + x) * 3 + k);
  assert.deepEqual([...windowOf(bg, 4, 1, 1, 2, 2)], [...px(1, 1), ...px(2, 1), ...px(1, 2), ...px(2, 2)]);
});

test('smoothedReliability: right rate per bin of the smoothed top probability, and below each upper edge', () => {
  const rec = (xs: Array<[number, boolean]>): ClipRecord => ({ id: 'x', label: 0, side: 100, still: 0, persons: 1, frames: xs.length, framesDetected: xs.length, framesCorrect: 0, smoothedTop: xs.map(([p, right]) => ({ p, right })) });
  const bins = smoothedReliability([rec([[0.2, false], [0.27, true], [0.28, false], [0.9, true]]), rec([[1, true], [0.31, true]]), rec([])]);
  assert.deepEqual(bins.map((b) => b.from), RELIABILITY_EDGES.slice(0, -1));
  const at = (from: number) => bins.find((b) => b.from === from)!;
  assert.deepEqual([at(0).frames, at(0).accuracy, at(0).shareBelowTo], [1, 0, 1 / 6]);
  assert.deepEqual([at(0.25).frames, at(0.25).accuracy, at(0.25).accuracyBelowTo], [2, 0.5, 1 / 3]);
  assert.deepEqual([at(0.3).frames, at(0.3).shareBelowTo, at(0.3).accuracyBelowTo], [1, 4 / 6, 0.5]);
  // 1.0 falls in the last bin; every frame is below its upper edge.
  assert.deepEqual([at(0.8).frames, at(0.8).accuracy, at(0.8).shareBelowTo], [2, 1, 1]);
  assert.equal(at(0.5).accuracy, null);
});

test('FER+ labels: each face takes its FER+ majority; no majority emotion (unknown, contempt) or no row: left out', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emo-ferplus-'));
  try {
    const rows = [
      ['test/sad/PublicTest_1.jpg', '7,0,0,3,0,0,0,0,0,0'], // FER-2013 sad, FER+ neutral
      ['test/happy/PublicTest_2.jpg', '0,9,1,0,0,0,0,0,0,0'],
      ['test/fear/PublicTest_3.jpg', '0,0,0,0,0,0,0,2,8,0'], // unknown
      ['test/angry/PublicTest_4.jpg', '1,0,0,0,0,0,0,9,0,0'], // contempt: not one of the seven
    ];
    fs.writeFileSync(path.join(dir, 'fer2013new.csv'), ['Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF', ...rows.map(([, v], i) => `PublicTest,fer${i}.png,${v}`)].join('\n'));
    fs.writeFileSync(path.join(dir, 'mapping.csv'), ['ferplus_row,usage,ferplus_image,fer2013_path,mad,second_best_mad,match', ...rows.map(([p], i) => `${i},PublicTest,fer${i}.png,${p},1,30,unique`)].join('\n'));
    const face = (id: string) => ({ id, file: id, label: EMOTIONS.indexOf(id.split('/')[1] as (typeof EMOTIONS)[number]) });
    const out = await withFerPlusLabels([...rows.map(([p]) => face(p)), face('test/sad/PublicTest_9.jpg')], dir);
    assert.deepEqual(out.map((f) => [f.id, EMOTIONS[f.label]]), [['test/sad/PublicTest_1.jpg', 'neutral'], ['test/happy/PublicTest_2.jpg', 'happy']]);
    await assert.rejects(withFerPlusLabels([], path.join(dir, 'absent')), /fer2013new\.csv is missing/);
    // The same faces' records scored against FER+: relabelled by id, the faces without a majority left out.
    const labelOf = (await ferPlusLabeller(dir))!;
    const recs: FaceRecord[] = rows.map(([p]) => ({ ...face(p), side: 100, still: HAPPY, pipe: NEUTRAL, iou: 0.7 }));
    const re = relabelled(recs, labelOf);
    assert.deepEqual(re.map((x) => [x.id, EMOTIONS[x.label], x.still, x.pipe]), [['test/sad/PublicTest_1.jpg', 'neutral', HAPPY, NEUTRAL], ['test/happy/PublicTest_2.jpg', 'happy', HAPPY, NEUTRAL]]);
    const s = summariseFaces(re);
    assert.deepEqual([s.still.accuracy, s.pipeline.accuracy], [0.5, 0.5], 'the FER-2013 labels (sad, happy) would score 0.5 and 0: FER+ rescores them');
    assert.equal(await ferPlusLabeller(path.join(dir, 'absent')), undefined, 'no votes: no second reading');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('ownScene: each still frame of a run is the first frame of a camera of its own, pixels and times unchanged', () => {
  const rgb = Buffer.alloc(DEFAULT_RENDER.placement.width * DEFAULT_RENDER.placement.height * 3);
  const frames = [0, 1, 2].map((i) => frameOf('accuracy-PublicTest', i, 10, rgb, DEFAULT_RENDER));
  const scenes = frames.map(ownScene);
  assert.equal(new Set(scenes.map((f) => f.cameraId)).size, 3);
  scenes.forEach((f, i) => {
    assert.deepEqual({ ...f, cameraId: frames[i].cameraId }, frames[i]);
    assert.match(f.cameraId, /^accuracy-PublicTest-\d$/);
  });
});
