// Re-identification on a second look: after a cut to another shot size or angle, one embedding of
// a returning face may fall short of reidMinSimilarity where the running mean of two reaches it.
// A new person whose first embedding almost resembles someone who left waits for the next one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EmotionEventSchema, unpackEmbedding } from '@emostream/contracts';
import { cosineSimilarity } from './tracker.js';
import { identity, partly, play, shotFrames, stand } from './testkit.js';

const sim = (a: string, b: string) => cosineSimilarity(unpackEmbedding(a), unpackEmbedding(b));

/**
 * p1 stands 0-2 s and leaves (announced at 4 s, personTtlMs); from 5 s someone (`first` at 5 s,
 * then `later` at 6 s and 7 s) stands elsewhere, larger.
 */
function scene(first: (t: number) => string, later: (t: number) => string) {
  return [
    ...shotFrames('cam', 0, 2000, stand(1, 0, 2000)),
    ...shotFrames('cam', 2100, 4900),
    ...shotFrames('cam', 5000, 8000, stand(0, 5000, 8000, 800, 200, (t) => (t === 5000 ? first(t) : later(t)))),
  ];
}

test('the synthetic embeddings: a first look short of reidMinSimilarity (0.6), a second one that reaches it', () => {
  const p1 = identity(1, 0.3, 100);
  const s = sim(p1, partly(1, 9, 0.35, 5000));
  assert.ok(s >= 0.5 && s < 0.6, `first look ${s}`);
  assert.ok(sim(p1, identity(1, 0.3, 6000)) > 0.8);
  assert.ok(sim(p1, identity(9, 0.3, 6000)) < 0.3, 'the stranger is not alike');
});

test('a person back after a cut, first seen at a borderline likeness, gets their id back on the second embedding', () => {
  const r = play({}, scene((t) => partly(1, 9, 0.35, t), (t) => identity(1, 0.3, t)));
  assert.deepEqual(r.log, ['person.appeared p1 @200', 'person.left p1 @2000', 'person.appeared p1 returning @6000']);
  // Their timeline goes on from where they were first seen back, not from the announcement.
  const segs = r.a.timelines().cameras.cam.persons.p1.segments;
  assert.equal(segs.find((x) => x.startMs >= 5000)?.startMs, 5000);
  for (const e of r.events) EmotionEventSchema.parse(e);
  // Without the second look, the first embedding decides: a new person.
  const off = play({ reidSecondLookSimilarity: 0.6 }, scene((t) => partly(1, 9, 0.35, t), (t) => identity(1, 0.3, t)));
  assert.deepEqual(off.log.at(-1), 'person.appeared p2 @5200');
});

test('a stranger at a borderline likeness is a new person after the second look (no false merge)', () => {
  const r = play({}, scene((t) => partly(1, 9, 0.35, t), (t) => identity(9, 0.3, t)));
  assert.deepEqual(r.log, ['person.appeared p1 @200', 'person.left p1 @2000', 'person.appeared p2 @6000']);
});

test('no second look for a clear stranger, nor for a clear return', () => {
  const stranger = play({}, scene((t) => identity(9, 0.3, t), (t) => identity(9, 0.3, t)));
  assert.deepEqual(stranger.log.at(-1), 'person.appeared p2 @5200');
  const back = play({}, scene((t) => identity(1, 0.3, t), (t) => identity(1, 0.3, t)));
  assert.deepEqual(back.log.at(-1), 'person.appeared p1 returning @5200');
});

test('the second look is bounded by reidWaitMs: a face not embedded again is announced then', () => {
  const msgs = scene((t) => partly(1, 9, 0.35, t), (t) => identity(1, 0.3, t)).map((m) => (
    m.frame.mediaTimeMs > 5000 ? { ...m, faces: m.faces.map(({ embedding: _e, ...f }) => f) } : m));
  const r = play({ reidWaitMs: 1500 }, msgs);
  assert.deepEqual(r.log.at(-1), 'person.appeared p2 @6500');
});

test('nobody who left to compare with, or only persons present: no second look', () => {
  // p1 stays in the picture while the newcomer, who looks a little like p1, comes in.
  const r = play({}, shotFrames('cam', 0, 3000, stand(1, 0, 3000), stand(0, 1000, 3000, 800, 200, (t) => partly(1, 9, 0.35, t))));
  assert.deepEqual(r.log, ['person.appeared p1 @200', 'person.appeared p2 @1200']);
});
