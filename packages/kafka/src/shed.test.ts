import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FairShedder } from './shed.js';

const opts = { afterLag: 100, maxAgeMs: 5_000, activeMs: 10_000, slack: 1 };

/**
 * Simulates a stage that is behind and round-robins over partitions, taking `perFetch` messages
 * from each per round (as a byte-capped fetch does) and processing all it does not shed.
 */
function simulate(partitions: string[][], rounds: number, shed: boolean) {
  const s = new FairShedder(opts);
  const done: Record<string, number> = {};
  const perFetch = 30;
  let t = 0;
  for (let r = 0; r < rounds; r++) {
    for (const cams of partitions) {
      for (let i = 0; i < perFetch; i++) {
        const cam = cams[i % cams.length];
        t += 1;
        if (shed && s.decide(cam, t, 1_000, t)) continue;
        s.processed(cam);
        // Counted after a warm-up: the first camera seen has the stage to itself until the others appear.
        if (r >= 5) done[cam] = (done[cam] ?? 0) + 1;
      }
    }
  }
  const v = Object.values(done);
  return { done, fairness: Math.min(...v) / Math.max(...v), total: v.reduce((a, b) => a + b, 0) };
}

test('shedding evens out cameras that share partitions unequally', () => {
  const layout = [['a'], ['b', 'c'], ['d', 'e', 'f', 'g']];
  const without = simulate(layout, 50, false);
  const withShed = simulate(layout, 50, true);
  assert.ok(without.fairness < 0.5, `without shedding one camera gets far more: ${JSON.stringify(without.done)}`);
  assert.ok(withShed.fairness > 0.9, `with shedding the shares are even: ${JSON.stringify(withShed.done)}`);
  // What is shed is the excess of the cameras that had more than their share.
  assert.ok(withShed.total < without.total, `${withShed.total} vs ${without.total}`);
});

test('nothing is shed while the stage keeps up', () => {
  const s = new FairShedder(opts);
  for (let i = 0; i < 100; i++) { assert.equal(s.decide('a', 0, 100, 60_000 + i), undefined); s.processed('a'); }
  assert.equal(s.decide('b', 0, 100, 60_200), undefined);
});

test('stale frames are skipped while behind; a newcomer is not owed the past', () => {
  const s = new FairShedder(opts);
  assert.equal(s.decide('a', 0, 500, 6_000), 'stale');
  assert.equal(s.decide('a', 5_500, 500, 6_000), undefined);
  for (let i = 0; i < 10; i++) s.processed('a');
  // b arrives late: level with the least served (a), so a is not starved until b catches up 10 frames.
  assert.equal(s.decide('b', 6_000, 500, 6_001), undefined);
  assert.equal(s.decide('a', 6_000, 500, 6_002), undefined);
  s.processed('a'); s.processed('a');
  assert.equal(s.decide('a', 6_000, 500, 6_003), 'overload');
});

test('cameras gone quiet stop holding the others back', () => {
  const s = new FairShedder(opts);
  s.decide('a', 0, 500, 0); s.decide('b', 0, 500, 0);
  for (let i = 0; i < 5; i++) s.processed('a');
  assert.equal(s.decide('a', 0, 500, 1), 'overload');
  // b is silent for longer than activeMs: a is no longer held to b's count.
  assert.equal(s.decide('a', 20_000, 500, 20_001), undefined);
});

test('settings from the environment, with a clear error for a bad value', async () => {
  const { shedOptionsFromEnv, DEFAULT_SHED } = await import('./shed.js');
  assert.deepEqual(shedOptionsFromEnv({}), DEFAULT_SHED);
  assert.equal(shedOptionsFromEnv({ EMOSTREAM_SHED_AFTER_LAG: '0' }), undefined);
  assert.equal(shedOptionsFromEnv({ EMOSTREAM_MAX_FRAME_AGE_MS: '2500' })?.maxAgeMs, 2500);
  assert.throws(() => shedOptionsFromEnv({ EMOSTREAM_SHED_AFTER_LAG: 'lots' }), /EMOSTREAM_SHED_AFTER_LAG=lots/);
});
