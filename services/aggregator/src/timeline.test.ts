import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Emotion } from '@emostream/contracts';
import { DEFAULT_AGGREGATOR_CONFIG } from './config.js';
import { updateDominant, type DominantEmotion } from './hysteresis.js';
import { smoothProbabilities, type SmoothedProbabilities } from './smoothing.js';
import { addToTimeline, emptyTimeline, mergeSegments, timelineSegments } from './timeline.js';
import { probs } from './testkit.js';

const cfg = DEFAULT_AGGREGATOR_CONFIG;

function build(frames: { t: number; e: Emotion; p?: number }[], smooth = false) {
  const tl = emptyTimeline();
  let s: SmoothedProbabilities | undefined;
  let d: DominantEmotion | undefined;
  for (const f of frames) {
    const raw = probs(f.e, f.p ?? 0.9);
    s = smooth ? smoothProbabilities(s, raw, f.t, cfg.smoothingMs) : { probabilities: raw, timeMs: f.t };
    const step = updateDominant(d, s.probabilities, f.t, cfg);
    d = step.state;
    addToTimeline(tl, f.t, s.probabilities, d, step.changed);
  }
  return tl;
}

test('one emotion gives one segment from the first to the last frame', () => {
  const tl = build([0, 40, 80, 120].map((t) => ({ t, e: 'happy' as Emotion, p: t === 0 ? 0.6 : 0.8 })));
  const segs = timelineSegments(tl);
  assert.equal(segs.length, 1);
  assert.deepEqual({ ...segs[0], meanConfidence: Math.round(segs[0].meanConfidence * 1000) / 1000 },
    { emotion: 'happy', startMs: 0, endMs: 120, meanConfidence: 0.75 });
});

test('a change splits the timeline where the new emotion began to lead; segments are contiguous', () => {
  const frames = Array.from({ length: 60 }, (_, i) => ({ t: i * 40, e: (i < 25 ? 'neutral' : 'sad') as Emotion }));
  const segs = timelineSegments(build(frames));
  assert.deepEqual(segs.map((s) => [s.emotion, s.startMs, s.endMs]), [['neutral', 0, 1000], ['sad', 1000, 2360]]);
  // Each segment's confidence is its own emotion's probability (0.9 here), not the other's.
  for (const s of segs) assert.ok(Math.abs(s.meanConfidence - 0.9) < 1e-9);
});

test('while a challenger is undecided its frames count for the current segment', () => {
  const frames = Array.from({ length: 30 }, (_, i) => ({ t: i * 40, e: (i < 25 ? 'neutral' : 'sad') as Emotion }));
  const segs = timelineSegments(build(frames));
  assert.deepEqual(segs.map((s) => [s.emotion, s.startMs, s.endMs]), [['neutral', 0, 1160]]);
  // 25 frames at 0.9 for neutral, then 5 with neutral at 0.1/6.
  assert.ok(Math.abs(segs[0].meanConfidence - (25 * 0.9 + 5 * (0.1 / 6)) / 30) < 1e-9);
});

test('a smoothed run back and forth gives alternating segments, never two equal neighbours', () => {
  const frames = Array.from({ length: 200 }, (_, i) => ({ t: i * 40, e: (['neutral', 'happy', 'neutral', 'sad'] as Emotion[])[Math.floor(i / 50)] }));
  const segs = timelineSegments(build(frames, true));
  assert.deepEqual(segs.map((s) => s.emotion), ['neutral', 'happy', 'neutral', 'sad']);
  for (let i = 1; i < segs.length; i++) assert.equal(segs[i].startMs, segs[i - 1].endMs);
  assert.equal(segs.at(-1)!.endMs, 199 * 40);
});

test('mergeSegments merges adjacent equal emotions weighting confidence by duration', () => {
  assert.deepEqual(mergeSegments([
    { emotion: 'happy', startMs: 0, endMs: 100, meanConfidence: 0.5 },
    { emotion: 'happy', startMs: 100, endMs: 400, meanConfidence: 0.9 },
    { emotion: 'sad', startMs: 400, endMs: 500, meanConfidence: 0.7 },
    { emotion: 'sad', startMs: 500, endMs: 500, meanConfidence: 0.1 },
    { emotion: 'fear', startMs: 500, endMs: 600, meanConfidence: 0.6 },
  ]), [
    { emotion: 'happy', startMs: 0, endMs: 400, meanConfidence: 0.8 },
    { emotion: 'sad', startMs: 400, endMs: 500, meanConfidence: 0.7 },
    { emotion: 'fear', startMs: 500, endMs: 600, meanConfidence: 0.6 },
  ]);
  assert.deepEqual(mergeSegments([]), []);
});

test('an uncertain segment names its likeliest emotion (the largest mean probability over its frames); merged uncertain stretches keep the longer one\'s', () => {
  const tl = emptyTimeline();
  const unclear: DominantEmotion = { emotion: 'uncertain', sinceMs: 0 };
  // Fear ahead in two frames of three, sad far ahead in one: the mean favours fear.
  for (const [t, p] of [[0, { ...probs('fear', 0.28) }], [100, { ...probs('fear', 0.28) }], [200, { ...probs('sad', 0.29) }]] as const) addToTimeline(tl, t, p, unclear, false);
  const [seg] = timelineSegments(tl);
  assert.equal(seg.emotion, 'uncertain');
  assert.equal(seg.likeliest, 'fear');
  // The open segment's sums survive a JSON round trip (snapshots) and are not shared with the copy timelineSegments closes.
  const again = JSON.parse(JSON.stringify(tl)) as typeof tl;
  addToTimeline(again, 300, probs('sad', 0.29), unclear, false);
  addToTimeline(again, 400, probs('sad', 0.29), unclear, false);
  assert.equal(timelineSegments(again)[0].likeliest, 'sad');
  assert.equal(timelineSegments(tl)[0].likeliest, 'fear');
  // A clear segment names none.
  assert.equal(timelineSegments(build([0, 40, 80].map((t) => ({ t, e: 'happy' as Emotion }))))[0].likeliest, undefined);
  assert.deepEqual(mergeSegments([
    { emotion: 'uncertain', startMs: 0, endMs: 100, meanConfidence: 0.2, likeliest: 'fear' },
    { emotion: 'uncertain', startMs: 100, endMs: 400, meanConfidence: 0.2, likeliest: 'sad' },
  ]).map((s) => s.likeliest), ['sad']);
});
