import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TimelinesSchema, type EmotionEvent } from '@emostream/contracts';
import { Aggregator } from './aggregator.js';
import { syntheticScene } from './testkit.js';

// One person, happy for 3 s, then angry for 3 s, at 25 fps.
const scene = syntheticScene({
  durationMs: 6000,
  persons: [{ enterMs: 0, leaveMs: 6000, at: () => ({ cx: 400, cy: 300 }), emotion: (t) => (t < 3000 ? 'happy' : 'angry') }],
});

function run(timelineHindsight: boolean, liveDecoding: 'hysteresis' | 'changePoint' = 'changePoint') {
  const agg = new Aggregator({ config: { timelineHindsight, liveDecoding } });
  const events: EmotionEvent[] = [];
  for (const m of scene) events.push(...agg.push(m));
  const before = agg.timelines();
  events.push(...agg.end());
  return { events, during: before, after: agg.timelines(), snapshot: agg.snapshot() };
}

test('with timelineHindsight the change is dated where the frames turn; the hysteresis live timeline dates it later, the change-point one there too; events are the same', () => {
  const live = run(false, 'hysteresis'), hind = run(true, 'hysteresis'), changePoint = run(false);
  const seg = (r: ReturnType<typeof run>) => Object.values(r.after.cameras.cam1.persons)[0].segments;
  const change = (r: ReturnType<typeof run>) => seg(r).find((s) => s.emotion === 'angry')!.startMs;
  assert.deepEqual(seg(hind).map((s) => s.emotion), ['happy', 'angry']);
  assert.equal(change(hind), 2980); // the last happy frame at 2960 ms, the first angry at 3000
  assert.ok(change(live) > change(hind), `live change at ${change(live)} ms`);
  assert.deepEqual(hind.events, live.events);
  assert.deepEqual(seg(changePoint).map((s) => s.emotion), ['happy', 'angry']);
  assert.equal(change(changePoint), 2980);
  TimelinesSchema.parse(hind.after);
  // While the person is still there (timelines asked mid-run) the same decoding applies.
  assert.equal(Object.values(hind.during.cameras.cam1.persons)[0].segments.find((s) => s.emotion === 'angry')!.startMs, 2980);
});

test('the frames kept for hindsight never enter a snapshot', () => {
  const agg = new Aggregator({ config: { timelineHindsight: true } });
  for (const m of scene.slice(0, 50)) agg.push(m);
  const json = JSON.stringify(agg.snapshot());
  assert.ok(!json.includes('hindsight'), 'snapshot carries the hindsight frames');
  assert.ok(json.length < 20_000, `snapshot of ${json.length} characters`);
});
