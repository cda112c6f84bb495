import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EMOTIONS, type Emotion, type EmotionProbabilities } from '@emostream/contracts';
import { emptyHindsight, hindsightSegments, recordFrame, type HindsightOptions } from './hindsight.js';

const O: HindsightOptions = { switchCost: 0.2, uncertainBelow: 0.3, maxFrames: 100_000, keepMs: 10_000 };

/** Probabilities with `top` at `p` and the rest shared equally. */
const probs = (top: Emotion | 'flat', p = 0.8): EmotionProbabilities =>
  Object.fromEntries(EMOTIONS.map((e) => [e, top === 'flat' ? 1 / 7 : e === top ? p : (1 - p) / 6])) as EmotionProbabilities;

/** A track of `[emotion, frames]` runs at `frameMs`. */
function track(runs: Array<[Emotion | 'flat', number, number?]>, frameMs = 100, o = O) {
  const h = emptyHindsight();
  let t = 0;
  for (const [e, n, p] of runs) for (let i = 0; i < n; i++, t += frameMs) recordFrame(h, t, probs(e, p), o);
  return h;
}

const brief = (segs: ReturnType<typeof hindsightSegments>) => segs.map((s) => `${s.emotion} ${s.startMs}-${s.endMs}`);

test('a change is dated halfway between the last frame of one emotion and the first of the next; the segments are contiguous', () => {
  const segs = hindsightSegments(track([['happy', 20], ['sad', 20]]), O);
  assert.deepEqual(brief(segs), ['happy 0-1950', 'sad 1950-3900']);
  assert.ok(Math.abs(segs[0].meanConfidence - 0.8) < 1e-9);
});

test('a one-frame blip does not pay for two changes; a held expression does', () => {
  assert.deepEqual(brief(hindsightSegments(track([['happy', 20], ['angry', 1], ['happy', 20]]), O)), ['happy 0-4000']);
  assert.deepEqual(brief(hindsightSegments(track([['happy', 20], ['angry', 8], ['happy', 20]]), O)), ['happy 0-1950', 'angry 1950-2750', 'happy 2750-4700']);
});

/** Probabilities led by `top` at 0.25, the other six at 0.125: an emotion ahead, but none clear. */
const weak = (top: Emotion): EmotionProbabilities => Object.fromEntries(EMOTIONS.map((e) => [e, e === top ? 0.25 : 0.125])) as EmotionProbabilities;

test('a segment whose emotion stays unclear (mean probability under uncertainBelow) is uncertain; uncertainBelow 0 never says so', () => {
  const h = emptyHindsight();
  let t = 0;
  for (const [p, n] of [[probs('happy'), 20], [weak('fear'), 30], [probs('happy'), 20]] as const) for (let i = 0; i < n; i++, t += 100) recordFrame(h, t, p, O);
  const segs = hindsightSegments(h, O);
  assert.deepEqual(brief(segs), ['happy 0-1950', 'uncertain 1950-4950', 'happy 4950-6900']);
  assert.ok(Math.abs(segs[1].meanConfidence - 0.25) < 1e-9, 'an uncertain segment\'s confidence is its likeliest emotion\'s');
  assert.equal(segs[1].likeliest, 'fear', 'an uncertain segment names its likeliest emotion');
  assert.equal(segs[0].likeliest, undefined, 'a clear segment names none');
  assert.deepEqual(hindsightSegments(h, { ...O, uncertainBelow: 0 }).map((s) => s.emotion), ['happy', 'fear', 'happy']);
  // A whole track without a clear emotion is one uncertain segment.
  assert.deepEqual(hindsightSegments(track([['flat', 30]]), O).map((s) => s.emotion), ['uncertain']);
});

test('frames that favour no emotion do not end one: a flat stretch inside happy stays happy', () => {
  assert.deepEqual(brief(hindsightSegments(track([['happy', 20], ['flat', 10], ['happy', 20]]), O)), ['happy 0-4900']);
});

test('the switch cost is in time units: an expression of 0.3 s is absorbed and one of 1.5 s kept, at 10 and at 25 fps alike', () => {
  const o = { ...O, switchCost: 1 };
  for (const [frameMs, fps] of [[100, 10], [40, 25]]) {
    const frames = (s: number) => Math.round((s * 1000) / frameMs);
    const short = hindsightSegments(track([['neutral', frames(3)], ['surprise', frames(0.3), 0.6], ['neutral', frames(3)]], frameMs, o), o);
    const long = hindsightSegments(track([['neutral', frames(3)], ['surprise', frames(1.5), 0.6], ['neutral', frames(3)]], frameMs, o), o);
    assert.deepEqual(short.map((s) => s.emotion), ['neutral'], `${fps} fps`);
    assert.deepEqual(long.map((s) => s.emotion), ['neutral', 'surprise', 'neutral'], `${fps} fps`);
  }
});

test('past maxFrames the older part is frozen: the same segments as decoding all of it, with the frames kept bounded', () => {
  const runs: Array<[Emotion, number]> = [];
  for (let i = 0; i < 12; i++) runs.push([EMOTIONS[i % 7], 25 + ((i * 7) % 11)]);
  const small = { ...O, maxFrames: 60, keepMs: 2000 };
  const bounded = track(runs, 100, small);
  assert.ok(bounded.frozen.length > 0);
  assert.ok(bounded.times.length <= 60);
  assert.deepEqual(brief(hindsightSegments(bounded, small)), brief(hindsightSegments(track(runs), O)));
});

test('no frames, no segments; one frame, one segment', () => {
  assert.deepEqual(hindsightSegments(emptyHindsight(), O), []);
  assert.deepEqual(brief(hindsightSegments(track([['fear', 1]]), O)), ['fear 0-0']);
});
