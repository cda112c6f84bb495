import { test } from 'node:test';
import assert from 'node:assert/strict';
import { concatMap, map, Subject, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { boundedQueue } from './boundedQueue.js';
import { createValve } from './valve.js';

const ts = () => new TestScheduler((a, b) => assert.deepEqual(a, b));

test('a slow consumer gets at most maxFrames waiting; the oldest are dropped and counted', () => {
  const dropped: string[] = [];
  ts().run(({ cold, expectObservable }) => {
    // One frame every 1 ms, the consumer needs 5 ms per frame.
    const out = cold('abcdefgh|').pipe(boundedQueue(2, (d) => dropped.push(d), (v) => timer(5).pipe(map(() => v))));
    // a runs 0-5 while b..f arrive into a queue of 2 (b, c, d dropped); e runs 5-10 (f dropped
    // when h arrives), then g, then h.
    expectObservable(out).toBe('-----a----e----g----(h|)');
  });
  assert.deepEqual(dropped, ['b', 'c', 'd', 'f']);
});

test('nothing is dropped when the consumer keeps up', () => {
  const dropped: string[] = [];
  ts().run(({ cold, expectObservable }) => {
    const fast = cold('a-b-c-d|').pipe(boundedQueue(1, (d) => dropped.push(d), (v) => timer(1).pipe(map(() => v))));
    expectObservable(fast).toBe('-a-b-c-(d|)');
  });
  assert.deepEqual(dropped, []);
});

test('concurrency lets several items run at once, still bounded', () => {
  const scheduler = ts();
  const dropped: string[] = [];
  scheduler.run(({ cold, expectObservable }) => {
    const out = cold('abcdef|').pipe(boundedQueue(1, (d) => dropped.push(d), (v) => timer(10).pipe(map(() => v)), { concurrency: 2 }));
    // a and b run at 0 and 1; c..f wait in a queue of 1 → c, d, e dropped, f kept.
    expectObservable(out).toBe('----------ab--------(f|)');
  });
  assert.deepEqual(dropped, ['c', 'd', 'e']);
});

test('a plain concatMap behind a push source buffers everything (why the queue owns the work)', () => {
  const scheduler = ts();
  let seen = 0;
  scheduler.run(({ cold }) => {
    cold('abcdefghij|').pipe(concatMap((v) => timer(5).pipe(map(() => v)))).subscribe(() => seen++);
  });
  assert.equal(seen, 10, 'concatMap never drops: its hidden buffer grew to 9');
});

test('valve: closes when the queue is full and opens again at half (lossless for files)', async () => {
  const valve = createValve();
  const states: boolean[] = [];
  valve.paused$.subscribe((p) => states.push(p));
  const src = new Subject<number>();
  const finish: Array<() => void> = [];
  const out: number[] = [];
  const tick = () => new Promise((r) => setImmediate(r));
  const sub = src.pipe(boundedQueue(4, () => assert.fail('no drop expected'),
    (v) => new Promise<number>((r) => finish.push(() => r(v))), { valve })).subscribe((v) => out.push(v));
  for (let i = 0; i < 5; i++) src.next(i); // 1 running + 4 waiting → full
  assert.equal(valve.paused, true);
  finish.shift()!(); await tick(); // 3 waiting
  assert.equal(valve.paused, true, 'still above half');
  finish.shift()!(); await tick(); // 2 waiting = half
  assert.equal(valve.paused, false);
  assert.deepEqual(states, [false, true, false]);
  while (finish.length) { finish.shift()!(); await tick(); }
  assert.deepEqual(out, [0, 1, 2, 3, 4]);
  sub.unsubscribe();
});

test('valve: frames still arriving after it closed are kept, up to the slack; past it the oldest drop', async () => {
  const valve = createValve();
  const src = new Subject<number>();
  const dropped: number[] = [];
  const finish: Array<() => void> = [];
  const out: number[] = [];
  const tick = () => new Promise((r) => setImmediate(r));
  const sub = src.pipe(boundedQueue(4, (d) => dropped.push(d),
    (v) => new Promise<number>((r) => finish.push(() => r(v))), { valve, valveSlack: 3 })).subscribe((v) => out.push(v));
  for (let i = 0; i < 5; i++) src.next(i); // 1 running + 4 waiting: the valve closes
  assert.equal(valve.paused, true);
  for (let i = 5; i < 8; i++) src.next(i); // in flight when it closed: kept
  assert.deepEqual(dropped, [], 'nothing lost within the slack');
  src.next(8); // a source that ignores the valve: the oldest waiting frame goes
  assert.deepEqual(dropped, [1]);
  src.complete();
  while (finish.length) { finish.shift()!(); await tick(); }
  assert.deepEqual(out, [0, 2, 3, 4, 5, 6, 7, 8]);
  sub.unsubscribe();
});

test('an error in work propagates; unsubscribe stops work', () => {
  ts().run(({ cold, expectObservable }) => {
    const out = cold('ab|').pipe(boundedQueue(2, () => {}, (v) => (v === 'b' ? cold('--#') : cold('-x|', { x: v }))));
    expectObservable(out).toBe('-a--#');
  });
});

test('rejects bad sizes', () => {
  assert.throws(() => boundedQueue(0, () => {}, () => []), RangeError);
  assert.throws(() => boundedQueue(1, () => {}, () => [], { concurrency: 0 }), RangeError);
});
