import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EmotionEventSchema, TimelinesSchema, type EmotionEvent, type EmotionsMessage } from '@emostream/contracts';
import { createMetrics } from '@emostream/runtime';
import { Aggregator, type AggregatorSnapshot } from './aggregator.js';
import { emotionsMessage, syntheticScene } from './testkit.js';

/** A: 0..4400 ms, neutral then happy from 1500, walking right. B: 500..2000 ms, sad. One blip at 1000. */
const scene = () => syntheticScene({
  durationMs: 4400,
  persons: [
    { enterMs: 0, leaveMs: 4400, at: (t) => ({ cx: 200 + t * 0.1, cy: 300 }), emotion: (t) => (t < 1500 ? 'neutral' : 'happy') },
    { enterMs: 500, leaveMs: 2000, at: () => ({ cx: 900, cy: 320, w: 70 }), emotion: () => 'sad' },
  ],
  blips: [{ atMs: 1000, cx: 600, cy: 100 }],
});

const brief = (e: EmotionEvent) => `${e.type} ${e.personId} ${e.emotion} @${e.mediaTimeMs}`;

function runAll(msgs: EmotionsMessage[], agg = new Aggregator()): EmotionEvent[] {
  return [...msgs.flatMap((m) => agg.push(m)), ...agg.end()];
}

test('a synthetic run gives appeared, one change, and left events, all valid', () => {
  const agg = new Aggregator();
  const events = runAll(scene(), agg);
  for (const e of events) EmotionEventSchema.parse(e);
  assert.deepEqual(events.map(brief), [
    'person.appeared p1 neutral @80', // third frame (confirmHits 3 at 25 fps)
    'person.appeared p2 sad @600', // B's frames start at 520
    // Happy from 1500 (probability 0.9, the rest 0.0167 each): each 40 ms frame adds
    // 0.04 x log(0.9 / 0.0167) = 0.16 nats x s of evidence, past changePointCost (2) at the 13th.
    'emotion.changed p1 happy @2000',
    'person.left p2 sad @2000', // dated when last seen; emitted once personTtlMs passed
    'person.left p1 happy @4400', // end of stream
  ]);
  const left = events[3];
  assert.equal(left.at, new Date(1_700_000_000_000 + 2000).toISOString());
  assert.equal(events[0].at, new Date(1_700_000_000_000 + 80).toISOString());
  assert.equal(events[2].type, 'emotion.changed');
  assert.ok(events[2].confidence >= 0.5 && events[2].probabilities.happy === events[2].confidence);
  assert.deepEqual(agg.stats, { frames: 111, duplicates: 0, faces: 111 + 38 + 1, discontinuities: 0, sceneCuts: 0, returning: 0, linked: 0 });
});

test('the person.left of B is emitted on the first frame more than personTtlMs after B was last seen', () => {
  const agg = new Aggregator();
  for (const m of scene()) {
    const left = agg.push(m).filter((e) => e.type === 'person.left');
    if (left.length) { assert.equal(m.frame.mediaTimeMs, 4040); return; }
  }
  assert.fail('no person.left before the end');
});

test('timelines match the schema, merge nothing wrongly and leave the blip out', () => {
  const agg = new Aggregator();
  runAll(scene(), agg);
  const tl = TimelinesSchema.parse(agg.timelines());
  assert.equal(tl.modelVersion, 'test-1');
  const persons = tl.cameras.cam1.persons;
  assert.deepEqual(Object.keys(persons), ['p1', 'p2']);
  assert.deepEqual(persons.p1.segments.map((s) => s.emotion), ['neutral', 'happy']);
  assert.equal(persons.p1.firstSeenMs, 0);
  assert.equal(persons.p1.lastSeenMs, 4400);
  assert.equal(persons.p1.segments[0].startMs, 0);
  assert.equal(persons.p1.segments[1].endMs, 4400);
  assert.equal(persons.p1.segments[0].endMs, persons.p1.segments[1].startMs);
  assert.deepEqual(persons.p2.segments.map((s) => [s.emotion, s.startMs, s.endMs]), [['sad', 520, 2000]]);
});

test('redelivered frames (each twice, and a replayed range) never double an event', () => {
  const msgs = scene();
  const once = runAll(msgs);
  const metrics = createMetrics();
  const agg = new Aggregator({ metrics });
  const twice = [...msgs.slice(0, 60).flatMap((m) => [m, m]), ...msgs.slice(40, 111)];
  const events = runAll(twice, agg);
  assert.deepEqual(events, once);
  assert.equal(agg.stats.duplicates, 60 + 20);
  assert.equal(agg.stats.frames, 111);
});

