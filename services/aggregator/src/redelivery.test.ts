import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRedelivery, markProcessed, MAX_RUNS, type SeenFrames } from './redelivery.js';
import { Aggregator } from './aggregator.js';
import { emotionsMessage } from './testkit.js';

const f = (run: string | undefined, seq: number, capturedAtMs: number) => ({ run, seq, capturedAtMs });

test('within a run: seq decides; a new run is new whatever its seq and clock; an earlier run after a later one is a redelivery', () => {
  const seen: SeenFrames = {};
  const take = (x: ReturnType<typeof f>) => { const dup = isRedelivery(seen, x); if (!dup) markProcessed(seen, x); return dup; };
  assert.deepEqual([take(f('a', 0, 1000)), take(f('a', 1, 1100)), take(f('a', 1, 1100)), take(f('a', 0, 1000))], [false, false, true, true]);
  // Ingest restarts on a host whose clock is 10 minutes behind: seq from 0, capture time earlier. Not a duplicate.
  assert.deepEqual([take(f('b', 0, 1000 - 600_000)), take(f('b', 1, 1100 - 600_000))], [false, false]);
  // The aggregator replays from its committed offset: run a's frames, then b's again. All redeliveries.
  assert.deepEqual([take(f('a', 1, 1100)), take(f('b', 0, 400_000)), take(f('b', 1, 400_100))], [true, true, true]);
  assert.equal(take(f('b', 2, 1200 - 600_000)), false);
  assert.deepEqual(seen.runs, ['a']);
});

test('the runs remembered are bounded; frames without a run keep the old rule (seq and capture time)', () => {
  const seen: SeenFrames = {};
  for (let r = 0; r < 40; r++) markProcessed(seen, f(`r${r}`, 0, r));
  assert.equal(seen.runs!.length, MAX_RUNS);
  assert.equal(seen.runs!.at(-1), 'r38');
  const old: SeenFrames = {};
  markProcessed(old, f(undefined, 5, 5000));
  assert.equal(isRedelivery(old, f(undefined, 5, 5000)), true);
  assert.equal(isRedelivery(old, f(undefined, 0, 6000)), false, 'a later capture time: a new ingest run');
  assert.equal(isRedelivery(old, f(undefined, 0, 4000)), true, 'the clock-behind case the run id fixes');
});

test('the aggregator keeps a restarted ingest\'s frames whose clock is behind (they were dropped as duplicates)', () => {
  const a = new Aggregator();
  const msg = (run: string, seq: number, mediaTimeMs: number, capturedAtMs: number) => {
    const m = emotionsMessage('cam', seq, mediaTimeMs, [{ cx: 300, cy: 300, emotion: 'happy' }], { capturedAtMs });
    return { ...m, frame: { ...m.frame, run } };
  };
  for (let i = 0; i < 10; i++) a.push(msg('first', i, i * 100, 1_000_000 + i * 100));
  for (let i = 0; i < 10; i++) a.push(msg('second', i, i * 100, 400_000 + i * 100));
  assert.equal(a.stats.frames, 20);
  assert.equal(a.stats.duplicates, 0);
  for (let i = 0; i < 10; i++) a.push(msg('first', i, i * 100, 1_000_000 + i * 100));
  assert.equal(a.stats.duplicates, 10, 'the first run replayed: all dropped');
});
