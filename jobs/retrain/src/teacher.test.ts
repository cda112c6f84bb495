import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EMOTIONS } from '@emostream/contracts';
import { loadTf } from '@emostream/runtime';
import { equalisedCopy } from './augment.js';
import type { LabelledSet } from './datasets.js';
import { teacherProbabilities, withTeacherTargets } from './teacher.js';

const K = EMOTIONS.length;
const SHIPPED = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../models/video');

function set(labels: number[], soft?: number[][]): LabelledSet {
  const images = new Uint8Array(labels.length * 2304);
  // A gradient per face, different for each, so that equalising changes them.
  labels.forEach((_, k) => { for (let p = 0; p < 2304; p++) images[k * 2304 + p] = (p % 48) * (k + 1) % 200 + 20; });
  return {
    images, labels: Int32Array.from(labels), ids: labels.map((_, k) => `train/x/Training_${k}.jpg`), groups: labels.map(() => 'Training'),
    skippedLabels: {}, unreadable: [], ...(soft ? { soft: Float32Array.from(soft.flat()) } : {}),
  };
}

const row = (hot: number, p = 1) => Array.from({ length: K }, (_, c) => (c === hot ? p : (1 - p) / (K - 1)));

test('teacher targets: (1 − w)·own target + w·teacher; hard labels kept; agreement counted', () => {
  const teacher = Float32Array.from([...row(3, 0.7), ...row(0, 0.4)]);
  const { set: out, mix } = withTeacherTargets(set([3, 4]), teacher, 0.25);
  assert.deepEqual(Array.from(out.labels), [3, 4]);
  for (let c = 0; c < K; c++) {
    assert.ok(Math.abs(out.soft![c] - (0.75 * (c === 3 ? 1 : 0) + 0.25 * teacher[c])) < 1e-6);
    assert.ok(Math.abs(out.soft![K + c] - (0.75 * (c === 4 ? 1 : 0) + 0.25 * teacher[K + c])) < 1e-6);
  }
  assert.equal(mix.agreeing, 1, 'the first face agrees with its label, the second does not');
  assert.ok(Math.abs(mix.meanTop - 0.55) < 1e-6);
  // Every target row still sums to 1.
  for (let i = 0; i < 2; i++) assert.ok(Math.abs(out.soft!.subarray(i * K, (i + 1) * K).reduce((a, b) => a + b, 0) - 1) < 1e-6);
});

test('teacher targets mix with soft targets already there (FER+ votes), and weight 1 is the teacher alone', () => {
  const votes = [row(0, 0.6)];
  const teacher = Float32Array.from(row(1, 0.9));
  const half = withTeacherTargets(set([0], votes), teacher, 0.5).set.soft!;
  for (let c = 0; c < K; c++) assert.ok(Math.abs(half[c] - (0.5 * votes[0][c] + 0.5 * teacher[c])) < 1e-6);
  assert.deepEqual(Array.from(withTeacherTargets(set([0], votes), teacher, 1).set.soft!), Array.from(teacher));
});

test('teacher targets refuse a weight outside [0, 1] and probabilities for another number of faces', () => {
  assert.throws(() => withTeacherTargets(set([0]), Float32Array.from(row(0)), 1.5), /\[0, 1\]/);
  assert.throws(() => withTeacherTargets(set([0, 1]), Float32Array.from(row(0)), 0.5), /1 rows of probabilities for 2 images/);
});

test('the shipped model as teacher: one probability row per face, each summing to 1; raw faces are equalised first', async () => {
  const { tf } = await loadTf();
  const faces = set([3, 4, 0]);
  const raw = await teacherProbabilities(tf, SHIPPED, faces, { raw: true, flipTta: true });
  const eq = await teacherProbabilities(tf, SHIPPED, equalisedCopy(faces), { raw: false, flipTta: true });
  assert.equal(raw.probs.length, 3 * K);
  assert.match(raw.version, /^video-/);
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(raw.probs.subarray(i * K, (i + 1) * K).reduce((a, b) => a + b, 0) - 1) < 1e-4);
  assert.deepEqual(Array.from(raw.probs), Array.from(eq.probs), 'raw faces are equalised as the clean ones are');
  await assert.rejects(teacherProbabilities(tf, '/nonexistent/model', faces, { raw: false, flipTta: false }), /does not exist/);
});
