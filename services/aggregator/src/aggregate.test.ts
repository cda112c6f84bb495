import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestScheduler } from 'rxjs/testing';
import { from, lastValueFrom, map, toArray } from 'rxjs';
import { EmotionEventSchema, TimelinesSchema } from '@emostream/contracts';
import { aggregate, createAggregatorStage, type AggregatorOutput } from './aggregate.js';
import { emotionsMessage, syntheticScene } from './testkit.js';

const label = (o: AggregatorOutput) => (o.kind === 'event' ? `${o.event.type}:${o.event.personId}` : 'timelines');

test('the operator emits each frame\'s events when the frame arrives, then left events and timelines at completion', () => {
  const scheduler = new TestScheduler((actual, expected) => assert.deepEqual(actual, expected));
  scheduler.run(({ cold, expectObservable }) => {
    const face = (e: 'neutral' | 'happy') => [{ cx: 100, cy: 100, emotion: e }];
    const frames = {
      a: emotionsMessage('cam1', 0, 0, face('neutral')),
      b: emotionsMessage('cam1', 1, 40, face('neutral')),
      B: emotionsMessage('cam1', 1, 40, face('neutral')), // redelivered
      c: emotionsMessage('cam1', 2, 80, []),
    };
    const source = cold('-a-b-B-c-|', frames);
    const out = source.pipe(aggregate({ config: { confirmHits: 2, confirmWindowFrames: 3 } }), map(label));
    expectObservable(out).toBe('---x-----(yz|)', { x: 'person.appeared:p1', y: 'person.left:p1', z: 'timelines' });
  });
});

test('an input error is passed on, without end-of-stream events', () => {
  const scheduler = new TestScheduler((actual, expected) => assert.deepEqual(actual, expected));
  scheduler.run(({ cold, expectObservable }) => {
    const m = (seq: number) => emotionsMessage('cam1', seq, seq * 40, [{ cx: 100, cy: 100, emotion: 'sad' }]);
    const source = cold('abc#', { a: m(0), b: m(1), c: m(2) }, new Error('upstream'));
    expectObservable(source.pipe(aggregate(), map(label))).toBe('--x#', { x: 'person.appeared:p1' }, new Error('upstream'));
  });
});

test('the operator on a synthetic two-camera stream: valid events, final timelines, one stage per run', async () => {
  const a = syntheticScene({ cameraId: 'door', durationMs: 2000, persons: [
    { enterMs: 0, leaveMs: 2000, at: (t) => ({ cx: 100 + t * 0.2, cy: 200 }), emotion: (t) => (t < 800 ? 'neutral' : 'surprise') },
  ] });
  const b = syntheticScene({ cameraId: 'desk', durationMs: 2000, persons: [
    { enterMs: 0, leaveMs: 2000, at: () => ({ cx: 500, cy: 200 }), emotion: () => 'happy' },
    { enterMs: 0, leaveMs: 2000, at: () => ({ cx: 800, cy: 220 }), emotion: () => 'sad' },
  ] });
  const interleaved = a.flatMap((m, i) => [m, b[i]]);
  for (let run = 0; run < 2; run++) {
    const stage = createAggregatorStage();
    const out = await lastValueFrom(from(interleaved).pipe(stage.operator, toArray()));
    const events = out.flatMap((o) => (o.kind === 'event' ? [EmotionEventSchema.parse(o.event)] : []));
    assert.deepEqual(events.map((e) => `${e.cameraId} ${e.type} ${e.personId} ${e.emotion}`), [
      'door person.appeared p1 neutral',
      'desk person.appeared p1 happy',
      'desk person.appeared p2 sad',
      'door emotion.changed p1 surprise',
      'desk person.left p1 happy',
      'desk person.left p2 sad',
      'door person.left p1 surprise',
    ]);
    const last = out.at(-1)!;
    assert.equal(last.kind, 'timelines');
    const tl = TimelinesSchema.parse(last.kind === 'timelines' ? last.timelines : undefined);
    assert.deepEqual(Object.keys(tl.cameras), ['desk', 'door']);
    assert.deepEqual(tl.cameras.door.persons.p1.segments.map((s) => s.emotion), ['neutral', 'surprise']);
    assert.equal(stage.stats.frames, interleaved.length);
  }
});
