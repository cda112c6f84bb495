// The benchmark's scene generator: seeded and repeatable, its ground truth consistent with what
// it renders (occlusion, entering, leaving, expression changes), and the scorer's figures right
// on hand-made observations. Run by test/scene.test.ts (the test project cannot import bench/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Emotion, EmotionEvent } from '@emostream/contracts';
import {
  boxAt, expressionAt, expressionChanges, frameCount, frameTimeMs, generateScene, groundTruthAt, positionAt, prng, subjectsOf,
  type FaceAsset, type Scene,
} from './generate.js';
import { loadCkPlusCatalogue, renderBackground, renderFrame } from './render.js';
import { matchFaces, scoreScene, summarise, type ObservedFrame } from './score.js';

const DATA = path.resolve('../shared/data');
const EMO: Emotion[] = ['angry', 'happy', 'sad', 'surprise'];
// A synthetic catalogue: 8 subjects with 2-4 expressions each (no files needed for the pure parts).
const catalogue: FaceAsset[] = Array.from({ length: 8 }, (_, s) => EMO.slice(0, 2 + (s % 3)).map((emotion) => ({
  subject: `S${s}`, emotion, path: `/nowhere/S${s}_${emotion}.png`,
}))).flat();

test('prng is deterministic and spread over [0, 1)', () => {
  const a = prng(42);
  const b = prng(42);
  const xs = Array.from({ length: 1000 }, () => a());
  assert.deepEqual(xs.slice(0, 5), Array.from({ length: 5 }, () => b()));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
});

test('the same seed gives the same scene; another seed another one', () => {
  assert.deepEqual(generateScene(7, catalogue), generateScene(7, catalogue));
  assert.notDeepEqual(generateScene(7, catalogue).faces, generateScene(8, catalogue).faces);
});

test('every person is a distinct subject, shown only with its own images, changing expression at least once', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const scene = generateScene(seed, catalogue, { durationMs: 20_000, minHoldMs: 3_000 });
    const subjects = scene.faces.map((f) => f.subject);
    assert.equal(new Set(subjects).size, subjects.length, `seed ${seed}: distinct subjects`);
    const frameMs = 1000 / scene.fps;
    for (const f of scene.faces) {
      assert.ok(f.expressions.length >= 2 || f.leaveMs - f.enterMs < 6_000, `seed ${seed} ${f.id}: changes expression`);
      assert.equal(f.expressions[0].startMs, f.enterMs);
      for (const [k, e] of f.expressions.entries()) {
        assert.ok(catalogue.some((a) => a.subject === f.subject && a.emotion === e.emotion && a.path === e.image), `${f.id}: image of its subject with that label`);
        assert.ok(Math.abs(e.startMs / frameMs - Math.round(e.startMs / frameMs)) < 1e-9, 'changes on the frame grid');
        if (k > 0) {
          assert.notEqual(e.emotion, f.expressions[k - 1].emotion, 'a change changes the emotion');
          assert.ok(e.startMs - f.expressions[k - 1].startMs >= 3_000 - frameMs / 2, 'each expression is held at least minHoldMs');
          assert.ok(e.startMs < f.leaveMs);
        }
      }
    }
    const changes = expressionChanges(scene);
    assert.equal(changes.length, scene.faces.reduce((n, f) => n + f.expressions.length - 1, 0));
    assert.ok(changes.every((c, i) => i === 0 || changes[i - 1].atMs <= c.atMs), 'in time order');
  }
});

test('ground truth: faces enter, leave, and the planned crossing occludes one face with another', () => {
  for (let seed = 1; seed <= 10; seed++) {
    const scene = generateScene(seed, catalogue);
    const [f0, f1, , late] = scene.faces;
    const n = frameCount(scene);
    const truth = Array.from({ length: n }, (_, i) => groundTruthAt(scene, frameTimeMs(scene, i)));
    const vis = (id: string, i: number) => truth[i].find((g) => g.faceId === id)?.visibleFraction;
    // Leaving: face 0 is in the frames before its leaveMs and in none after.
    truth.forEach((gts, i) => {
      const t = frameTimeMs(scene, i);
      assert.equal(gts.some((g) => g.faceId === f0.id), t >= f0.enterMs && t < f0.leaveMs, `seed ${seed} frame ${i}: f0 presence`);
      assert.equal(gts.some((g) => g.faceId === late.id), t >= late.enterMs, `seed ${seed} frame ${i}: late face presence`);
    });
    // Entering: the late face slides in from outside the right edge.
    const enter = Math.round((late.enterMs * scene.fps) / 1000);
    assert.ok(vis(late.id, enter)! < 0.5, `seed ${seed}: the late face starts mostly outside (${vis(late.id, enter)})`);
    assert.equal(vis(late.id, n - 1), 1, 'and ends fully inside');
    // Occlusion: face 1 (drawn over face 0) covers most of it at some frame, and is itself whole.
    const hidden = truth.findIndex((gts, i) => (vis(f0.id, i) ?? 1) < 0.3 && gts.length > 0);
    assert.ok(hidden >= 0, `seed ${seed}: face 0 is occluded at some frame`);
    assert.equal(vis(f1.id, hidden), 1, 'the face in front is fully visible');
    assert.ok(f1.z > f0.z);
    // Otherwise faces do not overlap: every other frame has every face fully visible except while entering.
    for (const [i, gts] of truth.entries()) {
      for (const g of gts) {
        if (g.faceId === f0.id || g.faceId === f1.id) continue;
        if (g.faceId === late.id && frameTimeMs(scene, i) < late.enterMs + 2_000) continue;
        assert.equal(g.visibleFraction, 1, `seed ${seed} frame ${i}: ${g.faceId} unobstructed`);
      }
    }
  }
});

