import { test } from 'node:test';
import assert from 'node:assert/strict';
import { delay, mergeMap, of, tap, type OperatorFunction } from 'rxjs';
import type { PipelineMetrics } from '@emostream/runtime';
import { encodeControl } from '../codec/control.js';
import { HEADER, fail, type Decoded, type InMessage, type OutMessage } from '../codec/message.js';
import { rejection } from '../dlq.js';
import { ChunkProcessor, chunked, type ChunkCounters, type ChunkOptions } from './chunk.js';
import { createFeed, type Correlation } from './feeder.js';
import { endMessage, message, recordingLogger } from './fakes.js';

/** Test inputs: `cam/n` as the value, the camera as key; `bad` values are malformed. */
interface In { cam: string; n: number; ms: number }
interface Out { cam: string; text: string }
const decode = (m: InMessage): Decoded<In> => {
  const v = m.value!.toString();
  if (v === 'bad') return fail('malformed', 'not a number');
  const [cam, n, ms] = v.split('/');
  return { ok: true, value: { cam, n: Number(n), ms: Number(ms ?? 0) } };
};
const encode = (o: Out): OutMessage => ({ key: o.cam, value: Buffer.from(o.text), headers: {} });
const texts = (ms: OutMessage[]) => ms.map((m) => `${m.key}:${m.value.toString()}${m.headers[HEADER.kind] ? `(${String(m.headers[HEADER.kind])})` : ''}`);

function counters(): ChunkCounters { return { consumed: 0, deadLetters: 0, controls: 0, shed: 0 }; }

function fakeMetrics() {
  const calls: Array<[string, Record<string, string>]> = [];
  const metrics = {
    framesDropped: { inc: (l: Record<string, string>) => calls.push(['framesDropped', l]) },
    deadLetters: { inc: (l: Record<string, string>) => calls.push(['deadLetters', l]) },
  } as unknown as Pick<PipelineMetrics, 'framesDropped' | 'deadLetters'>;
  return { metrics, calls };
}

function processor(mode: Correlation<In, Out>['mode'], over: Partial<ChunkOptions<In, Out>> & { operator?: OperatorFunction<In, Out> } = {}) {
  const log = recordingLogger();
  const stats = counters();
  const timeline: string[] = [];
  // Per input: one output after `ms` (keyed), or at once.
  const operator = over.operator ?? mergeMap((i: In) => of({ cam: i.cam, text: `out${i.n}` }).pipe(delay(i.ms)));
  const correlation: Correlation<In, Out> = mode === 'keyed'
    ? { mode, inputKey: (i) => `${i.cam}/${i.n}`, outputKey: (o) => `${o.cam}/${o.text.slice(3)}` }
    : { mode };
  const feed = createFeed(operator, correlation, log);
  const p = new ChunkProcessor<In, Out>({
    stage: 'test', outputTopic: 'out', dlqTopic: 'out.dlq', decode, encode, mode,
    feed: (item) => { timeline.push(`push ${item.cam}/${item.n}`); return feed.feed(item); },
    stats, log, ...over,
  });
  return { p, stats, log, timeline, feed };
}

const part = { topic: 'in', partition: 3 };

for (const mode of ['each', 'keyed'] as const) {
  test(`${mode}: outputs in input order, a control message in its place (outputs arriving out of order)`, async () => {
    // Later inputs are answered first (keyed: all in flight at once; each: one after another anyway).
    const { p, stats } = processor(mode);
    const r = await p.process(part, [
      message(10, 'c1', 'c1/1/30'), message(11, 'c1', 'c1/2/10'), endMessage(12, 'c1'), message(13, 'c1', 'c1/3/0'),
    ], 0);
    assert.deepEqual(texts(r.batches[0].messages), ['c1:out1', 'c1:out2', 'c1:(end)', 'c1:out3']);
    assert.deepEqual(r.batches[0].messages[2], encodeControl({ type: 'end', cameraId: 'c1' }));
    assert.equal(r.batches[0].topic, 'out');
    assert.deepEqual(r.batches[1], { topic: 'out.dlq', messages: [] });
    assert.deepEqual(r.inputs, [{ cam: 'c1', n: 1, ms: 30 }, { cam: 'c1', n: 2, ms: 10 }, { cam: 'c1', n: 3, ms: 0 }]);
    assert.deepEqual(r.controls, [{ type: 'end', cameraId: 'c1' }]);
    assert.equal(r.outputs, 4);
    assert.deepEqual(stats, { consumed: 4, deadLetters: 0, controls: 1, shed: 0 });
  });
}

