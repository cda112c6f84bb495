/** runStage, transactional: failing transactions, rollback, resync; through in-memory kafkajs fakes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeMap } from 'rxjs';
import { StageError } from '../errors.js';
import { batchOf, deferred, message, settle } from './fakes.js';
import { start, txSpec, type In } from './harness.js';

test('start, transactional: the producer has the transactional id; offsets are not auto-committed', async () => {
  const { kafka, consumer } = await start({ transactional: { transactionalId: 'tx-1' }, fromBeginning: false, partitionsConcurrently: 3 });
  assert.equal(kafka.producers[0].config.transactionalId, 'tx-1');
  assert.equal(consumer.runConfig!.autoCommit, false);
  assert.equal(consumer.runConfig!.partitionsConsumedConcurrently, 3);
  assert.deepEqual(consumer.subscribed, { topics: ['in'], fromBeginning: false });
});

test('a sync operator that errors: the chunk fails (not retriable: the operator is gone) with the error as cause, state rolled back to the checkpoint', async () => {
  const boom = new Error('state machine broke');
  const rollbacks: unknown[] = [];
  let n = 0;
  const { consumer, kafka } = await start({
    correlation: { mode: 'sync' },
    operator: mergeMap((i: In) => { if (i.n === 2) throw boom; return [{ cam: i.cam, text: `e${i.n}` }]; }),
    transactional: { transactionalId: 't', checkpoint: () => `cp${++n}`, rollback: (c) => rollbacks.push(c) },
  });
  consumer.join({ in: [0] });
  await assert.rejects(consumer.drive(batchOf('in', 0, [message(0, 'a', 'a/1'), message(1, 'a', 'a/2')])).done, (e) => e instanceof StageError && e.cause === boom && e.retriable === false);
  assert.deepEqual(rollbacks, ['cp1']);
  assert.deepEqual(kafka.calls.slice(4), [], 'no transaction was begun');
});

test('transactional: a send that fails is aborted, the state rolled back, the chunk error thrown; the next batch goes on without resync', async () => {
  const t = txSpec();
  const onRejoin = async () => { t.events.push('onRejoin'); };
  const { kafka, consumer, stage, log } = await start({ correlation: { mode: 'sync' }, operator: mergeMap((i: In) => [{ cam: i.cam, text: `e${i.n}` }]), transactional: t.transactional, onRejoin });
  consumer.join({ in: [0] });
  kafka.producers[0].fail.send = new Error('NOT_ENOUGH_REPLICAS');
  const r = consumer.drive(batchOf('in', 0, [message(7, 'a', 'a/1'), message(8, 'a', 'a/2')]));
  await assert.rejects(r.done, (e) => {
    assert.ok(e instanceof StageError);
    assert.equal(e.message, 'test: producing the outputs of in[0]@7 failed: NOT_ENOUGH_REPLICAS');
    assert.equal(e.retriable, true);
    assert.equal((e.cause as Error).message, 'NOT_ENOUGH_REPLICAS');
    return true;
  });
  assert.deepEqual(kafka.calls.slice(4), ['producer0.transaction', 'producer0.tx.send', 'producer0.tx.abort']);
  assert.deepEqual(t.events, ['checkpoint 0', 'rollback 0']);
  assert.equal(t.state(), 0);
  assert.deepEqual(r.resolved, []);
  assert.equal(r.commits, 0);
  assert.deepEqual(stage.stats, { consumed: 2, produced: 0, deadLetters: 0, controls: 0, shed: 0, chunks: 0, transactionsAborted: 1, resyncs: 0, replaysSkipped: 0, stalls: 0 });
  assert.deepEqual(log.lines.find((l) => l.msg === 'chunk failed: it will be delivered again')?.fields,
    { topic: 'in', partition: 0, firstOffset: '7', error: 'NOT_ENOUGH_REPLICAS' });
  // Redelivered and produced this time: same producer, no resync, no reload.
  delete kafka.producers[0].fail.send;
  kafka.calls.length = 0;
  const again = consumer.drive(batchOf('in', 0, [message(7, 'a', 'a/1'), message(8, 'a', 'a/2')]));
  await again.done;
  assert.deepEqual(kafka.calls, ['producer0.transaction', 'producer0.tx.send', 'producer0.tx.sendOffsets', 'producer0.tx.commit', 'resolve 7', 'resolve 8']);
  assert.deepEqual(kafka.producers[0].offsetsSent, [{ consumerGroupId: 'grp', topics: [{ topic: 'in', partitions: [{ partition: 0, offset: '9' }] }] }]);
  assert.equal(again.commits, 0, 'offsets go in the transaction, never commitOffsetsIfNecessary');
  assert.equal(again.heartbeats, 2);
  assert.deepEqual(t.events, ['checkpoint 0', 'rollback 0', 'checkpoint 0']);
  assert.equal(t.state(), 2);
  assert.equal(kafka.producers.length, 1);
});

for (const failing of ['commit', 'abort'] as const) {
  test(`transactional: a failed ${failing} leaves the outcome unknown: the next batch resyncs (new producer, onRejoin, seek to committed offsets or the low watermark) instead of processing`, async () => {
    const t = txSpec();
    const onRejoin = async () => { t.events.push('onRejoin'); };
    const { kafka, consumer, stage } = await start({ correlation: { mode: 'sync' }, operator: mergeMap((i: In) => [{ cam: i.cam, text: `e${i.n}` }]), transactional: t.transactional, onRejoin });
    consumer.join({ in: [0, 1, 2] });
    if (failing === 'commit') kafka.producers[0].fail.commit = new Error('timed out');
    else { kafka.producers[0].fail.send = new Error('timed out'); kafka.producers[0].fail.abort = new Error('abort timed out'); }
    const first = consumer.drive(batchOf('in', 1, [message(20, 'a', 'a/1')]));
    await assert.rejects(first.done, /test: producing the outputs of in\[1\]@20 failed: timed out/);
    assert.deepEqual(first.resolved, []);
    assert.deepEqual(t.events, ['checkpoint 0', 'rollback 0']);

    kafka.adminInstance.committed = [{ partition: 0, offset: '12' }, { partition: 1, offset: failing === 'commit' ? '21' : '20' }, { partition: 2, offset: '-1' }];
    kafka.adminInstance.ends = [{ partition: 0, offset: '50', high: '50', low: '0' }, { partition: 1, offset: '50', high: '50', low: '0' }, { partition: 2, offset: '9', high: '9', low: '4' }];
    kafka.calls.length = 0;
    const second = consumer.drive(batchOf('in', 1, [message(20, 'a', 'a/1')]));
    await second.done;
    assert.deepEqual(kafka.calls, [
      'producer0.disconnect', 'producer1.connect', 'admin.connect', 'admin.fetchOffsets', 'admin.fetchTopicOffsets',
      'consumer.seek 0@12', `consumer.seek 1@${failing === 'commit' ? '21' : '20'}`, 'consumer.seek 2@4', 'admin.disconnect',
    ]);
    assert.deepEqual(consumer.seeks.map((s) => s.topic), ['in', 'in', 'in']);
    assert.deepEqual(t.events, ['checkpoint 0', 'rollback 0', 'onRejoin']);
    assert.equal(kafka.producers[1].config.transactionalId, 'agg-tx');
    assert.equal(stage.producer as unknown, kafka.producers[1]);
    assert.deepEqual(second.resolved, [], 'the batch in hand is stale after the seeks: not processed');
    assert.equal(stage.stats.resyncs, 1);
    assert.equal(stage.stats.transactionsAborted, 1);

    // The next batch is processed by the new producer, without another reload.
    kafka.calls.length = 0;
    const third = consumer.drive(batchOf('in', 1, [message(20, 'a', 'a/1')]));
    await third.done;
    assert.deepEqual(kafka.calls, ['producer1.transaction', 'producer1.tx.send', 'producer1.tx.sendOffsets', 'producer1.tx.commit', 'resolve 20']);
    assert.deepEqual(t.events, ['checkpoint 0', 'rollback 0', 'onRejoin', 'checkpoint 0']);
  });
}

test('transactional: a resync that fails is retried on the next batch', async () => {
  const t = txSpec();
  const { kafka, consumer, stage } = await start({ correlation: { mode: 'sync' }, operator: mergeMap((i: In) => [{ cam: i.cam, text: `e${i.n}` }]), transactional: t.transactional });
  consumer.join({ in: [0] });
  kafka.producers[0].fail.commit = new Error('timed out');
  await assert.rejects(consumer.drive(batchOf('in', 0, [message(0, 'a', 'a/1')])).done);
  kafka.adminInstance.fail = new Error('broker away');
  await assert.rejects(consumer.drive(batchOf('in', 0, [message(0, 'a', 'a/1')])).done, /broker away/);
  assert.equal(stage.stats.resyncs, 0);
  kafka.adminInstance.fail = undefined;
  const r = consumer.drive(batchOf('in', 0, [message(0, 'a', 'a/1')]));
  await r.done;
  assert.equal(stage.stats.resyncs, 1);
  assert.deepEqual(r.resolved, []);
  assert.deepEqual(consumer.seeks, [{ topic: 'in', partition: 0, offset: '0' }]);
  assert.equal(stage.producer as unknown, kafka.producers[2]);
});

test('stop() during a transactional chunk whose commit fails: nothing resolved, the error is the batch\'s; stop still completes', async () => {
  const t = txSpec();
  const { kafka, consumer, stage } = await start({ correlation: { mode: 'sync' }, operator: mergeMap((i: In) => [{ cam: i.cam, text: `e${i.n}` }]), transactional: t.transactional, chunkSize: 1 });
  consumer.join({ in: [0] });
  const gate = deferred();
  kafka.producers[0].gate = gate.promise;
  kafka.producers[0].fail.commit = new Error('broker gone');
  const r = consumer.drive(batchOf('in', 0, [message(0, 'a', 'a/1'), message(1, 'a', 'a/2')]));
  await settle();
  const stopping = stage.stop();
  gate.resolve();
  await assert.rejects(r.done, /broker gone/);
  await stopping;
  assert.deepEqual(r.resolved, []);
  assert.deepEqual(kafka.calls.slice(4), [
    'producer0.transaction', 'consumer.disconnect', 'producer0.tx.send', 'producer0.tx.sendOffsets', 'producer0.tx.commit',
    'consumer.disconnected', 'producer0.disconnect',
  ]);
  assert.deepEqual(t.events, ['checkpoint 0', 'rollback 0']);
});

/** kafkajs's own decision after eachBatch throws (consumer/index.js): it restarts the consumer only when the root cause is retriable. */
const kafkajsRestarts = (e: Error): boolean => {
  let root = e as Error & { cause?: unknown; retriable?: boolean };
  while (root.cause) root = root.cause as typeof root;
  return e.name === 'KafkaJSNumberOfRetriesExceeded' || root.retriable === true;
};

