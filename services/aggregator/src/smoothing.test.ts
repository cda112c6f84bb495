import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EMOTIONS } from '@emostream/contracts';
import { smoothProbabilities, type SmoothedProbabilities } from './smoothing.js';
import { probs } from './testkit.js';

test('the first observation is taken as is', () => {
  assert.deepEqual(smoothProbabilities(undefined, probs('sad'), 120, 500), { probabilities: probs('sad'), timeMs: 120 });
});

test('the step response follows 1 - exp(-t / smoothingMs) whatever the frame intervals', () => {
  const tau = 500;
  const run = (times: number[]) => {
    let s: SmoothedProbabilities | undefined = smoothProbabilities(undefined, probs('neutral'), 0, tau);
    for (const t of times) s = smoothProbabilities(s, probs('happy'), t, tau);
    return s!;
  };
  const expected = 1 - Math.exp(-1000 / tau);
  const regular = run(Array.from({ length: 25 }, (_, i) => (i + 1) * 40));
  const irregular = run([13, 40, 41, 200, 233, 600, 610, 999, 1000]);
  const single = run([1000]);
  for (const s of [regular, irregular, single]) {
    assert.ok(Math.abs(s.probabilities.happy - expected) < 1e-12, `${s.probabilities.happy} vs ${expected}`);
    assert.equal(s.timeMs, 1000);
    const sum = EMOTIONS.reduce((a, e) => a + s.probabilities[e], 0);
    assert.ok(Math.abs(sum - 1) < 1e-12);
  }
});

test('warm-up: a young track\'s frames count alike (the first does not outweigh the second); later it is the plain average', () => {
  const tau = 500;
  const first = smoothProbabilities(undefined, probs('sad'), 0, tau, 'probability', true);
  assert.equal(first.weight, 0);
  assert.deepEqual(first.probabilities, probs('sad'));
  // Two frames 100 ms apart: the plain average keeps 82% of the first; with warm-up they weigh
  // 1 − α and 1 (α = 1 − e^(−0.2)), nearly alike.
  const a = 1 - Math.exp(-100 / tau);
  const plain = smoothProbabilities(smoothProbabilities(undefined, probs('sad'), 0, tau), probs('happy'), 100, tau);
  const warm = smoothProbabilities(first, probs('happy'), 100, tau, 'probability', true);
  assert.ok(Math.abs(plain.probabilities.happy - a) < 1e-12);
  assert.ok(Math.abs(warm.probabilities.happy - 1 / (2 - a)) < 1e-12, `${warm.probabilities.happy}`);
  assert.ok(Math.abs(warm.weight! - a * (2 - a)) < 1e-12);
  // After many time constants the weight is 1 and a step is the plain one.
  let s: SmoothedProbabilities = first;
  for (let t = 100; t <= 5000; t += 100) s = smoothProbabilities(s, probs('neutral'), t, tau, 'probability', true);
  assert.ok(s.weight! > 0.9999);
  const next = smoothProbabilities(s, probs('happy'), 5100, tau, 'probability', true);
  assert.ok(Math.abs(next.probabilities.happy - (s.probabilities.happy + a * (1 - s.probabilities.happy))) < 1e-4);
  // A state saved before the weight existed goes on as the plain average; log space renormalises.
  const legacy = smoothProbabilities({ probabilities: probs('sad'), timeMs: 0 }, probs('happy'), 100, tau, 'probability', true);
  assert.ok(Math.abs(legacy.probabilities.happy - a) < 1e-12);
  const lw = smoothProbabilities(smoothProbabilities(undefined, probs('sad', 0.9), 0, tau, 'log', true), probs('happy', 0.9), 100, tau, 'log', true);
  assert.ok(Math.abs(EMOTIONS.reduce((x, e) => x + lw.probabilities[e], 0) - 1) < 1e-12);
  assert.ok(lw.probabilities.happy > lw.probabilities.sad, 'the second frame weighs a little more than the first');
});

