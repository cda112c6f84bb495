import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TimelinesSchema, type EmotionState } from '@emostream/contracts';
import { LiveTimelines, START_ID } from './live.js';
import { T0, ev } from './testkit.js';

const seg = (emotion: EmotionState, startMs: number, endMs: number, meanConfidence: number) => ({ emotion, startMs, endMs, meanConfidence });

test('segments from a hand-made event sequence, exactly', () => {
  const live = new LiveTimelines({}, () => T0 + 10_000);
  live.push(ev('person.appeared', 'p1', 1000, 'neutral', 0.6));
  live.push(ev('person.appeared', 'p2', 1500, 'happy', 0.8));
  live.push(ev('emotion.changed', 'p1', 3000, 'happy', 0.7));
  live.push(ev('emotion.changed', 'p1', 5000, 'sad', 0.55));
  // person.left is dated when p2 was last seen, before the frame (5000) that ended the track.
  live.push(ev('person.left', 'p2', 4000, 'happy', 0.75));
  let [p1, p2] = live.persons('cam0');
  assert.deepEqual(p1, {
    cameraId: 'cam0', personId: 'p1', firstSeenMs: 1000, lastSeenMs: 5000, present: true, emotion: 'sad', confidence: 0.55,
    segments: [seg('neutral', 1000, 3000, 0.6), seg('happy', 3000, 5000, 0.7), seg('sad', 5000, 5000, 0.55)],
  });
  assert.deepEqual(p2, {
    cameraId: 'cam0', personId: 'p2', firstSeenMs: 1500, lastSeenMs: 4000, present: false, emotion: 'happy', confidence: 0.75,
    segments: [seg('happy', 1500, 4000, 0.8)],
  });
  // Another person's event moves the camera's clock: p1's open segment reaches it.
  live.push(ev('person.appeared', 'p3', 6000, 'surprise', 0.5));
  [p1] = live.persons('cam0');
  assert.equal(p1.lastSeenMs, 6000);
  assert.deepEqual(p1.segments.at(-1), seg('sad', 5000, 6000, 0.55));
  // p1 leaves and returns (same id, returning): the timeline goes on after the gap.
  live.push(ev('person.left', 'p1', 6500, 'sad', 0.5));
  live.push(ev('person.appeared', 'p1', 9000, 'happy', 0.9, { returning: true }));
  live.push(ev('person.left', 'p1', 9500, 'happy', 0.85));
  [p1] = live.persons('cam0');
  assert.deepEqual(p1.segments, [seg('neutral', 1000, 3000, 0.6), seg('happy', 3000, 5000, 0.7), seg('sad', 5000, 6500, 0.55), seg('happy', 9000, 9500, 0.9)]);
  assert.equal(p1.firstSeenMs, 1000);
  assert.equal(p1.present, false);

  assert.deepEqual(live.cameras(), [{ cameraId: 'cam0', present: ['p3'], persons: 3, events: 9, mediaTimeMs: 9500, lastEventAt: new Date(T0 + 9500).toISOString() }]);
  assert.deepEqual(live.persons('cam0', 7000).map((p) => p.personId), ['p1', 'p3'], 'since: persons last seen at or after it');
  assert.deepEqual(live.persons('nope'), []);
  const tl = TimelinesSchema.parse(live.timelines());
  assert.equal(tl.modelVersion, 'test-1');
  assert.deepEqual(Object.keys(tl.cameras.cam0.persons), ['p1', 'p2', 'p3']);
  assert.deepEqual(tl.cameras.cam0.persons.p2, { firstSeenMs: 1500, lastSeenMs: 4000, segments: [seg('happy', 1500, 4000, 0.8)] });
});

