/** runStage driven through in-memory kafkajs fakes: eachBatch called directly with synthetic batches. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeMap, type OperatorFunction } from 'rxjs';
import { StageError } from '../errors.js';
import { HEADER } from '../codec/message.js';
import type { Correlation } from '../runStage.js';
import { batchOf, controlledOperator, endMessage, message, settle } from './fakes.js';
import { delayed, keyedBy, sentBy, start, type In, type Out } from './harness.js';

test('start: producer, consumer and subscription as configured; ready once in the group', async () => {
  const { kafka, stage, consumer } = await start();
  assert.deepEqual(kafka.calls, ['producer0.connect', 'consumer.connect', 'consumer.subscribe', 'consumer.run']);
  assert.deepEqual(consumer.config, {
    groupId: 'grp', sessionTimeout: 30_000, heartbeatInterval: 3_000, maxBytesPerPartition: 1024 * 1024, maxBytes: 32 * 1024 * 1024,
    allowAutoTopicCreation: false, readUncommitted: false,
  });
  assert.deepEqual(consumer.subscribed, { topics: ['in'], fromBeginning: true });
  const { eachBatch: _e, ...run } = consumer.runConfig!;
  assert.deepEqual(run, { partitionsConsumedConcurrently: 1, eachBatchAutoResolve: false, autoCommit: true, autoCommitInterval: 1_000 });
  assert.equal(kafka.producers[0].config.transactionalId, undefined);
  assert.equal(stage.producer as unknown, kafka.producers[0]);
  assert.deepEqual(stage.ready(), { ok: false, reasons: ['not in consumer group grp yet'] });
  consumer.join({ in: [0, 1] });
  assert.deepEqual(stage.ready(), { ok: true, reasons: [] });
  consumer.crash(new Error('rebalance'), true);
  assert.deepEqual(stage.ready(), { ok: false, reasons: ['not in consumer group grp: the consumer is restarting (out for 0 s, 1 crash(es); last: rebalance)'] });
  consumer.join({ in: [0, 1] });
  assert.deepEqual(stage.ready(), { ok: true, reasons: [] });
});

test('at-least-once: each chunk is produced, then its offsets resolved and committed; dead letters and controls count as consumed', async () => {
  const { kafka, stage, consumer } = await start({ chunkSize: 2 });
  consumer.join({ in: [0] });
  const r = consumer.drive(batchOf('in', 0, [message(10, 'a', 'a/1'), message(11, 'a', 'bad'), endMessage(12, 'a'), message(13, 'a', 'a/2'), message(14, 'a', 'a/3')]));
  await r.done;
  assert.deepEqual(kafka.calls.slice(4), [
    'producer0.sendBatch', 'resolve 10', 'resolve 11', 'commitOffsetsIfNecessary',
    'producer0.sendBatch', 'resolve 12', 'resolve 13', 'commitOffsetsIfNecessary',
    'producer0.sendBatch', 'resolve 14', 'commitOffsetsIfNecessary',
  ]);
  assert.deepEqual(sentBy(kafka), ['out:a:out1', 'out.dlq:a:bad', 'out:a:', 'out:a:out2', 'out:a:out3']);
  assert.equal(r.heartbeats, 4, "one before the first chunk (still in the group?), one after each");
  assert.deepEqual(stage.stats, { consumed: 5, produced: 5, deadLetters: 1, controls: 1, shed: 0, chunks: 3, transactionsAborted: 0, resyncs: 0, replaysSkipped: 0, stalls: 0 });
});

for (const mode of ['each', 'keyed', 'sync'] as const) {
  test(`${mode}: a control message's outputs come after those of the inputs before it and before those after it`, async () => {
    const calls: string[] = [];
    const correlation: Correlation<In, Out> = mode === 'keyed' ? keyedBy : { mode };
    // sync outputs must come during the push; the others are answered later, the last input first.
    const operator: OperatorFunction<In, Out> = mode === 'sync'
      ? mergeMap((i) => { calls.push(`push ${i.n}`); return [{ cam: i.cam, text: `out${i.n}` }, { cam: i.cam, text: `out${i.n}b` }]; })
      : delayed;
    const { kafka, consumer } = await start({
      correlation, operator,
      onControl: (c) => { calls.push(`control ${c.cameraId}`); return [{ cam: c.cameraId, text: `end-of-${c.cameraId}` }]; },
    });
    consumer.join({ in: [0] });
    await consumer.drive(batchOf('in', 0, [message(0, 'a', 'a/1/20'), message(1, 'b', 'b/2/10'), endMessage(2, 'a'), message(3, 'a', 'a/3/0'), endMessage(4, 'b')])).done;
    if (mode === 'sync') {
      assert.deepEqual(sentBy(kafka), ['out:a:out1', 'out:a:out1b', 'out:b:out2', 'out:b:out2b', 'out:a:end-of-a', 'out:a:out3', 'out:a:out3b', 'out:b:end-of-b']);
      assert.deepEqual(calls, ['push 1', 'push 2', 'control a', 'push 3', 'control b']);
    } else {
      assert.deepEqual(sentBy(kafka), ['out:a:out1', 'out:b:out2', 'out:a:end-of-a', 'out:a:out3', 'out:b:end-of-b']);
      assert.deepEqual(calls, ['control a', 'control b']);
    }
  });
}

test('keyed: outputs out of order across concurrently fed inputs, an unknown output dropped and logged', async () => {
  const op = controlledOperator<In, Out>();
  const { kafka, consumer, log } = await start({ correlation: keyedBy, operator: op.operator });
  consumer.join({ in: [0] });
  const r = consumer.drive(batchOf('in', 0, [message(0, 'a', 'a/1'), message(1, 'a', 'a/2'), message(2, 'b', 'b/1')]));
  await settle();
  assert.deepEqual(op.inputs.map((i) => `${i.cam}/${i.n}`), ['a/1', 'a/2', 'b/1'], 'all pushed before any output');
  op.emit({ cam: 'b', text: 'out1' });
  op.emit({ cam: 'x', text: 'out9' });
  op.emit({ cam: 'a', text: 'out2' });
  await settle();
  assert.deepEqual(r.resolved, [], 'not done before every input has its output');
  op.emit({ cam: 'a', text: 'out1' });
  await r.done;
  assert.deepEqual(sentBy(kafka), ['out:a:out1', 'out:a:out2', 'out:b:out1']);
  assert.deepEqual(r.resolved, ['0', '1', '2']);
  assert.deepEqual(log.lines.filter((l) => l.level === 'warn'), [{ level: 'warn', msg: 'stage emitted an output no input is waiting for: dropped', fields: { key: 'x/9' } }]);
});

test('an operator that completes while the consumer runs: pending feeds reject, the batch fails unresolved and not retriable; done rejects when kafkajs stops', async () => {
  const op = controlledOperator<In, Out>();
  const { kafka, consumer, stage } = await start({ correlation: keyedBy, operator: op.operator });
  consumer.join({ in: [0] });
  const r = consumer.drive(batchOf('in', 0, [message(5, 'a', 'a/1'), message(6, 'a', 'a/2')]));
  await settle();
  op.emit({ cam: 'a', text: 'out1' });
  op.complete();
  const chunkError = (e: unknown) => {
    assert.ok(e instanceof StageError);
    assert.equal(e.message, 'test: producing the outputs of in[0]@5 failed: the stage operator completed while the consumer runs');
    // The operator is gone for good: the chunk's error is not retriable either, so kafkajs
    // crashes the consumer without restart (it restarted it for ever, the stage dead).
    assert.equal(e.retriable, false);
    assert.deepEqual(e.context, { topic: 'in', partition: 0, offset: '5' });
    assert.ok(e.cause instanceof StageError);
    assert.equal(e.cause.retriable, false);
    assert.equal(e.cause.message, 'the stage operator completed while the consumer runs');
    return true;
  };
  await assert.rejects(r.done, chunkError);
  assert.deepEqual(r.resolved, []);
  assert.equal(kafka.producers[0].sent.length, 0);
  // Redelivered: it fails at once, nothing pushed into the finished operator.
  await assert.rejects(consumer.drive(batchOf('in', 0, [message(5, 'a', 'a/1'), message(6, 'a', 'a/2')])).done, chunkError);
  assert.equal(op.inputs.length, 2);
  // `done` follows the consumer: it rejects only when kafkajs reports a crash without restart.
  let settled = false;
  stage.done.then(() => { settled = true; }, () => { settled = true; });
  await settle();
  assert.equal(settled, false);
  const cause = new Error('gave up');
  consumer.crash(cause, false);
  await assert.rejects(stage.done, (e) => e instanceof StageError && e.retriable === false && e.message === 'test: consumer stopped: gave up' && e.cause === cause);
  assert.deepEqual(stage.stats, { consumed: 4, produced: 0, deadLetters: 0, controls: 0, shed: 0, chunks: 0, transactionsAborted: 0, resyncs: 0, replaysSkipped: 0, stalls: 0 });
});

test('a rejoin reloads state (onRejoin) once before the next batch; the first join does not', async () => {
  const events: string[] = [];
  const { consumer } = await start({
    correlation: { mode: 'sync' },
    operator: mergeMap((i: In) => { events.push(`push ${i.n}`); return [{ cam: i.cam, text: 'x' }]; }),
    onRejoin: async () => { events.push('onRejoin'); },
  });
  consumer.join({ in: [0] });
  await consumer.drive(batchOf('in', 0, [message(0, 'a', 'a/1')])).done;
  consumer.join({ in: [0, 1] });
  await consumer.drive(batchOf('in', 0, [message(1, 'a', 'a/2')])).done;
  await consumer.drive(batchOf('in', 0, [message(2, 'a', 'a/3')])).done;
  assert.deepEqual(events, ['push 1', 'onRejoin', 'push 2', 'push 3']);
});

test('stop() during a chunk: the chunk finishes and is committed, the next chunk is not started, then the producer goes', async () => {
  const op = controlledOperator<In, Out>();
  const { kafka, consumer, stage } = await start({ correlation: keyedBy, operator: op.operator, chunkSize: 2 });
  consumer.join({ in: [0] });
  const r = consumer.drive(batchOf('in', 0, [message(0, 'a', 'a/1'), message(1, 'a', 'a/2'), message(2, 'a', 'a/3'), message(3, 'a', 'a/4')]));
  await settle();
  assert.equal(op.inputs.length, 2);
  let stopped = false;
  const stopping = stage.stop().then(() => { stopped = true; });
  await settle();
  assert.equal(stopped, false, 'stop waits for the chunk in progress');
  assert.equal(kafka.calls.includes('producer0.disconnect'), false);
  op.emit({ cam: 'a', text: 'out1' });
  op.emit({ cam: 'a', text: 'out2' });
  await stopping;
  await r.done;
  assert.deepEqual(kafka.calls.slice(4), [
    'consumer.disconnect', 'producer0.sendBatch', 'resolve 0', 'resolve 1', 'commitOffsetsIfNecessary', 'consumer.disconnected', 'producer0.disconnect',
  ]);
  assert.deepEqual(op.inputs.map((i) => i.n), [1, 2], 'the second chunk was never pushed');
  assert.equal(op.unsubscribed, true);
  assert.deepEqual(r.resolved, ['0', '1']);
  assert.equal(stage.stats.chunks, 1);
  await stage.stop();
  assert.equal(kafka.calls.filter((c) => c === 'consumer.disconnect').length, 1, 'a second stop does nothing');
});

test('a stale batch (after a seek) or a stopped consumer processes nothing', async () => {
  const { kafka, consumer } = await start();
  consumer.join({ in: [0] });
  const stale = consumer.drive(batchOf('in', 0, [message(0, 'a', 'a/1')]), { isStale: () => true });
  await stale.done;
  consumer.running = false;
  const stoppedRun = consumer.drive(batchOf('in', 0, [message(0, 'a', 'a/1')]));
  await stoppedRun.done;
  assert.deepEqual(kafka.calls.slice(4), []);
});

test('shedding: the batch\'s lag is read only with `shed`; a shed frame\'s offset is resolved with its chunk', async () => {
  const { kafka, consumer, stage } = await start({
    shed: { afterLag: 10, maxAgeMs: 1_000, activeMs: 60_000, headroom: 0.25, applies: (m) => m.headers?.[HEADER.live] === '1' },
  });
  consumer.join({ in: [0] });
  const old = String(Date.now() - 60_000);
  const r = consumer.drive(batchOf('in', 0, [message(0, 'a', 'a/1', { [HEADER.live]: '1' }, old), message(1, 'a', 'a/2', {}, old)], 500));
  await r.done;
  assert.deepEqual(sentBy(kafka), ['out:a:out2']);
  assert.deepEqual(r.resolved, ['0', '1']);
  assert.equal(stage.stats.shed, 1);

  const plain = await start();
  plain.consumer.join({ in: [0] });
  const batch = batchOf('in', 0, [message(0, 'a', 'a/1', { [HEADER.live]: '1' }, old)]);
  (batch as { offsetLag: () => string }).offsetLag = () => { throw new Error('offsetLag read without shed'); };
  await plain.consumer.drive(batch).done;
  assert.deepEqual(sentBy(plain.kafka), ['out:a:out1']);
});
