// Linking across cameras (reidAcrossCameras, off by default): a person who left one camera and
// appears on another keeps that camera's own personId, and their events and timeline say who they
// were first seen as (sameAs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EmotionEventSchema, TimelinesSchema, unpackEmbedding, type EmotionEvent } from '@emostream/contracts';
import { Aggregator } from './aggregator.js';
import { aggregatorConfigFromEnv, type AggregatorConfigInput } from './config.js';
import { CrossCameraGallery } from './gallery.js';
import { cosineSimilarity } from './tracker.js';
import { emotionsMessage, identity, partly } from './testkit.js';

const ev = (events: EmotionEvent[]) => events.map((e) => `${e.cameraId} ${e.type} ${e.personId}${e.returning ? ' returning' : ''}${e.sameAs ? ` sameAs ${e.sameAs.cameraId}/${e.sameAs.personId}` : ''}`);

/** Frames of `cam` from `from` to `to` ms (media and capture time) at 10 fps, person `who` (or nobody: -1) at x = cx. */
function run(a: Aggregator, cam: string, from: number, to: number, who: number, cx = 400): EmotionEvent[] {
  const out: EmotionEvent[] = [];
  for (let t = from; t <= to; t += 100) {
    const face = who >= 0 ? [{ cx, cy: 300, emotion: 'happy' as const, embedding: identity(who, 0.3, t) }] : [];
    out.push(...a.push(emotionsMessage(cam, t / 100, t, face)));
  }
  return out;
}

/** Person 1 on cam1 until 2 s, then gone; on cam2 person 9 (someone else) first, then person `later` from 5 s. */
function scene(config: AggregatorConfigInput, later = 1, laterFrom = 5000): { a: Aggregator; events: string[] } {
  const a = new Aggregator({ config: { cameraIdleMs: 0, ...config } });
  const events = [
    ...run(a, 'cam2', 0, 1000, 9, 900), ...run(a, 'cam2', 1100, 4000, -1),
    ...run(a, 'cam1', 0, 2000, 1), ...run(a, 'cam1', 2100, 4500, -1), // p1 leaves cam1 (personTtlMs)
    ...run(a, 'cam2', laterFrom, laterFrom + 2000, later),
  ];
  return { a, events: ev(events) };
}

test('off by default: a person who left cam1 and appears on cam2 is a new person of cam2, no link', () => {
  const { a, events } = scene({});
  assert.deepEqual(events.filter((e) => e.includes('appeared')), ['cam2 person.appeared p1', 'cam1 person.appeared p1', 'cam2 person.appeared p2']);
  assert.equal(a.stats.linked, 0);
  assert.equal(a.timelines().cameras.cam2.persons.p2.sameAs, undefined);
});

test('on: linked by appearance; cam2 keeps its own numbering; the events and the timeline carry sameAs', () => {
  const { a, events } = scene({ reidAcrossCameras: true });
  assert.deepEqual(events.filter((e) => e.includes('appeared')), ['cam2 person.appeared p1', 'cam1 person.appeared p1', 'cam2 person.appeared p2 sameAs cam1/p1']);
  assert.equal(a.stats.linked, 1);
  const left = a.end();
  assert.deepEqual(ev(left), ['cam2 person.left p2 sameAs cam1/p1'], 'every event of the linked person carries the link');
  for (const e of left) EmotionEventSchema.parse(e);
  const tl = TimelinesSchema.parse(a.timelines());
  assert.deepEqual(tl.cameras.cam2.persons.p2.sameAs, { cameraId: 'cam1', personId: 'p1' });
  assert.equal(tl.cameras.cam2.persons.p1.sameAs, undefined);
  assert.equal(tl.cameras.cam1.persons.p1.sameAs, undefined);
  // The snapshot keeps the link of an open person (small), never an embedding.
  const b = new Aggregator({ config: { reidAcrossCameras: true, cameraIdleMs: 0 } });
  run(b, 'cam1', 0, 2000, 1); run(b, 'cam1', 2100, 4500, -1); run(b, 'cam2', 5000, 7000, 1);
  const json = JSON.stringify(b.snapshot());
  assert.ok(!json.includes('descriptor') && !json.includes('embedding'), 'no appearance in a snapshot');
  const c = new Aggregator({ config: { reidAcrossCameras: true, cameraIdleMs: 0 } });
  c.restore(JSON.parse(json));
  assert.deepEqual(ev(c.end('cam2')), ['cam2 person.left p1 sameAs cam1/p1'], 'the link survives a restart');
});

test('on: two different people are never linked when their embeddings are dissimilar', () => {
  for (const other of [2, 3, 4, 5, 6]) {
    const { a, events } = scene({ reidAcrossCameras: true, reidAcrossCamerasMinSimilarity: 0.5 }, other);
    assert.ok(!events.some((e) => e.includes('sameAs')), `person ${other}: ${events.join(', ')}`);
    assert.equal(a.stats.linked, 0);
  }
});

test('on: too long after leaving (galleryMaxAgeMs, capture time), no link', () => {
  const { events } = scene({ reidAcrossCameras: true, galleryMaxAgeMs: 2000 }, 1, 8000);
  assert.ok(!events.some((e) => e.includes('sameAs')), events.join(', '));
  const { events: inTime } = scene({ reidAcrossCameras: true, galleryMaxAgeMs: 7000 }, 1, 8000);
  assert.ok(inTime.includes('cam2 person.appeared p2 sameAs cam1/p1'), inTime.join(', '));
});

