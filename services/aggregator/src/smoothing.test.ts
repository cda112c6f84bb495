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

test('a repeated or earlier timestamp changes nothing', () => {
  const s = smoothProbabilities(undefined, probs('neutral'), 100, 500);
  assert.equal(smoothProbabilities(s, probs('happy'), 100, 500), s);
  assert.equal(smoothProbabilities(s, probs('happy'), 50, 500), s);
});