test('keyed: onControl runs only once the outputs of the inputs before it are in, its outputs in its place', async () => {
  const timeline: string[] = [];
  const operator = mergeMap((i: In) => of({ cam: i.cam, text: `out${i.n}` }).pipe(delay(i.ms), tap((o) => timeline.push(`emit ${o.text}`))));
  const { p } = processor('keyed', {
    operator,
    onControl: (c) => { timeline.push(`control ${c.cameraId}`); return [{ cam: c.cameraId, text: 'closed' }]; },
  });
  const r = await p.process(part, [message(1, 'a', 'a/1/20'), endMessage(2, 'a'), message(3, 'a', 'a/2/0')], 0);
  assert.deepEqual(texts(r.batches[0].messages), ['a:out1', 'a:closed', 'a:out2']);
  // out2 is emitted before the control runs (it is not before it in the chunk), out1 is.
  assert.deepEqual(timeline, ['emit out2', 'emit out1', 'control a']);
});

test('each: onControl runs once the input before it is done; its outputs in its place (the next push does not wait for it)', async () => {
  const { p, timeline } = processor('each', {
    onControl: (c) => { timeline.push(`control ${c.cameraId}`); return [{ cam: c.cameraId, text: 'closed' }, { cam: c.cameraId, text: 'again' }]; },
  });
  const r = await p.process(part, [message(1, 'a', 'a/1/5'), endMessage(2, 'a'), message(3, 'a', 'a/2/0')], 0);
  assert.deepEqual(texts(r.batches[0].messages), ['a:out1', 'a:closed', 'a:again', 'a:out2']);
  // Only a sync stage waits for the hook before the next push: here it runs (a microtask later)
  // after a/2 was pushed, which is harmless for a stateless stage; the output order is kept.
  assert.deepEqual(timeline, ['push a/1', 'push a/2', 'control a']);
});

test('sync: the control hook runs between the pushes around it; its outputs in its place', async () => {
  const events: string[] = [];
  const operator = mergeMap((i: In) => { events.push(`state sees ${i.n}`); return [{ cam: i.cam, text: `ev${i.n}a` }, { cam: i.cam, text: `ev${i.n}b` }]; });
  const { p } = processor('sync', {
    operator,
    onControl: (c) => { events.push(`end ${c.cameraId}`); return [{ cam: c.cameraId, text: 'left' }]; },
  });
  const r = await p.process(part, [message(1, 'a', 'a/1'), message(2, 'b', 'b/2'), endMessage(3, 'a'), message(4, 'a', 'a/3')], 0);
  assert.deepEqual(texts(r.batches[0].messages), ['a:ev1a', 'a:ev1b', 'b:ev2a', 'b:ev2b', 'a:left', 'a:ev3a', 'a:ev3b']);
  assert.deepEqual(events, ['state sees 1', 'state sees 2', 'end a', 'state sees 3']);
});