test('a new ingest run (seq restarts at 0, later capture time) is not taken for a duplicate', () => {
  const agg = new Aggregator();
  const first = syntheticScene({ durationMs: 400, persons: [{ enterMs: 0, leaveMs: 400, at: () => ({ cx: 100, cy: 100 }), emotion: () => 'happy' }] });
  first.forEach((m) => agg.push(m));
  const second = first.map((m) => ({ ...m, frame: { ...m.frame, capturedAtMs: m.frame.capturedAtMs + 60_000 } }));
  const events = second.flatMap((m) => agg.push(m));
  // Media time went back to 0: p1 is closed, the same face becomes p2 (ids are not reused).
  assert.deepEqual(events.map((e) => `${e.type} ${e.personId}`), ['person.left p1', 'person.appeared p2']);
  assert.equal(agg.stats.discontinuities, 1);
  assert.equal(agg.stats.duplicates, 0);
});

test('snapshot and restore mid-stream, then a replay from before the snapshot: no event lost or doubled', () => {
  const msgs = scene();
  const once = runAll(msgs);
  const a = new Aggregator();
  const before = msgs.slice(0, 70).flatMap((m) => a.push(m));
  const snap = JSON.parse(JSON.stringify(a.snapshot())) as AggregatorSnapshot;
  const b = new Aggregator();
  b.restore(snap);
  // The broker redelivers from the last committed offset, before the snapshot.
  const after = [...msgs.slice(50).flatMap((m) => b.push(m)), ...b.end()];
  assert.deepEqual([...before, ...after], once);
  // The snapshot holds what events need, not the timelines' history: p1 (neutral, then happy
  // from 2320) goes on from its current segment; p2, open with one segment, is whole.
  assert.deepEqual(snap.cameras.cam1.persons['1'].timeline.closed, [], 'closed segments are not in a snapshot');
  const full = (() => { const c = new Aggregator(); runAll(msgs, c); return c.timelines(); })().cameras.cam1.persons;
  const got = b.timelines().cameras.cam1.persons;
  assert.deepEqual(Object.keys(got), ['p1', 'p2']);
  assert.deepEqual(full.p1.segments.map((x) => x.emotion), ['neutral', 'happy']);
  assert.deepEqual(got.p1, { ...full.p1, segments: full.p1.segments.slice(1) });
  assert.deepEqual(got.p2, full.p2);
  assert.throws(() => b.restore({ snapshotVersion: 2 } as unknown as AggregatorSnapshot), /snapshot version/);
});

test('cameras are independent; an idle camera is closed by capture time', () => {
  const agg = new Aggregator({ config: { cameraIdleMs: 10_000 } });
  const face = { cx: 100, cy: 100, emotion: 'neutral' as const };
  const events: EmotionEvent[] = [];
  for (let i = 0; i < 5; i++) {
    events.push(...agg.push(emotionsMessage('a', i, i * 40, [face])));
    events.push(...agg.push(emotionsMessage('b', i, i * 40, [face])));
  }
  assert.deepEqual(events.map((e) => `${e.type} ${e.cameraId}/${e.personId}`), ['person.appeared a/p1', 'person.appeared b/p1']);
  // Camera b carries on 20 s later (capture time); a has sent nothing since.
  const later = agg.push(emotionsMessage('b', 5, 200, [face], { capturedAtMs: 1_700_000_020_000 }));
  assert.deepEqual(later.map((e) => `${e.type} ${e.cameraId}/${e.personId}`), ['person.left a/p1']);
  assert.deepEqual(agg.end('b').map((e) => `${e.type} ${e.cameraId}/${e.personId}`), ['person.left b/p1']);
  assert.deepEqual(agg.end(), []);
});

test('metrics: events by type, persons active, frame-to-event latency, duplicates', async () => {
  const metrics = createMetrics();
  const agg = new Aggregator({ metrics, now: () => 1_700_000_000_000 + 10_000 });
  const msgs = scene();
  runAll([...msgs, msgs[5]], agg);
  const events = await metrics.eventsEmitted.get();
  const count = (type: string) => events.values.find((v) => v.labels.type === type)?.value;
  assert.equal(count('person.appeared'), 2);
  assert.equal(count('emotion.changed'), 1);
  assert.equal(count('person.left'), 2);
  const latency = await metrics.latencySeconds.get();
  const n = latency.values.find((v) => v.metricName?.endsWith('_count'))?.value;
  assert.equal(n, 5);
  const sum = latency.values.find((v) => v.metricName?.endsWith('_sum'))!.value;
  // Each latency is 10 s minus the media time of the frame (capture = epoch + media time).
  assert.ok(sum > 5 * 10 - 15 && sum < 5 * 10, `latency sum ${sum}`);
  assert.equal((await metrics.personsActive.get()).values[0].value, 0);
  assert.equal((await metrics.framesDropped.get()).values.find((v) => v.labels.reason === 'duplicate')?.value, 1);
  assert.equal((await metrics.framesProcessed.get()).values[0].value, 111);
});

