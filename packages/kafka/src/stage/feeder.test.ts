import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import { delay, map, mergeMap, of, throwError, type OperatorFunction } from 'rxjs';
import { StageError } from '../errors.js';
import { Feeder, createFeed } from './feeder.js';
import { controlledOperator, recordingLogger, settle } from './fakes.js';

interface Item { key: string; v: number }
const keyed = { mode: 'keyed' as const, inputKey: (i: Item) => i.key, outputKey: (o: Item) => o.key };

test('keyed: outputs arriving out of order resolve the inputs they belong to, by key', async () => {
  const log = recordingLogger();
  // Each input's output comes after its own delay: the last input fed is answered first.
  const op: OperatorFunction<Item & { ms: number }, Item> = mergeMap((i) => of({ key: i.key, v: i.v * 10 }).pipe(delay(i.ms)));
  const f = new Feeder(op, { mode: 'keyed', inputKey: (i) => i.key, outputKey: (o) => o.key }, log);
  const order: string[] = [];
  const track = (name: string, p: Promise<Item[]>) => p.then((o) => { order.push(name); return o; });
  const a = track('a', f.feed({ key: 'a', v: 1, ms: 30 }));
  const b = track('b', f.feed({ key: 'b', v: 2, ms: 15 }));
  const c = track('c', f.feed({ key: 'c', v: 3, ms: 0 }));
  assert.deepEqual(await Promise.all([a, b, c]), [[{ key: 'a', v: 10 }], [{ key: 'b', v: 20 }], [{ key: 'c', v: 30 }]]);
  assert.deepEqual(order, ['c', 'b', 'a']);
  assert.deepEqual(log.lines, []);
  f.close();
});

test('keyed: the same key twice is matched first in, first out; other keys in between do not disturb it', async () => {
  const op = controlledOperator<Item, Item>();
  const f = new Feeder(op.operator, keyed, recordingLogger());
  const a1 = f.feed({ key: 'a', v: 1 });
  const b = f.feed({ key: 'b', v: 2 });
  const a2 = f.feed({ key: 'a', v: 3 });
  assert.deepEqual(op.inputs, [{ key: 'a', v: 1 }, { key: 'b', v: 2 }, { key: 'a', v: 3 }]);
  op.emit({ key: 'b', v: 20 });
  op.emit({ key: 'a', v: 10 });
  op.emit({ key: 'a', v: 30 });
  assert.deepEqual(await Promise.all([a1, b, a2]), [[{ key: 'a', v: 10 }], [{ key: 'b', v: 20 }], [{ key: 'a', v: 30 }]]);
  f.close();
});

test('keyed: an output no input waits for is dropped and logged; the waiting input still gets its own', async () => {
  const op = controlledOperator<Item, Item>();
  const log = recordingLogger();
  const f = new Feeder(op.operator, keyed, log);
  const a = f.feed({ key: 'a', v: 1 });
  op.emit({ key: 'zzz', v: 99 });
  op.emit({ key: 'a', v: 10 });
  op.emit({ key: 'a', v: 11 }); // a second output for `a`: nobody waits any more
  assert.deepEqual(await a, [{ key: 'a', v: 10 }]);
  assert.deepEqual(log.lines, [
    { level: 'warn', msg: 'stage emitted an output no input is waiting for: dropped', fields: { key: 'zzz' } },
    { level: 'warn', msg: 'stage emitted an output no input is waiting for: dropped', fields: { key: 'a' } },
  ]);
  f.close();
});

test('sync: the outputs of an input are those emitted while it is pushed (0..n)', async () => {
  const log = recordingLogger();
  const op: OperatorFunction<Item, Item> = mergeMap((i) => Array.from({ length: i.v }, (_, n) => ({ key: i.key, v: n })));
  const f = new Feeder(op, { mode: 'sync' }, log);
  assert.deepEqual(await f.feed({ key: 'a', v: 2 }), [{ key: 'a', v: 0 }, { key: 'a', v: 1 }]);
  assert.deepEqual(await f.feed({ key: 'b', v: 0 }), []);
  assert.deepEqual(await f.feed({ key: 'c', v: 3 }), [{ key: 'c', v: 0 }, { key: 'c', v: 1 }, { key: 'c', v: 2 }]);
  assert.deepEqual(log.lines, []);
  f.close();
});

