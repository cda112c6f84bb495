// Re-identification of persons seen only as small faces: a likeness on either side of the
// comparison taken only from faces under reidSmallFacePx must reach reidSmallFaceMinSimilarity,
// not reidMinSimilarity (a margin where the likeness is less certain).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unpackEmbedding } from '@emostream/contracts';
import { Gallery } from './gallery.js';
import { cosineSimilarity } from './tracker.js';
import { identity, partly, play, shotFrames, stand, type Shot } from './testkit.js';

/** Someone who is not person 1 but resembles them: 0.4 of person 1's likeness, the rest person 9's. */
const lookalike = (t: number) => partly(1, 9, 0.4, t);

/** p1 stands 0-2 s as a face `firstPx` wide and leaves; from 5 s someone (`embed`) stands elsewhere, `laterPx` wide. */
function scene(firstPx: number, laterPx: number, embed: (t: number) => string) {
  return [
    ...shotFrames('cam', 0, 2000, stand(1, 0, 2000, 400, firstPx)),
    ...shotFrames('cam', 2100, 4900),
    ...shotFrames('cam', 5000, 8000, stand(0, 5000, 8000, 800, laterPx, embed)),
  ];
}

test('the look-alike: between reidMinSimilarity (0.6) and reidSmallFaceMinSimilarity (0.65) of person 1', () => {
  for (const t of [5000, 6000, 7000]) {
    const s = cosineSimilarity(unpackEmbedding(identity(1, 0.3, 100)), unpackEmbedding(lookalike(t)));
    assert.ok(s >= 0.57 && s < 0.65, `at ${t}: ${s}`);
  }
});

test('a look-alike of a person who left, seen only as a small face, is a new person; the person themselves returns', () => {
  const stranger = play({}, scene(30, 120, lookalike));
  assert.deepEqual(stranger.log, ['person.appeared p1 @200', 'person.left p1 @2000', 'person.appeared p2 @6000']);
  const back = play({}, scene(30, 120, (t) => identity(1, 0.3, t)));
  assert.deepEqual(back.log.at(-1), 'person.appeared p1 returning @5200');
  // Held to reidMinSimilarity alone (reidSmallFacePx 0), the look-alike takes p1's id.
  const loose = play({ reidSmallFacePx: 0 }, scene(30, 120, lookalike));
  assert.deepEqual(loose.log.at(-1), 'person.appeared p1 returning @6000', 'after a second look');
});

test('the stricter bar holds for a small newcomer too, and not between two large faces', () => {
  const smallNew = play({}, scene(120, 30, lookalike));
  assert.deepEqual(smallNew.log.at(-1), 'person.appeared p2 @6000');
  const large = play({}, scene(120, 120, lookalike));
  assert.deepEqual(large.log.at(-1), 'person.appeared p1 returning @6000', 'large faces keep reidMinSimilarity');
});

test('a person seen small, then large, is no longer held to the small faces\' bar', () => {
  // p1 comes closer from 30 px to 120 px within the first second: the largest face embedded counts.
  const closer: Shot[] = [];
  for (let t = 0; t <= 2000; t += 100) {
    const w = Math.min(120, Math.round(30 * 1.15 ** (t / 100)));
    closer.push({ t, box: { x: 400 - w / 2, y: 200 - w / 2, width: w, height: w }, ...(t % 1000 === 0 ? { embedding: identity(1, 0.3, t) } : {}) });
  }
  const r = play({}, [...shotFrames('cam', 0, 2000, closer), ...scene(120, 120, lookalike).filter((m) => m.frame.mediaTimeMs > 2000)]);
  assert.deepEqual(r.log, ['person.appeared p1 @200', 'person.left p1 @2000', 'person.appeared p1 returning @6000']);
  const small = play({}, [...shotFrames('cam', 0, 2000, stand(1, 0, 2000, 400, 30)), ...scene(120, 120, lookalike).filter((m) => m.frame.mediaTimeMs > 2000)]);
  assert.deepEqual(small.log.at(-1), 'person.appeared p2 @6000', 'seen only small: the stricter bar');
});

test('Gallery.leastFor: either side small, or no sizes known', () => {
  const g = new Gallery({ minSimilarity: 0.6, smallFacePx: 40, smallFaceMinSimilarity: 0.65, maxPersons: 5, maxAgeMs: 1000 });
  const d = [1, 0];
  assert.equal(g.leastFor({ descriptor: d, facePx: 39 }, { descriptor: d, facePx: 200 }), 0.65);
  assert.equal(g.leastFor({ descriptor: d, facePx: 200 }, { descriptor: d, facePx: 39 }), 0.65);
  assert.equal(g.leastFor({ descriptor: d, facePx: 40 }, { descriptor: d, facePx: 40 }), 0.6);
  assert.equal(g.leastFor({ descriptor: d }, { descriptor: d }), 0.6, 'sizes unknown: reidMinSimilarity');
  const lenient = new Gallery({ minSimilarity: 0.7, smallFacePx: 40, smallFaceMinSimilarity: 0.65, maxPersons: 5, maxAgeMs: 1000 });
  assert.equal(lenient.leastFor({ descriptor: d, facePx: 20 }, { descriptor: d }), 0.7, 'never below minSimilarity');
});
