import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Emotion, EmotionState } from '@emostream/contracts';
import { changePointFrom, updateChangePoint, type ChangePointOptions, type ChangePointState } from './changePoint.js';
import { probs } from './testkit.js';

const O: ChangePointOptions = { changePointCost: 2, uncertainBelow: 0.3, uncertainMargin: 0.05 };

/** Feeds frames every `stepMs` from 0; returns each change (when emitted, the state, its date) and the last state. */
function feed(frames: Array<{ emotion: Emotion; p?: number }>, stepMs = 100, o = O, from?: ChangePointState) {
  let state = from;
  const changes: Array<{ atMs: number; emotion: EmotionState; sinceMs: number }> = [];
  const first: EmotionState[] = [];
  frames.forEach((f, i) => {
    const r = updateChangePoint(state, probs(f.emotion, f.p ?? 0.9), i * stepMs, o);
    state = r.state;
    if (i === 0) first.push(r.step.state.emotion);
    if (r.step.changed) changes.push({ atMs: i * stepMs, emotion: r.step.state.emotion, sinceMs: r.step.state.sinceMs });
  });
  return { changes, state: state!, first: first[0] };
}

const run = (emotion: Emotion, n: number, p?: number) => Array.from({ length: n }, () => ({ emotion, p }));

test('a clear change is taken once its evidence passes the cost, and dated where its frames began', () => {
  // 0.1 s x log(0.9 / 0.0167) = 0.399 nats x s a frame: five happy frames give 1.99, the 6th passes 2.
  const { changes, first } = feed([...run('neutral', 20), ...run('happy', 20)]);
  assert.equal(first, 'neutral');
  assert.deepEqual(changes, [{ atMs: 2500, emotion: 'happy', sinceMs: 1950 }]); // halfway between 1900 and 2000
});

test('the cost is in nats x seconds: at 25 fps the same change is dated alike and taken as soon in media time', () => {
  const at10 = feed([...run('neutral', 20), ...run('happy', 20)], 100).changes[0];
  const at25 = feed([...run('neutral', 50), ...run('happy', 50)], 40).changes[0];
  assert.equal(at25.sinceMs, 1980);
  assert.ok(Math.abs(at25.atMs - at10.atMs) <= 100, `${at25.atMs} against ${at10.atMs}`);
});

test('short blips of another emotion, under the cost, change nothing; a change back pays the cost again', () => {
  const blips = Array.from({ length: 10 }, () => [...run('neutral', 6), ...run('surprise', 3)]).flat();
  assert.deepEqual(feed(blips).changes, []);
  const { changes } = feed([...run('neutral', 10), ...run('happy', 10), ...run('neutral', 3), ...run('happy', 10)]);
  assert.deepEqual(changes.map((c) => c.emotion), ['happy']);
});

test('frames that hesitate between two emotions do not switch back and forth', () => {
  // Happy and sad about as likely in every frame: the evidence never builds.
  const frames = Array.from({ length: 200 }, (_, i) => ({ emotion: (i % 2 ? 'happy' : 'sad') as Emotion, p: 0.5 }));
  assert.ok(feed(frames).changes.length <= 1);
});

test('a segment whose emotion is unclear is uncertain, entered and left across the margin', () => {
  const unclear = feed(run('sad', 10, 0.28));
  assert.equal(unclear.first, 'uncertain');
  assert.deepEqual(unclear.changes, []);
  // Clear sad frames raise the segment's mean past 0.35: it leaves uncertain, dated at that frame.
  const { changes } = feed([...run('sad', 4, 0.28), ...run('sad', 6, 0.5)]);
  assert.deepEqual(changes.map((c) => c.emotion), ['sad']);
  assert.equal(changes[0].sinceMs, changes[0].atMs);
});

test('the state is JSON: a restored state goes on exactly as the live one', () => {
  const a = feed([...run('neutral', 12), ...run('happy', 2)]);
  const restored = JSON.parse(JSON.stringify(a.state)) as ChangePointState;
  const rest = run('happy', 8);
  const live = rest.reduce((s, f, i) => updateChangePoint(s, probs(f.emotion), 1400 + i * 100, O).state, a.state);
  const again = rest.reduce((s, f, i) => updateChangePoint(s, probs(f.emotion), 1400 + i * 100, O).state, restored);
  assert.deepEqual(again, live);
  assert.equal(live.emotion, 'happy');
  assert.equal(live.sinceMs, 1150);
});

test('a repeated or earlier timestamp adds nothing', () => {
  const a = feed(run('neutral', 5)).state;
  assert.equal(updateChangePoint(a, probs('happy'), 400, O).state, a);
  assert.equal(updateChangePoint(a, probs('happy'), 100, O).state, a);
});

test('a state made from a dominant emotion decided otherwise keeps its emotion and date, and needs the full cost to change', () => {
  const s = changePointFrom({ emotion: 'sad', sinceMs: 300 }, probs('happy', 0.5), 1000, O);
  assert.equal(s.emotion, 'sad');
  assert.equal(s.sinceMs, 300);
  // No event on going on (the emotion is the one decided); a change takes the full cost: the 6th happy frame.
  const { changes } = feed([...run('sad', 5), ...run('happy', 8)], 100, O, { ...s, lastMs: -100 });
  assert.deepEqual(changes.map((c) => [c.emotion, c.atMs]), [['happy', 1000]]);
  assert.equal(changePointFrom({ emotion: 'uncertain', sinceMs: 0 }, probs('fear', 0.28), 0, O).uncertain, true);
});
