import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Emotion, EmotionState } from '@emostream/contracts';
import { DEFAULT_AGGREGATOR_CONFIG } from './config.js';
import { updateDominant, type DominantEmotion } from './hysteresis.js';
import { smoothProbabilities, type SmoothedProbabilities } from './smoothing.js';
import { probs } from './testkit.js';

const cfg = DEFAULT_AGGREGATOR_CONFIG;

/** Runs raw per-frame vectors through smoothing and hysteresis; returns the changes. */
function run(frames: { t: number; e: Emotion; p?: number }[], smooth = true) {
  let s: SmoothedProbabilities | undefined;
  let d: DominantEmotion | undefined;
  const changes: { t: number; from?: EmotionState; to: EmotionState; sinceMs: number }[] = [];
  for (const f of frames) {
    s = smooth ? smoothProbabilities(s, probs(f.e, f.p ?? 0.9), f.t, cfg.smoothingMs) : { probabilities: probs(f.e, f.p ?? 0.9), timeMs: f.t };
    const step = updateDominant(d, s.probabilities, f.t, cfg);
    d = step.state;
    if (step.changed) changes.push({ t: f.t, from: step.previous, to: d.emotion, sinceMs: d.sinceMs });
  }
  return { changes, final: d! };
}
const at25fps = (n: number, e: (i: number) => Emotion) => Array.from({ length: n }, (_, i) => ({ t: i * 40, e: e(i) }));

test('the first vector sets the dominant emotion without a change', () => {
  const { changes, final } = run([{ t: 0, e: 'sad' }]);
  assert.deepEqual(changes, []);
  assert.deepEqual(final, { emotion: 'sad', sinceMs: 0 });
});

test('a one-frame spike produces no change, smoothed or not', () => {
  for (const smooth of [true, false]) {
    const { changes, final } = run(at25fps(50, (i) => (i === 20 ? 'surprise' : 'neutral')), smooth);
    assert.deepEqual(changes, []);
    assert.equal(final.emotion, 'neutral');
  }
});

test('a sustained change produces exactly one change, dated from when the lead began', () => {
  const { changes } = run(at25fps(100, (i) => (i < 40 ? 'neutral' : 'happy')));
  assert.equal(changes.length, 1);
  assert.equal(changes[0].from, 'neutral');
  assert.equal(changes[0].to, 'happy');
  // The lead begins once the smoothed "happy" passes "neutral" by the margin, a few frames after 1600.
  assert.ok(changes[0].sinceMs > 1600 && changes[0].sinceMs < 2200, `since ${changes[0].sinceMs}`);
  assert.ok(changes[0].t - changes[0].sinceMs >= cfg.minDwellMs);
  assert.ok(changes[0].t - changes[0].sinceMs < cfg.minDwellMs + 40);
});

test('an alternating (flickering) input below the dwell time never switches', () => {
  // Unsmoothed: happy leads for 200 ms at a time, less than minDwellMs (400).
  const { changes } = run(at25fps(100, (i) => (Math.floor(i / 5) % 2 ? 'happy' : 'neutral')), false);
  assert.deepEqual(changes, []);
});

test('a lead below the margin does not switch', () => {
  const frames = Array.from({ length: 50 }, (_, i) => ({ t: i * 40, e: 'neutral' as Emotion, p: 0.5 }));
  let d = updateDominant(undefined, probs('neutral', 0.5), 0, cfg).state;
  for (const f of frames) {
    const p = { ...probs('neutral', 0.45), happy: 0.5 }; // happy leads by 0.05 < 0.1
    const step = updateDominant(d, p, f.t, cfg);
    assert.equal(step.changed, false);
    d = step.state;
  }
});

test('with sparse frames the change waits for a frame at least minDwellMs after the lead began', () => {
  const { changes } = run([{ t: 0, e: 'neutral' }, { t: 1000, e: 'sad' }, { t: 1300, e: 'sad' }, { t: 2000, e: 'sad' }], false);
  assert.deepEqual(changes, [{ t: 2000, from: 'neutral', to: 'sad', sinceMs: 1000 }]);
});

test('uncertain: no emotion reaches uncertainBelow; entering and leaving it follow margin and dwell', () => {
  // 0.25 happy (the rest 0.125 each): nothing reaches uncertainBelow (0.3) → uncertain from the first frame.
  assert.equal(cfg.uncertainBelow, 0.3);
  assert.equal(cfg.uncertainMargin, 0.05);
  const flat = run([{ t: 0, e: 'happy', p: 0.25 }], false);
  assert.deepEqual(flat.final, { emotion: 'uncertain', sinceMs: 0 });
  // Clear happiness (0.9) for 1 s: leaves uncertain once happy led it by the margin for minDwellMs.
  const frames = [
    ...Array.from({ length: 10 }, (_, i) => ({ t: i * 40, e: 'happy' as const, p: 0.25 })),
    ...Array.from({ length: 25 }, (_, i) => ({ t: 400 + i * 40, e: 'happy' as const, p: 0.9 })),
  ];
  const { changes } = run(frames, false);
  assert.deepEqual(changes, [{ t: 400 + cfg.minDwellMs, from: 'uncertain', to: 'happy', sinceMs: 400 }]);
  // From happy, a drop to 0.45 stays happy (above the threshold); to 0.2 for long enough → uncertain.
  // (probs(e, p) gives e the probability p.)
  const fading = [
    ...Array.from({ length: 10 }, (_, i) => ({ t: i * 40, e: 'happy' as const, p: 0.9 })),
    ...Array.from({ length: 15 }, (_, i) => ({ t: 400 + i * 40, e: 'happy' as const, p: 0.45 })),
    ...Array.from({ length: 15 }, (_, i) => ({ t: 1000 + i * 40, e: 'happy' as const, p: 0.2 })),
  ];
  const f = run(fading, false);
  assert.deepEqual(f.changes, [{ t: 1000 + cfg.minDwellMs, from: 'happy', to: 'uncertain', sinceMs: 1000 }]);
  // Leaving uncertain takes uncertainBelow + uncertainMargin (0.35), not uncertainBelow + switchMargin (0.4).
  const rising = [
    ...Array.from({ length: 10 }, (_, i) => ({ t: i * 40, e: 'happy' as const, p: 0.25 })),
    ...Array.from({ length: 25 }, (_, i) => ({ t: 400 + i * 40, e: 'happy' as const, p: 0.37 })),
  ];
  assert.deepEqual(run(rising, false).changes, [{ t: 400 + cfg.minDwellMs, from: 'uncertain', to: 'happy', sinceMs: 400 }]);
  const wide = { ...cfg, uncertainMargin: 0.1 };
  let d: DominantEmotion | undefined;
  for (const f of rising) d = updateDominant(d, probs(f.e, f.p), f.t, wide).state;
  assert.equal(d!.emotion, 'uncertain');
  // Entering it: the current emotion under uncertainBelow − uncertainMargin (0.25); at 0.27 it stays.
  const sagging = [
    ...Array.from({ length: 10 }, (_, i) => ({ t: i * 40, e: 'happy' as const, p: 0.9 })),
    ...Array.from({ length: 25 }, (_, i) => ({ t: 400 + i * 40, e: 'happy' as const, p: 0.27 })),
  ];
  assert.deepEqual(run(sagging, false).changes, []);
  // uncertainBelow 0 turns the state off: the argmax always leads.
  assert.equal(updateDominant(undefined, probs('sad', 0.2), 0, { ...cfg, uncertainBelow: 0 }).state.emotion, 'sad');
});