test('a repeated or earlier timestamp changes nothing', () => {
  const s = smoothProbabilities(undefined, probs('neutral'), 100, 500);
  assert.equal(smoothProbabilities(s, probs('happy'), 100, 500), s);
  assert.equal(smoothProbabilities(s, probs('happy'), 50, 500), s);
});

/** A distribution leaning `lean` (0..1 of the mass above uniform) towards one emotion. */
const leaning = (e: (typeof EMOTIONS)[number], lean: number) =>
  Object.fromEntries(EMOTIONS.map((x) => [x, (x === e ? lean : 0) + (1 - lean) / EMOTIONS.length])) as ReturnType<typeof probs>;

test('log space: a steady moderate emotion beats one that spikes every other frame; in probability space the spikes win', () => {
  // neutral 0.6 / sad 0.02 in every other frame; sad 0.9 / neutral 0.05 in the frames between.
  const rest = (p: Record<string, number>) => { const left = (1 - p.sad - p.neutral) / (EMOTIONS.length - 2); return Object.fromEntries(EMOTIONS.map((e) => [e, p[e] ?? left])) as ReturnType<typeof probs>; };
  const frame = (k: number) => (k % 2 === 0 ? rest({ sad: 0.9, neutral: 0.05 }) : rest({ sad: 0.02, neutral: 0.6 }));
  const run = (space: 'log' | 'probability') => {
    let s = smoothProbabilities(undefined, frame(1), 0, 500, space);
    const mean = { sad: 0, neutral: 0 };
    for (let k = 2; k < 80; k++) {
      s = smoothProbabilities(s, frame(k), k * 100, 500, space);
      if (k >= 40) { mean.sad += s.probabilities.sad / 40; mean.neutral += s.probabilities.neutral / 40; }
      assert.ok(Math.abs(EMOTIONS.reduce((a, e) => a + s.probabilities[e], 0) - 1) < 1e-12);
    }
    return mean;
  };
  const log = run('log'), lin = run('probability');
  assert.ok(log.neutral > log.sad, `log: neutral ${log.neutral} vs sad ${log.sad}`);
  assert.ok(lin.sad > lin.neutral, `probability: sad ${lin.sad} vs neutral ${lin.neutral}`);
});

test('log space: a flat frame keeps the ranking and only softens it; a sure frame moves it more than an unsure one', () => {
  const start = smoothProbabilities(undefined, leaning('neutral', 0.4), 0, 500, 'log');
  const flat = smoothProbabilities(start, leaning('sad', 0), 200, 500, 'log');
  assert.ok(flat.probabilities.neutral < start.probabilities.neutral && flat.probabilities.neutral > flat.probabilities.sad);
  const unsure = smoothProbabilities(start, leaning('sad', 0.2), 200, 500, 'log');
  const sure = smoothProbabilities(start, leaning('sad', 0.9), 200, 500, 'log');
  assert.ok(sure.probabilities.sad > unsure.probabilities.sad + 0.05);
});

test('log space: the same frame over and over converges to it; a steady stream of one emotion takes over', () => {
  const target = leaning('happy', 0.6);
  let s = smoothProbabilities(undefined, leaning('neutral', 0.6), 0, 500, 'log');
  for (let t = 40; t <= 4000; t += 40) s = smoothProbabilities(s, target, t, 500, 'log');
  for (const e of EMOTIONS) assert.ok(Math.abs(s.probabilities[e] - target[e]) < 1e-3, `${e} ${s.probabilities[e]} vs ${target[e]}`);
});

test('log space: a one-hot frame does not zero the other emotions for good', () => {
  let s = smoothProbabilities(undefined, probs('sad'), 0, 500, 'log');
  for (let t = 40; t <= 2000; t += 40) s = smoothProbabilities(s, leaning('happy', 0.8), t, 500, 'log');
  assert.ok(s.probabilities.happy > 0.5, `happy ${s.probabilities.happy}`);
});
