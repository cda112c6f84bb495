// Identities across cuts and returns: scene cuts end every track, and a person who returns gets
// their personId (and timeline) back through the camera's gallery, recognised by appearance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EmotionEventSchema, unpackEmbedding } from '@emostream/contracts';
import { Aggregator } from './aggregator.js';
import { Gallery } from './gallery.js';
import { cosineSimilarity } from './tracker.js';
import { emotionsMessage, identity } from './testkit.js';

const ev = (events: ReturnType<Aggregator['push']>) => events.map((e) => `${e.type} ${e.personId}${e.returning ? ' returning' : ''}`);

/** Frames of one face at (cx, cy) from `from` to `to` ms at 10 fps, with person `who`'s appearance. */
function run(a: Aggregator, from: number, to: number, who: number, cx: number, opts: { cutAt?: number; noise?: number; seq?: { n: number } } = {}) {
  const out: string[] = [];
  const seq = opts.seq ?? { n: from / 100 };
  for (let t = from; t <= to; t += 100) {
    const face = who >= 0 ? [{ cx, cy: 300, emotion: 'happy' as const, embedding: identity(who, opts.noise ?? 0.3, t) }] : [];
    out.push(...ev(a.push(emotionsMessage('cam', seq.n++, t, face, { sceneCut: t === opts.cutAt }))));
  }
  return out;
}

test('synthetic identities: the same person is similar across frames, two persons are not', () => {
  const same = cosineSimilarity(unpackEmbedding(identity(1, 0.3, 1)), unpackEmbedding(identity(1, 0.3, 2)));
  const other = cosineSimilarity(unpackEmbedding(identity(1, 0.3, 1)), unpackEmbedding(identity(2, 0.3, 1)));
  assert.ok(same > 0.85, `same ${same}`);
  assert.ok(Math.abs(other) < 0.4, `other ${other}`);
});

test('a hard cut to another person on the same spot: the first leaves, the second is a new person', () => {
  const a = new Aggregator();
  const seq = { n: 0 };
  const events = [...run(a, 0, 1500, 1, 500, { seq }), ...run(a, 1600, 3000, 2, 500, { cutAt: 1600, seq })];
  assert.deepEqual(events, ['person.appeared p1', 'person.left p1', 'person.appeared p2']);
  assert.equal(a.stats.sceneCuts, 1);
});

test('without the cut flag and without embeddings, the same spot continues the track (what a cut fixes)', () => {
  const a = new Aggregator();
  const seq = { n: 0 };
  const plain = (from: number, to: number) => {
    const out: string[] = [];
    for (let t = from; t <= to; t += 100) out.push(...ev(a.push(emotionsMessage('cam', seq.n++, t, [{ cx: 500, cy: 300, emotion: 'happy' }]))));
    return out;
  };
  assert.deepEqual([...plain(0, 1500), ...plain(1600, 3000)], ['person.appeared p1']);
});

test('a person who leaves and returns elsewhere gets the same id, returning: true, one timeline', () => {
  const a = new Aggregator();
  const seq = { n: 0 };
  const events = [
    ...run(a, 0, 2000, 1, 300, { seq }),
    ...run(a, 2100, 6000, -1, 0, { seq }), // nobody: p1 leaves after personTtlMs
    ...run(a, 6100, 8000, 1, 1000, { seq }), // back, on the other side of the frame
    ...run(a, 8100, 11000, 2, 300, { seq }), // someone else where p1 first stood
  ];
  assert.deepEqual(events, ['person.appeared p1', 'person.left p1', 'person.appeared p1 returning', 'person.appeared p2', 'person.left p1']);
  assert.equal(a.stats.returning, 1);
  const tl = a.timelines().cameras.cam.persons;
  assert.deepEqual(Object.keys(tl), ['p1', 'p2']);
  assert.equal(tl.p1.firstSeenMs, 0, 'the returning person keeps their first appearance');
  assert.equal(tl.p1.lastSeenMs, 8000);
  assert.ok(tl.p1.segments[0].startMs === 0 && tl.p1.segments.at(-1)!.endMs >= 7900, JSON.stringify(tl.p1.segments));
  const appeared = a.end().length; // p2 leaves
  assert.equal(appeared, 1);
});

