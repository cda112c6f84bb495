import { test } from 'node:test';
import assert from 'node:assert/strict';
import { packEmbedding, unpackEmbedding } from '@emostream/contracts';
import { Aggregator } from './aggregator.js';
import { Gallery } from './gallery.js';
import { cosineSimilarity } from './tracker.js';
import { emotionsMessage, identity, partly } from './testkit.js';

const vec = (n: number, seed = 1) => unpackEmbedding(identity(n, 0.3, seed));
/** Person `who`'s embedding that also resembles person `other` (`weight` of who's). */
const mix = (who: number, other: number, weight: number, seed = 1) => unpackEmbedding(partly(who, other, weight, seed));

test('takeMany: the most alike pair is matched first, so a face that resembles two who left does not take the other\'s id', () => {
  const g = new Gallery({ minSimilarity: 0.6, maxPersons: 10, maxAgeMs: 60_000 });
  g.add({ personId: 'p1', descriptor: vec(1), leftAtMs: 0 });
  g.add({ personId: 'p2', descriptor: vec(2), leftAtMs: 0 });
  const b = mix(2, 1, 0.4, 7); // person 2 seen poorly: more like p1 than like p2
  assert.ok(cosineSimilarity(b, vec(1)) >= 0.6 && cosineSimilarity(b, vec(1)) < 0.9, 'b passes for p1');
  const a = vec(1, 5); // person 1, clearly
  // In either order, a is p1; b gets p2 if alike enough, else nobody, never p1.
  for (const order of [[b, a], [a, b]]) {
    const h = new Gallery({ minSimilarity: 0.6, maxPersons: 10, maxAgeMs: 60_000 });
    h.add({ personId: 'p1', descriptor: vec(1), leftAtMs: 0 });
    h.add({ personId: 'p2', descriptor: vec(2), leftAtMs: 0 });
    const got = h.takeMany(order.map((descriptor) => ({ descriptor })), 100);
    const ofA = got[order.indexOf(a)];
    const ofB = got[order.indexOf(b)];
    assert.equal(ofA?.personId, 'p1');
    assert.notEqual(ofB?.personId, 'p1');
    assert.equal(h.size, 2 - got.filter(Boolean).length, 'matched persons leave the gallery');
  }
  // take() alone would have given b p1: the single-face answer is unchanged.
  assert.equal(g.take({ descriptor: b }, 100)?.personId, 'p1');
});

test('takeMany: faces without a descriptor, persons present and those under minSimilarity are not matched', () => {
  const g = new Gallery({ minSimilarity: 0.6, maxPersons: 10, maxAgeMs: 60_000 });
  g.add({ personId: 'p1', descriptor: vec(1), leftAtMs: 0 });
  g.add({ personId: 'p2', descriptor: vec(2), leftAtMs: 0 });
  assert.deepEqual(g.takeMany([undefined, { descriptor: vec(3) }], 100), [undefined, undefined]);
  assert.deepEqual(g.takeMany([{ descriptor: vec(1, 2) }], 100, new Set(['p1'])), [undefined]);
  assert.equal(g.takeMany([{ descriptor: vec(1, 2) }], 100)[0]?.personId, 'p1');
});

test('a cut back to three people: each gets their own id back, whatever order the detector lists them in', () => {
  // Shot 1 (0-2 s): persons 1-3; shot 2 (2-4 s): someone else; shot 3 (4-6 s): 1-3 again, person
  // 2's first embedding also like person 1's. Listed first, person 2 must not take p1.
  const spots = [200, 600, 1000];
  const msgs = [];
  for (let t = 0; t <= 6000; t += 100) {
    const shot = t < 2000 ? 1 : t < 4000 ? 2 : 3;
    const embedNow = t % 1000 === 0;
    const who = shot === 2 ? [9] : [2, 1, 3];
    const faces = who.map((n, i) => ({
      cx: shot === 2 ? 640 : spots[n - 1], cy: 300, w: 100, emotion: 'happy' as const,
      ...(embedNow ? { embedding: packEmbedding(shot === 3 && n === 2 && t === 4000 ? mix(2, 1, 0.4, t) : vec(n, t)) } : {}),
    }));
    msgs.push(emotionsMessage('cam', t / 100, t, faces, { sceneCut: t === 2000 || t === 4000 }));
  }
  // Listed 2, 1, 3 in shot 1: person 2 is p1, person 1 is p2, person 3 is p3.
  const ids = new Map<string, string>();
  const a = new Aggregator({ config: { reidSecondLookSimilarity: 1 }, onPersonFace: (f, j, personId) => ids.set(`${f.mediaTimeMs}:${j}`, personId) });
  for (const m of msgs) a.push(m);
  // At 4.5 s, faces in the order 2, 1, 3: person 1 has p2 back, person 3 p3; person 2, seen
  // poorly, p1 back or a new id, never p2.
  assert.equal(ids.get('4500:1'), 'p2');
  assert.equal(ids.get('4500:2'), 'p3');
  assert.ok(['p1', 'p5'].includes(ids.get('4500:0')!), ids.get('4500:0'));
});