test('a control message without onControl is passed on as received', async () => {
  const { p, stats } = processor('sync', { operator: mergeMap((i: In) => [{ cam: i.cam, text: `x${i.n}` }]) });
  const r = await p.process(part, [endMessage(1, 'cam-9'), message(2, 'cam-9', 'cam-9/1')], 0);
  assert.deepEqual(r.batches[0].messages, [
    { key: 'cam-9', value: Buffer.alloc(0), headers: { [HEADER.schema]: r.batches[0].messages[0].headers[HEADER.schema], [HEADER.kind]: 'end', [HEADER.camera]: 'cam-9' } },
    { key: 'cam-9', value: Buffer.from('x1'), headers: {} },
  ]);
  assert.equal(stats.controls, 1);
});

test('an end marker without a valid camera id (another producer\'s) is a counted dead letter, never passed on', async () => {
  const { metrics, calls } = fakeMetrics();
  const { p, stats } = processor('sync', { operator: mergeMap((i: In) => [{ cam: i.cam, text: `x${i.n}` }]), metrics, onControl: () => assert.fail('no control hook') });
  const r = await p.process(part, [endMessage(1, 'cam 9'), message(2, 'a', 'a/1'), message(3, null, '', { [HEADER.kind]: 'end' })], 0);
  assert.deepEqual(texts(r.batches[0].messages), ['a:x1']);
  assert.deepEqual(r.batches[1].messages.map((m) => [m.headers[HEADER.dlqReason], m.headers[HEADER.dlqDetail], m.headers[HEADER.dlqOffset]]), [
    ['malformed', 'end marker with camera id "cam 9": a camera id is 1-64 characters of A-Z a-z 0-9 . _ -', '1'],
    ['malformed', 'end marker with no camera: a camera id is 1-64 characters of A-Z a-z 0-9 . _ -', '3'],
  ]);
  assert.deepEqual(r.controls, []);
  assert.deepEqual(stats, { consumed: 3, deadLetters: 2, controls: 0, shed: 0 });
  assert.deepEqual(calls, [['deadLetters', { stage: 'test', reason: 'malformed' }], ['deadLetters', { stage: 'test', reason: 'malformed' }]]);
});

test('a message that does not decode goes to the dead-letter topic, counted and logged; the others go on', async () => {
  const { metrics, calls } = fakeMetrics();
  const { p, stats, log } = processor('sync', { operator: mergeMap((i: In) => [{ cam: i.cam, text: `x${i.n}` }]), metrics });
  const r = await p.process(part, [message(7, 'a', 'a/1'), message(8, 'b', 'bad', { [HEADER.kind]: 'emotions', other: 'kept' }), message(9, 'a', 'a/2')], 0);
  assert.deepEqual(texts(r.batches[0].messages), ['a:x1', 'a:x2']);
  assert.deepEqual(r.batches[1], {
    topic: 'out.dlq',
    messages: [{
      key: 'b', value: Buffer.from('bad'),
      headers: {
        [HEADER.kind]: 'emotions', other: 'kept',
        [HEADER.dlqReason]: 'malformed', [HEADER.dlqDetail]: 'not a number', [HEADER.dlqStage]: 'test',
        [HEADER.dlqTopic]: 'in', [HEADER.dlqPartition]: '3', [HEADER.dlqOffset]: '8',
      },
    }],
  });
  assert.equal(r.outputs, 3);
  assert.deepEqual(r.inputs.map((i) => i.n), [1, 2]);
  assert.deepEqual(stats, { consumed: 3, deadLetters: 1, controls: 0, shed: 0 });
  assert.deepEqual(calls, [['deadLetters', { stage: 'test', reason: 'malformed' }]]);
  assert.deepEqual(log.lines, [{
    level: 'warn', msg: 'message sent to the dead-letter topic',
    fields: { reason: 'malformed', detail: 'not a number', topic: 'in', partition: 3, offset: '8' },
  }]);
});