test('the returning flag is in the event contract; snapshots never hold an embedding', () => {
  const a = new Aggregator();
  const seq = { n: 0 };
  let returned: ReturnType<Aggregator['push']> = [];
  for (const [from, to, who] of [[0, 1500, 1], [1600, 5000, -1], [5100, 6000, 1]] as const) {
    for (let t = from; t <= to; t += 100) {
      const face = who >= 0 ? [{ cx: 400, cy: 300, emotion: 'sad' as const, embedding: identity(who, 0.3, t) }] : [];
      const e = a.push(emotionsMessage('cam', seq.n++, t, face));
      if (e.some((x) => x.returning)) returned = e;
    }
  }
  assert.equal(EmotionEventSchema.parse(returned[0]).returning, true);
  const json = JSON.stringify(a.snapshot());
  assert.ok(!json.includes('descriptor'), 'no descriptor in a snapshot');
  assert.ok(!json.includes('embedding'));
});

test('gallery: bounded in count and age; the best match above the threshold, excluding persons present', () => {
  const g = new Gallery({ minSimilarity: 0.7, maxPersons: 2, maxAgeMs: 1000 });
  const v = (n: number) => unpackEmbedding(identity(n, 0));
  g.add({ personId: 'p1', descriptor: v(1), leftAtMs: 0 });
  g.add({ personId: 'p2', descriptor: v(2), leftAtMs: 500 });
  g.add({ personId: 'p3', descriptor: v(3), leftAtMs: 600 });
  assert.equal(g.size, 2, 'the oldest (p1) is forgotten first');
  assert.equal(g.take({ descriptor: v(1) }, 700), undefined);
  assert.equal(g.take({ descriptor: v(2) }, 700, new Set(['p2'])), undefined, 'a person present now is not taken');
  assert.equal(g.take({ descriptor: v(2) }, 700)?.personId, 'p2');
  assert.equal(g.size, 1, 'taken out');
  assert.equal(g.take({ descriptor: v(3) }, 1601), undefined, 'too old: forgotten');
  assert.equal(g.size, 0);
});

test('weeks of passers-by: the persons who left are bounded per camera (finishedMaxPersons), the latest kept', () => {
  const a = new Aggregator({ config: { finishedMaxPersons: 20 } });
  let seq = 0;
  // 300 persons pass one after another, 1 s each, 3 s apart (each leaves before the next comes).
  for (let p = 0; p < 300; p++) {
    for (let t = 0; t < 1000; t += 100) a.push(emotionsMessage('cam', seq++, p * 3000 + t, [{ cx: 300 + (p % 5) * 100, cy: 300, emotion: 'happy' }]));
  }
  a.end();
  const persons = Object.keys(a.timelines().cameras.cam.persons);
  assert.equal(persons.length, 20);
  assert.deepEqual(persons.slice(0, 2), ['p281', 'p282']);
  assert.equal(persons.at(-1), 'p300');
  const bytes = JSON.stringify(a.snapshot()).length;
  assert.ok(bytes < 20_000, `snapshot ${bytes} bytes`);
  const unbounded = new Aggregator({ config: { finishedMaxPersons: 0 } });
  seq = 0;
  for (let p = 0; p < 50; p++) for (let t = 0; t < 1000; t += 100) unbounded.push(emotionsMessage('cam', seq++, p * 3000 + t, [{ cx: 300, cy: 300, emotion: 'sad' }]));
  unbounded.end();
  assert.equal(Object.keys(unbounded.timelines().cameras.cam.persons).length, 50, '0 keeps everyone (analyze)');
});