test('on: a chain of cameras names where the person was first seen; a return to the same camera is a return, not a link', () => {
  const a = new Aggregator({ config: { reidAcrossCameras: true, cameraIdleMs: 0 } });
  const events = ev([
    ...run(a, 'cam1', 0, 2000, 1), ...run(a, 'cam1', 2100, 4500, -1),
    ...run(a, 'cam2', 5000, 7000, 1), ...run(a, 'cam2', 7100, 9500, -1),
    ...run(a, 'cam3', 10000, 12000, 1), ...run(a, 'cam3', 12100, 14500, -1),
    ...run(a, 'cam3', 15000, 17000, 1),
  ]);
  assert.deepEqual(events.filter((e) => e.includes('appeared')), [
    'cam1 person.appeared p1', 'cam2 person.appeared p1 sameAs cam1/p1', 'cam3 person.appeared p1 sameAs cam1/p1',
    'cam3 person.appeared p1 returning sameAs cam1/p1',
  ]);
  assert.equal(a.stats.linked, 2);
  assert.equal(a.stats.returning, 1);
});

test('cross-camera gallery: one entry per identity, bounded in count and age, never the same camera, taken once', () => {
  const g = new CrossCameraGallery({ minSimilarity: 0.7, maxPersons: 2, maxAgeMs: 1000 });
  const v = (n: number) => unpackEmbedding(identity(n, 0));
  const id = (cameraId: string, personId: string) => ({ cameraId, personId });
  g.add({ cameraId: 'cam1', personId: 'p1', identity: id('cam1', 'p1'), descriptor: v(1), leftAtMs: 0 });
  g.add({ cameraId: 'cam2', personId: 'p4', identity: id('cam1', 'p1'), descriptor: v(1), leftAtMs: 100 });
  assert.equal(g.size, 1, 'the same identity leaving another camera replaces its entry');
  g.add({ cameraId: 'cam1', personId: 'p2', identity: id('cam1', 'p2'), descriptor: v(2), leftAtMs: 500 });
  g.add({ cameraId: 'cam1', personId: 'p3', identity: id('cam1', 'p3'), descriptor: v(3), leftAtMs: 600 });
  assert.equal(g.size, 2, 'the oldest is forgotten first');
  assert.equal(g.take('cam3', { descriptor: v(1) }, 700), undefined);
  assert.equal(g.take('cam1', { descriptor: v(2) }, 700), undefined, 'the same camera is the per-camera gallery\'s business');
  assert.equal(g.take('cam3', { descriptor: v(4) }, 700), undefined, 'nobody resembles person 4');
  assert.deepEqual(g.take('cam3', { descriptor: v(2) }, 700)?.identity, id('cam1', 'p2'));
  assert.equal(g.take('cam4', { descriptor: v(2) }, 700), undefined, 'taken: one identity links one new person');
  g.forget(id('cam1', 'p3'));
  assert.equal(g.size, 0);
  g.add({ cameraId: 'cam1', personId: 'p5', identity: id('cam1', 'p5'), descriptor: v(5), leftAtMs: 2000 });
  assert.equal(g.take('cam2', { descriptor: v(5) }, 3001), undefined, 'too old: forgotten');
  assert.equal(g.size, 0);
});

test('on: the gallery across cameras holds at most reidAcrossCamerasMaxPersons', () => {
  const a = new Aggregator({ config: { reidAcrossCameras: true, reidAcrossCamerasMaxPersons: 3, cameraIdleMs: 0 } });
  for (let n = 0; n < 6; n++) { run(a, `cam${n}`, 0, 1000, 10 + n); a.end(`cam${n}`); }
  // Person 10 (the first to leave) was forgotten: a new face like theirs on another camera is not linked.
  const late = ev(run(a, 'camX', 2000, 3000, 10));
  assert.deepEqual(late, ['camX person.appeared p1']);
  const recent = ev(run(a, 'camY', 2000, 3000, 15));
  assert.deepEqual(recent, ['camY person.appeared p1 sameAs cam5/p1']);
});

test('the setting from the environment', () => {
  assert.equal(aggregatorConfigFromEnv({}).reidAcrossCameras, false);
  assert.equal(aggregatorConfigFromEnv({ AGGREGATOR_REID_ACROSS_CAMERAS: 'true' }).reidAcrossCameras, true);
  assert.equal(aggregatorConfigFromEnv({ AGGREGATOR_REID_ACROSS_CAMERAS_MIN_SIMILARITY: '0.8' }).reidAcrossCamerasMinSimilarity, 0.8);
});

test('cross-camera gallery: a likeness seen only small is held to the small faces\' bar when that is stricter', () => {
  const o = { minSimilarity: 0.6, smallFacePx: 40, smallFaceMinSimilarity: 0.65, maxPersons: 5, maxAgeMs: 1000 };
  // Person 1's likeness and a look-alike 0.6-0.65 alike to it (0.42 of person 1's, the rest person 9's).
  const p1 = unpackEmbedding(identity(1, 0.3, 100));
  const lookalike = unpackEmbedding(partly(1, 9, 0.42, 5000));
  const s = cosineSimilarity(p1, lookalike);
  assert.ok(s >= 0.6 && s < 0.65, `look-alike ${s}`);
  const id = { cameraId: 'cam1', personId: 'p1' };
  const gallery = (facePx: number) => {
    const g = new CrossCameraGallery(o);
    g.add({ cameraId: 'cam1', personId: 'p1', identity: id, descriptor: p1, facePx, leftAtMs: 0 });
    return g;
  };
  assert.equal(gallery(30).take('cam2', { descriptor: lookalike, facePx: 120 }, 100), undefined, 'the one who left was seen small');
  assert.equal(gallery(120).take('cam2', { descriptor: lookalike, facePx: 30 }, 100), undefined, 'the newcomer is seen small');
  assert.deepEqual(gallery(120).take('cam2', { descriptor: lookalike, facePx: 120 }, 100)?.identity, id, 'two large faces: minSimilarity');
});
