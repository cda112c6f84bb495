import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '@emostream/runtime';
import { FairShedder, DEFAULT_SHED } from './shed.js';
import { shedOptionsFromEnv } from './settings.js';

/**
 * A stage behind live cameras, on a virtual clock: cameras produce at `fps` onto partitions
 * (unequally shared), the stage round-robins the partitions taking up to `perFetch` waiting
 * messages from each (as a byte-capped fetch does), processing a frame costs `costMs`, a skip
 * almost nothing. The cameras' phases come from a generator seeded with `seed`.
 */
function simulate(layout: string[][], o: { fps: number; costMs: number; seconds: number; shed: boolean; seed: number }) {
  const random = mulberry32(o.seed);
  const s = new FairShedder({ ...DEFAULT_SHED, afterLag: 200 });
  const queues = layout.map(() => [] as Array<{ cam: string; at: number }>);
  const next = new Map<string, number>();
  for (const cams of layout) for (const c of cams) next.set(c, random() * 100);
  const done: Record<string, number> = {};
  let now = 0, lastAge = 0;
  const arrive = () => {
    layout.forEach((cams, p) => cams.forEach((c) => {
      while (next.get(c)! <= now) { queues[p].push({ cam: c, at: next.get(c)! }); next.set(c, next.get(c)! + 1000 / o.fps); }
    }));
  };
  while (now < o.seconds * 1000) {
    for (const q of queues) {
      arrive();
      const batch = q.splice(0, 30);
      for (const [i, m] of batch.entries()) {
        if (o.shed && s.decide(m.cam, queues.indexOf(q), m.at, q.length + batch.length - 1 - i, now)) { now += 0.05; continue; }
        now += o.costMs;
        s.processed(o.costMs);
        if (now > o.seconds * 500) done[m.cam] = (done[m.cam] ?? 0) + 1; // second half only: past the start-up backlog
        lastAge = now - m.at;
      }
      if (batch.length === 0) now += 1;
    }
  }
  const v = layout.flat().map((c) => done[c] ?? 0);
  return { done, fairness: Math.min(...v) / Math.max(...v), backlog: queues.reduce((a, q) => a + q.length, 0), lastAge };
}

test('shedding gives cameras on unequally shared partitions equal frame rates, and keeps up', () => {
  // 8 cameras × 10 fps = 80 fps against a stage that can do 25 fps; three seeded camera phasings.
  const layout = [['a'], ['b', 'c'], ['d', 'e', 'f', 'g'], ['h']];
  for (const seed of [1, 2, 3]) {
    const without = simulate(layout, { fps: 10, costMs: 40, seconds: 600, shed: false, seed });
    const withShed = simulate(layout, { fps: 10, costMs: 40, seconds: 600, shed: true, seed });
    // Seeded: the same simulation gives the same outcome every run.
    assert.deepEqual(simulate(layout, { fps: 10, costMs: 40, seconds: 600, shed: true, seed }), withShed, `seed ${seed}: reproducible`);
    assert.ok(without.fairness < 0.5, `seed ${seed}: without shedding, shares follow the partitions: ${JSON.stringify(without.done)}`);
    assert.ok(without.backlog > 5_000, `seed ${seed}: without shedding the backlog grows: ${without.backlog}`);
    assert.ok(withShed.fairness > 0.8, `seed ${seed}: with shedding the shares are even: ${JSON.stringify(withShed.done)}`);
    assert.ok(withShed.lastAge < 5_000, `seed ${seed}: with shedding the stage keeps up: last processed frame ${withShed.lastAge.toFixed(0)} ms old`);
    const total = Object.values(withShed.done).reduce((a, b) => a + b, 0);
    assert.ok(total > 300 * 25 * 0.6, `seed ${seed}: the stage stays busy: ${total} frames in 300 s at 25 fps capacity`);
  }
});

test('nothing is shed while the stage keeps up; offered load above capacity sheds before a backlog builds', () => {
  const s = new FairShedder(DEFAULT_SHED);
  s.processed(100);
  // One camera, a frame every 200 ms, 100 ms of work each: load 0.5.
  for (let i = 0; i < 100; i++) assert.equal(s.decide('a', 0, i * 200, DEFAULT_SHED.afterLag, i * 200 + 5), undefined);
  assert.ok(Math.abs(s.load() - 0.5) < 1e-9);
  // A second camera at 5 fps: load 1.0, over what the stage can do with its headroom.
  const t0 = 100 * 200;
  const verdicts = Array.from({ length: 20 }, (_, i) => [s.decide('a', 0, t0 + i * 200, 0, t0 + i * 200 + 5), s.decide('b', 1, t0 + i * 200 + 1, 0, t0 + i * 200 + 6)]).flat();
  assert.ok(verdicts.includes('overload'), 'sheds while the load exceeds the capacity');
  assert.ok(verdicts.filter((v) => v === undefined).length >= 20, `keeps what it can do: ${verdicts.join(',')}`);
});

