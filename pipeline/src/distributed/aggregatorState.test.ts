import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Subject } from 'rxjs';
import { EMOTIONS, SCHEMA_VERSION, packEmbedding, type EmotionEvent, type EmotionProbabilities, type EmotionsMessage } from '@emostream/contracts';
import { createAggregatorStage, type AggregatorConfigInput, type AggregatorOutput, type AggregatorSnapshot } from '@emostream/aggregator';
import type { OutMessage } from '@emostream/kafka';
import { AggregatorStateRecords, parseCameraState } from './aggregatorState.js';

const sad: EmotionProbabilities = Object.fromEntries(EMOTIONS.map((e) => [e, e === 'sad' ? 0.9 : 0.1 / 6])) as EmotionProbabilities;

/** Frames `from..to-1` of a camera (100 ms apart), one face at `x` while `face(seq)` says so. */
function frames(cameraId: string, from: number, to: number, face: (seq: number) => boolean = () => true, x = 100, capturedOffsetMs = 0): EmotionsMessage[] {
  return Array.from({ length: to - from }, (_, i) => {
    const seq = from + i;
    return {
      frame: { schemaVersion: SCHEMA_VERSION, cameraId, seq, mediaTimeMs: seq * 100, capturedAtMs: 1e12 + capturedOffsetMs + seq * 100, width: 640, height: 480, run: 'r1' },
      faces: face(seq) ? [{ box: { x, y: 100, width: 80, height: 80 }, score: 0.9, probabilities: sad }] : [],
      modelVersion: 'm1',
    };
  });
}

/** An aggregator stage and its records, driven chunk by chunk as the Kafka runner does. */
function harness(config: AggregatorConfigInput = {}) {
  const stage = createAggregatorStage({ config });
  const records = new AggregatorStateRecords(stage, 'state');
  const input = new Subject<EmotionsMessage>();
  const out: AggregatorOutput[] = [];
  input.pipe(stage.operator).subscribe((o) => out.push(o));
  const events = (from: number) => out.slice(from).flatMap((o) => (o.kind === 'event' ? [o.event] : []));
  return {
    stage, records,
    /** One chunk: checkpoint, the frames, the state messages of the transaction. */
    chunk(msgs: EmotionsMessage[]): { checkpoint: AggregatorSnapshot; events: EmotionEvent[]; state: OutMessage[] } {
      const checkpoint = records.checkpoint();
      const start = out.length;
      for (const m of msgs) input.next(m);
      return { checkpoint, events: events(start), state: records.messages() };
    },
    /** A chunk whose transaction fails (after its state messages were made, or before): its events are never committed. */
    failedChunk(msgs: EmotionsMessage[], before = false): void {
      const checkpoint = records.checkpoint();
      for (const m of msgs) input.next(m);
      if (!before) records.messages();
      records.rollback(checkpoint);
    },
  };
}

const keys = (ms: OutMessage[]) => ms.map((m) => m.key);

test('a record is written only for the cameras a chunk changed: not for a chunk of redelivered frames; a camera closed as idle by another camera\'s frames is written too', () => {
  const h = harness({ cameraIdleMs: 10_000 });
  const first = h.chunk(frames('a', 0, 6));
  assert.deepEqual(keys(first.state), ['a']);
  assert.deepEqual(first.events.map((e) => e.type), ['person.appeared']);
  assert.deepEqual(keys(h.chunk(frames('a', 0, 6)).state), [], 'redelivered frames change nothing: nothing written');
  assert.equal(h.records.stats.written, 1);
  // Camera b's frames are captured a minute later: a is idle, its person leaves, and a's record says so.
  const later = h.chunk(frames('b', 0, 2, () => true, 300, 60_000));
  assert.deepEqual(later.events.map((e) => `${e.cameraId} ${e.type}`), ['a person.left']);
  assert.deepEqual(keys(later.state), ['a', 'b']);
  const a = parseCameraState('a', later.state[0].value, 'state').cameras.a;
  assert.deepEqual([a.tracker.tracks, a.persons, a.lastSeq], [[], {}, 5]);
  assert.equal(h.records.bytes('a'), later.state[0].value.length);
});

test('a record holds what a restart needs only: no person who left, no closed segment, no appearance', () => {
  const h = harness();
  // p1 comes and leaves (personTtlMs 2000), p2 arrives on another spot and stays.
  const msgs = [...frames('cam', 0, 10), ...frames('cam', 10, 40, () => false), ...frames('cam', 40, 50, () => true, 400)];
  const r = h.chunk(msgs.map((m, i) => (i < 5 ? { ...m, faces: m.faces.map((f) => ({ ...f, embedding: packEmbedding([1, 2, 3, 4, 5, 6, 7, 8]) })) } : m)));
  assert.deepEqual(r.events.map((e) => `${e.type} ${e.personId}`), ['person.appeared p1', 'person.left p1', 'person.appeared p2']);
  const text = r.state[0].value.toString();
  assert.ok(!text.includes('p1'), 'the person who left is not in the record');
  assert.ok(!text.includes('finished') && !text.includes('descriptor') && !text.includes('embedding'));
  const cam = parseCameraState('cam', r.state[0].value, 'state').cameras.cam;
  assert.deepEqual(Object.values(cam.persons).map((p) => [p.personId, p.timeline.closed]), [['p2', []]]);
});

for (const when of ['after its state messages', 'before its state messages'] as const) {
  test(`a chunk whose transaction fails ${when}: its cameras go back to their committed records (a new camera is removed); the retry gives the same events and records as a run without the failure`, () => {
    const chunks = [
      frames('a', 0, 8),
      [...frames('a', 8, 40, (s) => s < 12), ...frames('b', 0, 6, () => true, 300)],
      [...frames('a', 40, 60, () => true, 500), ...frames('b', 6, 30, () => false, 300)],
    ];
    const clean = harness();
    const want = chunks.map((c) => clean.chunk(c));
    const h = harness();
    const got = [h.chunk(chunks[0])];
    const afterFirst = h.stage.snapshot();
    h.failedChunk(chunks[1], when === 'before its state messages');
    assert.deepEqual(h.stage.snapshot(), afterFirst, 'undone: camera a as committed, camera b (new in the chunk) gone');
    assert.deepEqual(h.stage.snapshot().cameras.b, undefined);
    // The broker delivers the chunk again.
    got.push(h.chunk(chunks[1]), h.chunk(chunks[2]));
    const brief = (r: { events: EmotionEvent[]; state: OutMessage[] }) => ({ events: r.events, state: r.state.map((m) => [m.key, m.value.toString()]) });
    assert.deepEqual(got.map(brief), want.map(brief));
    assert.ok(want[1].events.some((e) => e.type === 'person.appeared' && e.cameraId === 'b'), 'the failed chunk had events of its own');
  });
}