test('sync: an output emitted outside a push is dropped and logged as an error', async () => {
  const log = recordingLogger();
  const f = new Feeder(mergeMap((i: Item) => of(i).pipe(delay(1))), { mode: 'sync' }, log);
  assert.deepEqual(await f.feed({ key: 'a', v: 1 }), []);
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(log.lines, [{ level: 'error', msg: 'stage emitted an output outside a push: dropped (the sync operator must be synchronous)' }]);
  f.close();
});

test('keyed: an operator that completes rejects every pending feed, and every later one, with a non-retriable StageError', async () => {
  const op = controlledOperator<Item, Item>();
  const f = new Feeder(op.operator, keyed, recordingLogger());
  const a = f.feed({ key: 'a', v: 1 });
  const b = f.feed({ key: 'b', v: 2 });
  op.complete();
  const expected = (e: unknown) => {
    assert.ok(e instanceof StageError);
    assert.equal(e.message, 'the stage operator completed while the consumer runs');
    assert.equal(e.retriable, false);
    return true;
  };
  await assert.rejects(a, expected);
  await assert.rejects(b, expected);
  await assert.rejects(f.feed({ key: 'c', v: 3 }), expected);
  assert.deepEqual(op.inputs, [{ key: 'a', v: 1 }, { key: 'b', v: 2 }], 'nothing is pushed after the failure');
});

test('keyed: an operator that errors rejects the pending feeds with its error', async () => {
  const op = controlledOperator<Item, Item>();
  const f = new Feeder(op.operator, keyed, recordingLogger());
  const a = f.feed({ key: 'a', v: 1 });
  const boom = new Error('boom');
  op.error(boom);
  await assert.rejects(a, (e) => e === boom);
  await assert.rejects(f.feed({ key: 'b', v: 1 }), (e) => e === boom);
});

test('keyed: inputs answered before the failure keep their outputs; only the pending ones reject', async () => {
  const op = controlledOperator<Item, Item>();
  const f = new Feeder(op.operator, keyed, recordingLogger());
  const a = f.feed({ key: 'a', v: 1 });
  const b = f.feed({ key: 'b', v: 2 });
  op.emit({ key: 'a', v: 10 });
  op.complete();
  assert.deepEqual(await a, [{ key: 'a', v: 10 }]);
  await assert.rejects(b, /operator completed/);
});

test('sync: an operator that errors or completes during a push rejects that feed and the later ones', async () => {
  const boom = new Error('bad input');
  const f = new Feeder(mergeMap((i: Item) => (i.v < 0 ? throwError(() => boom) : of(i))), { mode: 'sync' }, recordingLogger());
  assert.deepEqual(await f.feed({ key: 'a', v: 1 }), [{ key: 'a', v: 1 }]);
  await assert.rejects(f.feed({ key: 'a', v: -1 }), (e) => e === boom);
  await assert.rejects(f.feed({ key: 'a', v: 2 }), (e) => e === boom);

  const op = controlledOperator<Item, Item>();
  const g = new Feeder(op.operator, { mode: 'sync' }, recordingLogger());
  op.complete();
  await assert.rejects(g.feed({ key: 'a', v: 1 }), (e) => e instanceof StageError && e.retriable === false);
});

test('close unsubscribes the long-lived subscription', () => {
  const op = controlledOperator<Item, Item>();
  const f = new Feeder(op.operator, { mode: 'sync' }, recordingLogger());
  assert.equal(op.subscriptions, 1);
  assert.equal(op.unsubscribed, false);
  f.close();
  assert.equal(op.unsubscribed, true);
});