test('boxes follow the path, have the face size, and carry the expression in force', () => {
  const scene = generateScene(3, catalogue);
  for (const f of scene.faces) {
    for (const t of [f.enterMs, (f.enterMs + f.leaveMs) / 2, f.leaveMs - 100]) {
      const b = boxAt(f, t);
      const c = positionAt(f, t);
      assert.equal(b.width, f.sizePx);
      assert.equal(b.height, f.sizePx);
      assert.ok(Math.abs(b.x + b.width / 2 - c.x) <= 0.5 && Math.abs(b.y + b.height / 2 - c.y) <= 0.5);
      const g = groundTruthAt(scene, t).find((x) => x.faceId === f.id)!;
      assert.deepEqual(g.box, b);
      assert.equal(g.emotion, expressionAt(f, t).emotion);
    }
    // Waypoints in time order (positions are interpolated between them).
    assert.ok(f.path.every((p, i) => i === 0 || f.path[i - 1].tMs <= p.tMs), `${f.id}: waypoints in time order`);
  }
  assert.throws(() => generateScene(1, catalogue.filter((a) => a.subject === 'S0')), /subjects/);
  assert.equal(subjectsOf(catalogue).size, 8);
});

test('matching and scoring: perfect observations score 1 and no switch; a swapped identity is one switch', () => {
  const scene = generateScene(5, catalogue);
  const perfect: ObservedFrame[] = [];
  for (let i = 0; i < frameCount(scene); i++) {
    const t = frameTimeMs(scene, i);
    perfect.push({ mediaTimeMs: t, faces: groundTruthAt(scene, t).filter((g) => g.visibleFraction >= 0.7).map((g) => ({ box: g.box, emotion: g.emotion, personId: `p-${g.faceId}` })) });
  }
  const ev = (type: EmotionEvent['type'], personId: string, mediaTimeMs: number, emotion: Emotion): EmotionEvent => ({
    schemaVersion: 1, type, cameraId: 'c', personId, at: new Date(0).toISOString(), mediaTimeMs, emotion, confidence: 1,
    probabilities: { angry: 0, disgust: 0, fear: 0, happy: 0, neutral: 0, sad: 0, surprise: 0 }, modelVersion: 'x',
  });
  const changes = expressionChanges(scene);
  const events = changes.map((c) => ev('emotion.changed', `p-${c.faceId}`, c.atMs + 300, c.to));
  const s = summarise(scoreScene(scene, perfect, events));
  assert.equal(s.sceneEmotionAccuracy, 1);
  assert.equal(s.sceneDetectionRecall, 1);
  assert.equal(s.idSwitchesPerPersonMinute, 0);
  assert.equal(s.changesDetected, changes.length);
  assert.equal(s.changeTimingErrorMsMedian, 300);
  // A change event to the wrong emotion counts for timing ("any"), not as a detected change.
  const wrong = changes.map((c) => ev('emotion.changed', `p-${c.faceId}`, c.atMs + 500, 'neutral'));
  const s3 = summarise(scoreScene(scene, perfect, wrong));
  assert.equal(s3.changesDetected, 0);
  assert.equal(s3.changesWithAnyEvent, changes.length);
  assert.equal(s3.changeAnyEventTimingErrorMsMedian, 500);
  // Face 2 gets a new id halfway: exactly one switch; wrong emotions on one face lower accuracy.
  const half = Math.floor(perfect.length / 2);
  const swapped = perfect.map((f, i) => ({
    ...f, faces: f.faces.map((x) => ({ ...x, personId: x.personId === 'p-f2' && i >= half ? 'p-new' : x.personId, emotion: x.personId === 'p-f1' ? 'fear' as Emotion : x.emotion })),
  }));
  const s2 = scoreScene(scene, swapped, events);
  assert.equal(s2.idSwitches, 1);
  assert.ok(s2.correct < s2.matched);
  // Greedy IoU matching: each detection at most once, below the threshold never.
  const a = { x: 0, y: 0, width: 100, height: 100 };
  const b = { x: 10, y: 0, width: 100, height: 100 };
  const far = { x: 500, y: 500, width: 100, height: 100 };
  assert.deepEqual(matchFaces([a, far], [b, a], 0.3), [[0, 1]]);
  assert.deepEqual(matchFaces([a, b], [b], 0.3), [[1, 0]]);
});

const noData = fs.existsSync(path.join(DATA, 'ckplus48/index.csv')) ? false : `CK+ not found under ${DATA}`;

test('rendered frames show each face image where the ground truth puts it', { skip: noData }, async () => {
  const scene: Scene = generateScene(11, loadCkPlusCatalogue(DATA));
  const bg = renderBackground(scene);
  const cache = new Map<string, Buffer>();
  const i = Math.round(((scene.faces[3].enterMs + 3_000) * scene.fps) / 1000);
  const frame = await renderFrame(scene, i, bg, cache);
  for (const g of groundTruthAt(scene, frameTimeMs(scene, i)).filter((x) => x.visibleFraction === 1)) {
    const img = await sharp(g.image).greyscale().resize(g.box.width, g.box.height, { kernel: 'lanczos3', fit: 'fill' }).raw().toBuffer();
    // The middle of the face square is the image's pixel (gray, R=G=B), the background is not.
    for (const [u, v] of [[0.5, 0.5], [0.3, 0.4], [0.7, 0.6]]) {
      const fx = Math.floor(u * g.box.width);
      const fy = Math.floor(v * g.box.height);
      const k = ((g.box.y + fy) * scene.width + g.box.x + fx) * 3;
      assert.equal(frame[k], img[fy * g.box.width + fx], `${g.faceId} pixel at ${u},${v}`);
      assert.equal(frame[k], frame[k + 1]);
      assert.equal(frame[k + 1], frame[k + 2]);
    }
  }
});