for (const mode of ['each', 'keyed'] as const) {
  test(`${mode}: an input the operator rejects goes to the dead-letter topic with its reason, in offset order; the others' outputs go on`, async () => {
    const { metrics, calls } = fakeMetrics();
    // Inputs with n = 0 mod 3 are rejected (keyed: the rejection carries the key, as the classifier's does).
    const operator = mergeMap((i: In) => of(i.n % 3 === 0
      ? { ...rejection('classify_error', `input ${i.n} failed`), cam: i.cam, text: `out${i.n}` }
      : { cam: i.cam, text: `out${i.n}` }).pipe(delay(i.ms))) as OperatorFunction<In, Out>;
    const { p, stats, log } = processor(mode, { operator, metrics });
    const r = await p.process(part, [message(10, 'a', 'a/1/5'), message(11, 'a', 'a/3/9'), message(12, 'b', 'bad'), message(13, 'a', 'a/6/1'), message(14, 'a', 'a/7/0')], 0);
    assert.deepEqual(texts(r.batches[0].messages), ['a:out1', 'a:out7'], 'no output in place of a rejected input');
    assert.deepEqual(r.batches[1].messages.map((m) => [m.value.toString(), m.headers[HEADER.dlqReason], m.headers[HEADER.dlqDetail], m.headers[HEADER.dlqOffset]]), [
      ['a/3/9', 'classify_error', 'input 3 failed', '11'], ['bad', 'malformed', 'not a number', '12'], ['a/6/1', 'classify_error', 'input 6 failed', '13'],
    ]);
    assert.equal(r.outputs, 5);
    assert.deepEqual(stats, { consumed: 5, deadLetters: 3, controls: 0, shed: 0 });
    assert.deepEqual(calls.map(([, l]) => l.reason).sort(), ['classify_error', 'classify_error', 'malformed']);
    assert.equal(log.lines.filter((l) => l.msg === 'message sent to the dead-letter topic').length, 3);
  });
}

test('shedding: a stale live frame is skipped before decoding (counted by reason); frames `applies` refuses never are', async () => {
  const { metrics, calls } = fakeMetrics();
  const decoded: string[] = [];
  const { p, stats, timeline } = processor('each', {
    metrics,
    shed: { afterLag: 10, maxAgeMs: 1_000, activeMs: 60_000, headroom: 0.25, applies: (m) => m.headers?.[HEADER.live] === '1' },
    decode: (m) => { decoded.push(m.value!.toString()); return decode(m); },
  });
  assert.equal(p.sheds, true);
  const old = String(Date.now() - 60_000);
  const r = await p.process(part, [
    message(1, 'cam', 'cam/1', { [HEADER.live]: '1' }, old), // 100 waiting behind it: behind, and a minute old: stale
    message(2, 'cam', 'cam/2', {}, old), // a file frame: never shed
  ], 100);
  assert.deepEqual(texts(r.batches[0].messages), ['cam:out2']);
  assert.deepEqual(decoded, ['cam/2']);
  assert.deepEqual(timeline, ['push cam/2']);
  assert.deepEqual(stats, { consumed: 2, deadLetters: 0, controls: 0, shed: 1 });
  assert.deepEqual(calls, [['framesDropped', { camera: 'cam', reason: 'stale' }]]);
  assert.equal(r.outputs, 1);
});

test('shedding: of a live camera\'s frames fetched together only the newest is processed; other cameras\' and file frames are not skipped', async () => {
  const { metrics, calls } = fakeMetrics();
  const { p, stats, timeline } = processor('each', {
    metrics, shed: { afterLag: 1_000, maxAgeMs: 0, activeMs: 60_000, headroom: 0.25, applies: (m) => m.headers?.[HEADER.live] === '1' },
  });
  const now = String(Date.now());
  const live = { [HEADER.live]: '1' };
  const batch = [
    message(10, 'a', 'a/1', live, now), message(11, 'b', 'b/1', live, now), message(12, 'a', 'a/2', live, now),
    message(13, 'f', 'f/1', {}, now), message(14, 'f', 'f/2', {}, now), message(15, 'a', 'a/3', live, now),
  ];
  const newest = p.newestLive(batch);
  assert.deepEqual([...newest], [['a', 15n], ['b', 11n]]);
  // The batch in two chunks: the first one's a/1 and a/2 know of a/3 in the second.
  const first = await p.process(part, batch.slice(0, 3), 3, newest);
  const second = await p.process(part, batch.slice(3), 0, newest);
  assert.deepEqual(texts(first.batches[0].messages), ['b:out1']);
  assert.deepEqual(texts(second.batches[0].messages), ['f:out1', 'f:out2', 'a:out3']);
  assert.deepEqual(timeline, ['push b/1', 'push f/1', 'push f/2', 'push a/3']);
  assert.equal(stats.shed, 2);
  assert.deepEqual(calls, [['framesDropped', { camera: 'a', reason: 'overload' }], ['framesDropped', { camera: 'a', reason: 'overload' }]]);
  assert.equal(processor('each').p.newestLive(batch).size, 0, 'without shedding nothing is superseded');
});