test('duplicates (same eventId) change nothing and are not streamed twice', () => {
  const live = new LiveTimelines({}, () => T0);
  const seen: string[] = [];
  live.subscribe((s) => seen.push(s.id));
  const a = ev('person.appeared', 'p1', 1000, 'neutral', 0.6);
  const b = ev('emotion.changed', 'p1', 2000, 'happy', 0.7);
  assert.equal(live.push(a), true);
  assert.equal(live.push(b), true);
  const before = live.persons();
  assert.equal(live.push({ ...a }), false);
  assert.equal(live.push({ ...b }), false);
  assert.deepEqual(live.persons(), before);
  assert.deepEqual(seen, [a.eventId, b.eventId]);
  assert.deepEqual(live.stats, { events: 2, duplicates: 2, ignored: 0 });
  assert.equal(live.cameras()[0].events, 2);
  // An event without an id (written before ids existed) is taken, with a stream id of its own.
  const { eventId: _id, ...bare } = ev('person.left', 'p1', 2500, 'happy', 0.7);
  assert.equal(live.push(bare), true);
  assert.match(live.lastEventId!, /^n\d+$/);
});

test('the resume buffer: events after an id, from the start, and a dropped id', () => {
  const live = new LiveTimelines({ eventBuffer: 3 }, () => T0);
  assert.deepEqual(live.eventsAfter(START_ID), []);
  const es = [1, 2, 3].map((i) => ev('person.appeared', `p${i}`, i * 1000, 'neutral', 0.5));
  for (const e of es) live.push(e);
  assert.deepEqual(live.eventsAfter(START_ID)!.map((s) => s.id), es.map((e) => e.eventId));
  assert.deepEqual(live.eventsAfter(es[0].eventId!)!.map((s) => s.event), es.slice(1));
  assert.deepEqual(live.eventsAfter(es[2].eventId!), []);
  live.push(ev('person.appeared', 'p4', 4000, 'neutral', 0.5));
  assert.equal(live.eventsAfter(es[0].eventId!), undefined, 'the oldest fell out of the buffer');
  assert.equal(live.eventsAfter(START_ID), undefined, 'the start is no longer buffered');
  assert.equal(live.eventsAfter('f'.repeat(32)), undefined);
  assert.equal(live.lastEventId, live.eventsAfter(es[1].eventId!)!.at(-1)!.id);
});

test('bounds: persons per camera, age after leaving, old segments of present persons, empty old cameras', () => {
  let now = T0 + 10_000;
  const live = new LiveTimelines({ maxPersonsPerCamera: 3, maxAgeMs: 60_000 }, () => now);
  live.push(ev('person.appeared', 'p1', 1000, 'neutral', 0.6));
  live.push(ev('person.appeared', 'p2', 1100, 'neutral', 0.6));
  live.push(ev('person.left', 'p2', 2000, 'neutral', 0.6));
  live.push(ev('person.appeared', 'p3', 2100, 'neutral', 0.6));
  live.push(ev('person.left', 'p3', 2500, 'neutral', 0.6));
  live.push(ev('person.appeared', 'p4', 3000, 'neutral', 0.6));
  // Four persons, three kept: p2 left longest ago; the present p1 stays.
  assert.deepEqual(live.persons('cam0').map((p) => p.personId), ['p1', 'p3', 'p4']);
  live.push(ev('person.appeared', 'p5', 3100, 'neutral', 0.6));
  assert.deepEqual(live.persons('cam0').map((p) => p.personId), ['p1', 'p4', 'p5']);
  // All present: the one silent the longest goes.
  live.push(ev('person.appeared', 'p6', 3200, 'neutral', 0.6));
  assert.deepEqual(live.persons('cam0').map((p) => p.personId), ['p4', 'p5', 'p6']);

  // Age: a person who left is forgotten maxAgeMs after leaving (by the event's `at`).
  live.push(ev('person.left', 'p4', 3300, 'neutral', 0.6));
  now = T0 + 3300 + 60_000;
  assert.deepEqual(live.persons('cam0').map((p) => p.personId), ['p4', 'p5', 'p6']);
  now += 1;
  assert.deepEqual(live.persons('cam0').map((p) => p.personId), ['p5', 'p6'], 'p4 aged out; present persons stay');

  // A present person's segments that ended maxAgeMs before the camera's time are dropped.
  let t = 3200;
  for (const emotion of ['happy', 'sad', 'happy', 'sad'] as const) live.push(ev('emotion.changed', 'p6', (t += 31_000), emotion, 0.7, { at: now }));
  const p6 = live.persons('cam0').find((p) => p.personId === 'p6')!;
  assert.deepEqual(p6.segments.map((s) => [s.emotion, s.startMs, s.endMs]), [['sad', 65_200, 96_200], ['happy', 96_200, 127_200], ['sad', 127_200, 127_200]]);
  assert.equal(p6.firstSeenMs, 3200, 'firstSeenMs stays');

  // A camera whose persons all left and aged out is forgotten too.
  live.push(ev('person.appeared', 'p1', 500, 'neutral', 0.6, { camera: 'cam1', at: now }));
  live.push(ev('person.left', 'p1', 800, 'neutral', 0.6, { camera: 'cam1', at: now }));
  assert.equal(live.hasCamera('cam1'), true);
  now += 60_001;
  assert.equal(live.hasCamera('cam1'), false);
  assert.deepEqual(live.cameras().map((c) => c.cameraId), ['cam0']);
});