test('each: one subscription per input, done when it completes, with all its outputs', async () => {
  let subscriptions = 0;
  const op: OperatorFunction<Item, Item> = (src) => { subscriptions++; return src.pipe(mergeMap((i) => Array.from({ length: i.v }, (_, n) => ({ key: i.key, v: n })))); };
  const f = createFeed(op, { mode: 'each' }, recordingLogger());
  assert.equal(subscriptions, 0, 'nothing is subscribed before an input');
  assert.deepEqual(await f.feed({ key: 'a', v: 2 }), [{ key: 'a', v: 0 }, { key: 'a', v: 1 }]);
  assert.deepEqual(await f.feed({ key: 'b', v: 0 }), []);
  assert.equal(subscriptions, 2);
  f.close();
});

test('each: an operator error rejects that input only', async () => {
  const boom = new Error('bad frame');
  const f = createFeed(mergeMap((i: Item) => (i.v < 0 ? throwError(() => boom) : of(i).pipe(map((x) => ({ ...x, v: x.v + 1 }))))), { mode: 'each' }, recordingLogger());
  await assert.rejects(f.feed({ key: 'a', v: -1 }), (e) => e === boom);
  assert.deepEqual(await f.feed({ key: 'a', v: 1 }), [{ key: 'a', v: 2 }]);
});

test('createFeed: keyed and sync share one subscription (a Feeder)', async () => {
  const op = controlledOperator<Item, Item>();
  const f = createFeed(op.operator, keyed, recordingLogger());
  assert.ok(f instanceof Feeder);
  assert.equal(op.subscriptions, 1);
  const a = f.feed({ key: 'a', v: 1 });
  await settle(1);
  op.emit({ key: 'a', v: 5 });
  assert.deepEqual(await a, [{ key: 'a', v: 5 }]);
  assert.equal(op.subscriptions, 1);
});

/**
 * A steady backlog: input n+1 is fed before input n is answered, so some input always waits.
 * Returns weak references to the answered feeds' promises (the test holds nothing else of them).
 */
async function steadyBacklog(f: Feeder<Item, Item>, op: ReturnType<typeof controlledOperator<Item, Item>>, n: number): Promise<Array<WeakRef<Promise<Item[]>>>> {
  const answered: Array<WeakRef<Promise<Item[]>>> = [];
  let previous = f.feed({ key: 'k0', v: 0 });
  for (let i = 1; i <= n; i++) {
    const next = f.feed({ key: `k${i}`, v: i });
    op.emit({ key: `k${i - 1}`, v: i - 1 });
    assert.deepEqual(await previous, [{ key: `k${i - 1}`, v: i - 1 }]);
    answered.push(new WeakRef(previous));
    previous = next;
  }
  void previous.catch(() => undefined);
  return answered;
}

test('keyed: under a steady backlog only the inputs still waiting are held (an answered feed is released)', async () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const op = controlledOperator<Item, Item>();
  const f = new Feeder(op.operator, keyed, recordingLogger());
  const answered = await steadyBacklog(f, op, 2000);
  assert.equal(f.pending, 1, 'one input waits, whatever how many were answered');
  for (let i = 0; i < 3; i++) { gc(); await settle(1); }
  const alive = answered.filter((r) => r.deref() !== undefined).length;
  // The old Feeder kept every answered feed's rejection (and so its promise) until nothing was pending.
  assert.ok(alive < 10, `${alive} of ${answered.length} answered feeds are still reachable`);
  f.close();
});

test('keyed: a failure after a steady backlog rejects only the input still waiting', async () => {
  const op = controlledOperator<Item, Item>();
  const f = new Feeder(op.operator, keyed, recordingLogger());
  await steadyBacklog(f, op, 50);
  const last = f.feed({ key: 'last', v: 0 });
  assert.equal(f.pending, 2);
  op.error(new Error('boom'));
  await assert.rejects(last, /boom/);
  assert.equal(f.pending, 0);
  assert.equal(f.broken, true);
});