for (const abortFails of [true, false]) {
  test(`transactional: the broker expired the open transaction (INVALID_PRODUCER_EPOCH after a partition; abort ${abortFails ? 'failing too' : 'answered'}): kafkajs restarts the consumer, the next batch resyncs`, async () => {
    const t = txSpec();
    const { kafka, consumer, stage } = await start({ correlation: { mode: 'sync' }, operator: mergeMap((i: In) => [{ cam: i.cam, text: `e${i.n}` }]), transactional: t.transactional });
    consumer.join({ in: [0] });
    // As kafkajs reports it: a KafkaJSProtocolError, not retriable.
    const epoch = Object.assign(new Error('Producer attempted an operation with an old epoch. Either there is a newer producer with the same transactionalId, or the producer\'s transaction has been expired by the broker'),
      { name: 'KafkaJSProtocolError', type: 'INVALID_PRODUCER_EPOCH', code: 47, retriable: false });
    kafka.producers[0].fail.send = epoch;
    if (abortFails) kafka.producers[0].fail.abort = Object.assign(new Error('Cannot continue to use transaction once ended'), { name: 'KafkaJSNonRetriableError', retriable: false });
    const first = consumer.drive(batchOf('in', 0, [message(5, 'a', 'a/1')]));
    await assert.rejects(first.done, (e) => {
      assert.ok(e instanceof StageError);
      assert.equal(e.message, 'test: producing the outputs of in[0]@5 failed: Producer attempted an operation with an old epoch. Either there is a newer producer with the same transactionalId, or the producer\'s transaction has been expired by the broker (producer, state and offsets are reloaded before the next batch)');
      assert.equal(e.retriable, true);
      assert.equal(e.context.error, 'INVALID_PRODUCER_EPOCH');
      assert.equal(kafkajsRestarts(e), true, 'before: the root cause (not retriable) made kafkajs stop the consumer, and the service exit');
      return true;
    });
    kafka.adminInstance.committed = [{ partition: 0, offset: '5' }];
    kafka.adminInstance.ends = [{ partition: 0, offset: '9', high: '9', low: '0' }];
    await consumer.drive(batchOf('in', 0, [message(5, 'a', 'a/1')])).done;
    assert.equal(stage.stats.resyncs, 1);
    assert.equal(kafka.producers.length, 2, 'a new producer: its InitProducerId gets a fresh epoch');
    await consumer.drive(batchOf('in', 0, [message(5, 'a', 'a/1')])).done;
    assert.equal(kafka.producers[1].commits, 1);
  });
}

for (const [type, why] of [['MESSAGE_TOO_LARGE', 'a message too large'], ['PRODUCER_FENCED', 'another live producer took the transactional id']] as const) {
  test(`transactional: a failure that a resync does not cure (${why}) keeps its cause: kafkajs stops, the service exits`, async () => {
    const { kafka, consumer } = await start({ correlation: { mode: 'sync' }, operator: mergeMap((i: In) => [{ cam: i.cam, text: `e${i.n}` }]), transactional: txSpec().transactional });
    consumer.join({ in: [0] });
    const error = Object.assign(new Error(`the broker says ${type}`), { name: 'KafkaJSProtocolError', type, retriable: false });
    kafka.producers[0].fail.send = error;
    await assert.rejects(consumer.drive(batchOf('in', 0, [message(5, 'a', 'a/1')])).done, (e) => e instanceof StageError && e.cause === error && !kafkajsRestarts(e));
  });
}