test('shedding: a live frame keyed by no valid camera id is never shed (no metric label from its key), it is decoded', async () => {
  const { metrics, calls } = fakeMetrics();
  const { p, stats } = processor('each', { metrics, shed: { afterLag: 10, maxAgeMs: 1_000, activeMs: 60_000, headroom: 0.25, applies: () => true } });
  const old = String(Date.now() - 60_000);
  const r = await p.process(part, [message(1, 'a{b="c"}', 'cam/1', {}, old), message(2, 'cam', 'cam/2', {}, old)], 100);
  assert.deepEqual(texts(r.batches[0].messages), ['cam:out1']);
  assert.deepEqual(stats, { consumed: 2, deadLetters: 0, controls: 0, shed: 1 });
  assert.deepEqual(calls, [['framesDropped', { camera: 'cam', reason: 'stale' }]]);
});

test('without shed options nothing is shed', async () => {
  const { p, stats } = processor('each');
  assert.equal(p.sheds, false);
  const r = await p.process(part, [message(1, 'cam', 'cam/1', { [HEADER.live]: '1' }, '0')], 10_000);
  assert.deepEqual(texts(r.batches[0].messages), ['cam:out1']);
  assert.equal(stats.shed, 0);
});

test('an operator error rejects the chunk', async () => {
  const boom = new Error('bad');
  const { p } = processor('each', { operator: mergeMap(() => { throw boom; }) });
  await assert.rejects(p.process(part, [message(1, 'a', 'a/1')], 0), (e) => e === boom);
});

test('chunked splits in runs of n, the last one shorter', () => {
  assert.deepEqual(chunked([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
  assert.deepEqual(chunked([1, 2], 32), [[1, 2]]);
  assert.deepEqual(chunked([], 3), []);
});

test('shedding, partitions processed at once: a message counts for its share of the stage\'s time (its time over the messages in flight with it)', async () => {
  const shed = { afterLag: 1_000, maxAgeMs: 0, activeMs: 60_000, headroom: 0.25, applies: () => true };
  const now = String(Date.now());
  const chunk = (cam: string) => Array.from({ length: 4 }, (_, k) => message(k, cam, `${cam}/${k}/40`, {}, now));
  // One partition at a time: each message took about 40 ms of the stage.
  const alone = processor('each', { shed });
  await alone.p.process(part, chunk('a'), 0);
  const one = alone.p.shedTimePerMessageMs!;
  assert.ok(one >= 35 && one < 80, `alone: ${one} ms`);
  // Two partitions at once, each message 40 ms while the other partition's is in flight: 20 ms each.
  const both = processor('each', { shed });
  await Promise.all([both.p.process(part, chunk('a'), 0), both.p.process({ topic: 'in', partition: 4 }, chunk('b'), 0)]);
  const two = both.p.shedTimePerMessageMs!;
  assert.ok(two >= 17 && two < 0.75 * one, `two partitions: ${two} ms against ${one} ms alone`);
  assert.equal(processor('each').p.shedTimePerMessageMs, undefined);
});