test('a face whose emotion is unclear appears as uncertain, with the likeliest emotion\'s probability as confidence', () => {
  const agg = new Aggregator();
  const events = [];
  for (let i = 0; i < 10; i++) events.push(...agg.push(emotionsMessage('cam', i, i * 100, [{ cx: 300, cy: 300, emotion: 'sad', p: 0.28 }])));
  const appeared = EmotionEventSchema.parse(events[0]);
  assert.equal(appeared.type, 'person.appeared');
  assert.equal(appeared.emotion, 'uncertain');
  assert.equal(appeared.confidence.toFixed(2), '0.28');
  assert.deepEqual(agg.timelines().cameras.cam.persons.p1.segments.map((s) => s.emotion), ['uncertain']);
});

test('every event has a deterministic eventId: the same frames give the same ids, other frames other ids', () => {
  const scene = syntheticScene({ durationMs: 3000, persons: [
    { enterMs: 0, leaveMs: 2000, at: () => ({ cx: 300, cy: 300 }), emotion: (t) => (t < 1000 ? 'happy' : 'sad') },
  ] });
  const ids = (msgs: EmotionsMessage[]) => { const a = new Aggregator(); return [...msgs.flatMap((m) => a.push(m)), ...a.end()].map((e) => e.eventId!); };
  const first = ids(scene);
  assert.equal(first.length, 3);
  assert.ok(first.every((id) => /^[0-9a-f]{32}$/.test(id)));
  assert.equal(new Set(first).size, 3);
  assert.deepEqual(ids(scene), first, 'the same frames, the same ids');
  const later = scene.map((m) => ({ ...m, frame: { ...m.frame, capturedAtMs: m.frame.capturedAtMs + 60_000 } }));
  assert.ok(ids(later).every((id) => !first.includes(id)), 'frames captured at another time: other ids');
});

test('a snapshot of an earlier version (persons who left in it) is read: they stay in memory for the timelines, and are never written again', () => {
  const msgs = scene();
  const a = new Aggregator();
  msgs.slice(0, 105).forEach((m) => a.push(m)); // B left (4040 ms), A still open
  const old = a.snapshot() as AggregatorSnapshot;
  old.cameras.cam1.finished = { p2: { firstSeenMs: 520, lastSeenMs: 2000, segments: [{ emotion: 'sad', startMs: 520, endMs: 2000, meanConfidence: 0.9 }] } };
  const b = new Aggregator();
  b.restore(JSON.parse(JSON.stringify(old)) as AggregatorSnapshot);
  assert.deepEqual(Object.keys(b.timelines().cameras.cam1.persons), ['p1', 'p2']);
  assert.equal(b.snapshot().cameras.cam1.finished, undefined, 'not written again');
  assert.ok(!JSON.stringify(b.snapshot()).includes('"p2"'));
});

test('a snapshot written by the hysteresis goes on under change points: no event at the restore, one change to happy', () => {
  const msgs = scene();
  const before = new Aggregator({ config: { liveDecoding: 'hysteresis' } });
  const first = msgs.slice(0, 20).flatMap((m) => before.push(m)); // A neutral, B appeared (800 ms)
  const after = new Aggregator();
  after.restore(JSON.parse(JSON.stringify(before.snapshot())) as AggregatorSnapshot);
  const rest = runAll(msgs.slice(20), after);
  assert.deepEqual([...first, ...rest].filter((e) => e.type === 'emotion.changed').map(brief), ['emotion.changed p1 happy @2000']);
});

test('a snapshot written under change points goes on under the hysteresis, which keeps no change-point state', () => {
  const msgs = scene();
  const before = new Aggregator();
  msgs.slice(0, 20).forEach((m) => before.push(m));
  assert.ok(JSON.stringify(before.snapshot()).includes('challengers'));
  const after = new Aggregator({ config: { liveDecoding: 'hysteresis' } });
  after.restore(JSON.parse(JSON.stringify(before.snapshot())) as AggregatorSnapshot);
  const rest = runAll(msgs.slice(20, 60), after);
  assert.deepEqual(rest.filter((e) => e.type === 'emotion.changed').map(brief), ['emotion.changed p1 happy @2280']);
  assert.ok(!JSON.stringify(after.snapshot()).includes('challengers'));
});