test('events about unknown persons and a camera that starts a new run', () => {
  const live = new LiveTimelines({}, () => T0);
  live.push(ev('person.left', 'p9', 500, 'neutral', 0.5));
  assert.deepEqual(live.persons(), [], 'person.left of a person never seen: nothing to close');
  assert.equal(live.stats.ignored, 1);
  // The topic's retention cut off person.appeared: the person starts at the first event kept.
  live.push(ev('emotion.changed', 'p1', 2000, 'happy', 0.7));
  assert.deepEqual(live.persons()[0].segments, [seg('happy', 2000, 2000, 0.7)]);
  live.push(ev('person.left', 'p1', 3000, 'happy', 0.7));
  // Media time went back (a new ingest run) and the id is used again: a fresh timeline.
  live.push(ev('person.appeared', 'p1', 400, 'fear', 0.6, { at: T0 + 9000 }));
  const [p1] = live.persons();
  assert.deepEqual([p1.firstSeenMs, p1.lastSeenMs, p1.segments], [400, 400, [seg('fear', 400, 400, 0.6)]]);
  assert.equal(live.cameras()[0].mediaTimeMs, 400);
});

test('watched cameras (an analyze run\'s) are listed before their first event and never forgotten', () => {
  let now = T0;
  const live = new LiveTimelines({ maxAgeMs: 60_000 }, () => now);
  live.watch(['door', 'yard']);
  assert.deepEqual(live.cameras(), [
    { cameraId: 'door', present: [], persons: 0, events: 0, mediaTimeMs: 0, lastEventAt: null },
    { cameraId: 'yard', present: [], persons: 0, events: 0, mediaTimeMs: 0, lastEventAt: null },
  ]);
  assert.equal(live.hasCamera('door'), true);
  assert.deepEqual(live.persons('door'), []);
  live.push(ev('person.appeared', 'p1', 2000, 'happy', 0.8, { camera: 'yard' }));
  live.push(ev('person.left', 'p1', 3000, 'happy', 0.8, { camera: 'yard' }));
  // A camera nobody watches is forgotten once empty and old; watched ones stay.
  live.push(ev('person.appeared', 'p1', 1000, 'sad', 0.7, { camera: 'lobby' }));
  live.push(ev('person.left', 'p1', 1500, 'sad', 0.7, { camera: 'lobby' }));
  now = T0 + 10 * 60_000;
  assert.deepEqual(live.cameras().map((c) => [c.cameraId, c.events, c.persons]), [['door', 0, 0], ['yard', 2, 0]]);
});

test('an uncertain stretch names the likeliest emotion of the event that began it', () => {
  const live = new LiveTimelines({}, () => T0 + 10_000);
  live.push(ev('person.appeared', 'p1', 1000, 'happy', 0.7));
  const unclear = ev('emotion.changed', 'p1', 2000, 'uncertain', 0.27);
  unclear.probabilities = { angry: 0.1, disgust: 0.05, fear: 0.27, happy: 0.15, neutral: 0.2, sad: 0.13, surprise: 0.1 };
  live.push(unclear);
  live.push(ev('emotion.changed', 'p1', 3000, 'happy', 0.6));
  const [p1] = live.persons('cam0');
  assert.deepEqual(p1.segments.map((s) => [s.emotion, s.likeliest]), [['happy', undefined], ['uncertain', 'fear'], ['happy', undefined]]);
  TimelinesSchema.parse(live.timelines());
});