test('a live frame with a newer one of its camera fetched behind it is skipped even while keeping up; its camera\'s frame spacing still counts it', () => {
  const s = new FairShedder(DEFAULT_SHED);
  s.processed(20);
  // One camera, a frame every 100 ms, 20 ms of work: load 0.2, nowhere near behind.
  for (let i = 0; i < 10; i++) assert.equal(s.decide('a', 0, i * 100, 0, i * 100 + 5), undefined);
  assert.equal(s.decide('a', 0, 1_000, 1, 1_005, true), 'overload');
  assert.equal(s.decide('b', 1, 1_000, 0, 1_005), undefined, 'another camera is not affected');
  assert.equal(s.decide('a', 0, 1_100, 0, 1_105), undefined);
  // The skipped frame was offered: the spacing stays 100 ms (load 0.2 for a, plus b's first frame's none).
  assert.ok(Math.abs(s.load() - 0.2) < 1e-9, `load ${s.load()}`);
});

/**
 * One live camera at 10 fps, 60 ms a frame except every 50th processed frame, which takes 1.2 s
 * (a tile sweep, a garbage collection); each round the stage fetches everything waiting. Returns
 * the waits (capture to processing start) of the processed frames, ms.
 */
function slowFrames(newestOnly: boolean): number[] {
  const s = new FairShedder(DEFAULT_SHED);
  const queue: number[] = [];
  const waits: number[] = [];
  let now = 0, nextAt = 0, processed = 0;
  while (now < 120_000) {
    while (nextAt <= now) { queue.push(nextAt); nextAt += 100; }
    const batch = queue.splice(0);
    for (const [i, at] of batch.entries()) {
      if (s.decide('cam', 0, at, batch.length - 1 - i, now, newestOnly && i < batch.length - 1)) continue;
      waits.push(now - at);
      const cost = ++processed % 50 === 0 ? 1_200 : 60;
      now += cost;
      s.processed(cost);
    }
    if (batch.length === 0) now += 5;
  }
  return waits;
}

test('only a live camera\'s newest fetched frame: a slow frame delays the one after it, not the dozens after that', () => {
  const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)];
  const newest = slowFrames(true);
  const every = slowFrames(false);
  // Without the rule the 12 frames that queue behind a slow one drain at 40 ms a frame: 30 frames late.
  assert.ok(p95(every) > 500, `every frame: p95 wait ${p95(every)} ms`);
  assert.ok(p95(newest) < 150, `newest only: p95 wait ${p95(newest)} ms`);
  assert.ok(newest.length > every.length * 0.8, `newest only keeps most frames: ${newest.length} of ${every.length}`);
});

test('while behind: stale frames skipped, the rest spaced per camera by the measured cost', () => {
  const s = new FairShedder({ ...DEFAULT_SHED, afterLag: 0, maxAgeMs: 5_000 });
  s.processed(50);
  assert.equal(s.decide('a', 0, 0, 500, 6_000), 'stale');
  assert.equal(s.decide('b', 1, 5_900, 500, 6_000), undefined);
  // Two active cameras × 50 ms × 1.25 = 125 ms between kept frames of one camera.
  assert.equal(s.intervalMs(6_000), 125);
  assert.equal(s.decide('b', 1, 6_000, 500, 6_000), 'overload');
  assert.equal(s.decide('b', 1, 6_025, 500, 6_030), undefined);
});

test('settings from the environment, with a clear error for a bad value', () => {
  assert.deepEqual(shedOptionsFromEnv({}), DEFAULT_SHED);
  assert.equal(shedOptionsFromEnv({ EMOSTREAM_SHED_AFTER_LAG: '0' }), undefined);
  assert.equal(shedOptionsFromEnv({ EMOSTREAM_MAX_FRAME_AGE_MS: '2500' })?.maxAgeMs, 2500);
  assert.throws(() => shedOptionsFromEnv({ EMOSTREAM_SHED_AFTER_LAG: 'lots' }), /EMOSTREAM_SHED_AFTER_LAG=lots/);
});

test('the processing time is the median of the recent ones, the first two (model loading) left out', () => {
  const s = new FairShedder({ ...DEFAULT_SHED, afterLag: 0 });
  s.decide('a', 0, 0, 0, 0);
  s.processed(3_000); // the first frame loads the models
  assert.equal(s.intervalMs(0), 3_000 * 1.25, 'one time: that one');
  s.processed(900);
  assert.equal(s.intervalMs(0), 3_000 * 1.25, 'the second is still warm-up');
  s.processed(100);
  assert.equal(s.intervalMs(0), 100 * 1.25, 'from the third on, the warm-up is forgotten');
  for (const ms of [90, 110, 2_000, 95, 105]) s.processed(ms);
  assert.equal(s.intervalMs(0), 105 * 1.25, 'one slow frame moves the median little');
  for (let i = 0; i < 9; i++) s.processed(300);
  assert.equal(s.intervalMs(0), 300 * 1.25, 'a lasting change is followed within 9 frames');
});
