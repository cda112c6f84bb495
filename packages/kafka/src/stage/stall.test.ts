/** The stall watch's decision, and abandonable work. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AbandonableWork, StallWatch } from './stall.js';

test('stall watch: lag that waits stallMs with its committed offset unmoved is a stall; progress or no lag restarts the clock', () => {
  let now = 0;
  const w = new StallWatch(1_000, () => now);
  assert.equal(w.observe([{ partition: 0, committed: '5', lag: 3 }, { partition: 1, committed: '-1', lag: 0 }]), undefined);
  now = 600;
  assert.equal(w.observe([{ partition: 0, committed: '5', lag: 4 }, { partition: 1, committed: '-1', lag: 0 }]), undefined);
  now = 1_000;
  assert.deepEqual(w.observe([{ partition: 0, committed: '5', lag: 4 }, { partition: 1, committed: '-1', lag: 0 }]), { partitions: [0], lag: 4, forMs: 1_000 });
  // A commit restarts the clock; so does an empty partition.
  now = 1_500;
  assert.equal(w.observe([{ partition: 0, committed: '6', lag: 3 }, { partition: 1, committed: '-1', lag: 0 }]), undefined);
  now = 2_400;
  assert.equal(w.observe([{ partition: 0, committed: '6', lag: 3 }, { partition: 1, committed: '-1', lag: 2 }]), undefined);
  now = 2_500;
  assert.deepEqual(w.observe([{ partition: 0, committed: '6', lag: 3 }, { partition: 1, committed: '-1', lag: 2 }]), { partitions: [0], lag: 3, forMs: 1_000 });
  now = 3_400;
  assert.deepEqual(w.observe([{ partition: 0, committed: '6', lag: 3 }, { partition: 1, committed: '-1', lag: 2 }]), { partitions: [0, 1], lag: 5, forMs: 1_900 });
});

test('stall watch: an unreadable reading clears the clocks (a broker outage never counts); a partition no longer assigned is forgotten', () => {
  let now = 0;
  const w = new StallWatch(1_000, () => now);
  w.observe([{ partition: 0, committed: '5', lag: 3 }]);
  now = 900;
  w.clear();
  now = 1_200;
  assert.equal(w.observe([{ partition: 0, committed: '5', lag: 3 }]), undefined, 'counted from the first reading after the outage');
  now = 2_100;
  assert.equal(w.observe([{ partition: 0, committed: '5', lag: 3 }]), undefined);
  now = 2_200;
  assert.deepEqual(w.observe([{ partition: 0, committed: '5', lag: 3 }]), { partitions: [0], lag: 3, forMs: 1_000 });
  now = 2_300;
  assert.equal(w.observe([{ partition: 2, committed: '0', lag: 1 }]), undefined);
  now = 3_300;
  assert.deepEqual(w.observe([{ partition: 0, committed: '5', lag: 3 }, { partition: 2, committed: '0', lag: 1 }]), { partitions: [2], lag: 1, forMs: 1_000 }, 'partition 0 reassigned: counted afresh');
});

test('abandonable work: the result of the work, or the abort\'s error; an abandoned promise rejecting later is swallowed', async () => {
  const w = new AbandonableWork();
  assert.equal(await w.run(Promise.resolve(7)), 7);
  await assert.rejects(w.run(Promise.reject(new Error('own'))), /own/);
  assert.equal(w.busy, false);
  assert.equal(w.abort(new Error('stalled')), false, 'nothing in hand');
  let late!: (e: Error) => void;
  const hung = w.run(new Promise<number>((_, r) => { late = r; }));
  assert.equal(w.busy, true);
  assert.equal(w.abort(new Error('stalled')), true);
  await assert.rejects(hung, /stalled/);
  assert.equal(w.busy, false);
  late(new Error('too late'));
  await new Promise((r) => setImmediate(r));
});
