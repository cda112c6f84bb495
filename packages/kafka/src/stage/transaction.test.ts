import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkProducer, type ResyncTarget, type TransactionalOptions } from './transaction.js';
import { FakeKafka, recordingLogger } from './fakes.js';

interface In { n: number }
const out = (key: string, v: string) => ({ key, value: Buffer.from(v), headers: {} });
const chunk = {
  batches: [{ topic: 'out', messages: [out('a', 'o1'), out('a', 'o2')] }, { topic: 'out.dlq', messages: [out('b', 'bad')] }],
  inputs: [{ n: 1 }, { n: 2 }],
  controls: [{ type: 'end' as const, cameraId: 'a' }],
};
const at = { topic: 'in', partition: 2, lastOffset: '41' };

function setup(transactional?: TransactionalOptions<In>) {
  const kafka = new FakeKafka();
  const stats = { transactionsAborted: 0, resyncs: 0 };
  const log = recordingLogger();
  const p = new ChunkProducer<In>({ kafka: kafka.asKafka, groupId: 'grp', inputTopic: 'in', maxBytesPerSend: 1_000_000, transactional, stats, log });
  return { kafka, stats, log, p };
}
const flat = (topicMessages: Array<{ topic: string; messages: Array<{ value: Buffer }> }>) => topicMessages.map((t) => `${t.topic}:${t.messages.map((m) => m.value.toString()).join(',')}`);

test('at-least-once: the chunk is sent plainly, outputs then dead letters', async () => {
  const { kafka, p } = setup();
  assert.deepEqual(kafka.producers[0].config.transactionalId, undefined);
  await p.produce(chunk, at);
  assert.equal(kafka.producers[0].sent.length, 1);
  assert.equal(kafka.producers[0].sent[0].via, 'producer');
  assert.deepEqual(flat(kafka.producers[0].sent[0].topicMessages), ['out:o1,o2', 'out.dlq:bad']);
  assert.deepEqual(kafka.calls, ['producer0.sendBatch']);
  assert.equal(p.resyncPending, false);
});

test('transactional: outputs, extra and the next offset in one committed transaction', async () => {
  const seen: unknown[] = [];
  const { kafka, p, stats } = setup({
    transactionalId: 'agg-tx',
    extra: (inputs, controls) => { seen.push(inputs, controls); return [{ topic: 'state', messages: [out('a', 's')] }]; },
  });
  const producer = kafka.producers[0];
  assert.equal(producer.config.transactionalId, 'agg-tx');
  await p.produce(chunk, at);
  assert.deepEqual(seen, [chunk.inputs, chunk.controls]);
  assert.deepEqual(kafka.calls, ['producer0.transaction', 'producer0.tx.send', 'producer0.tx.sendOffsets', 'producer0.tx.commit']);
  assert.equal(producer.sent[0].via, 'transaction');
  assert.deepEqual(flat(producer.sent[0].topicMessages), ['out:o1,o2', 'out.dlq:bad', 'state:s']);
  assert.deepEqual(producer.offsetsSent, [{ consumerGroupId: 'grp', topics: [{ topic: 'in', partitions: [{ partition: 2, offset: '42' }] }] }]);
  assert.equal(producer.commits, 1);
  assert.deepEqual(stats, { transactionsAborted: 0, resyncs: 0 });
  assert.equal(p.resyncPending, false);
});

test('transactional: a send that fails is aborted, counted, and thrown; no resync needed', async () => {
  const { kafka, p, stats } = setup({ transactionalId: 't' });
  const boom = new Error('NOT_LEADER');
  kafka.producers[0].fail.send = boom;
  await assert.rejects(p.produce(chunk, at), (e) => e === boom);
  assert.deepEqual(kafka.calls, ['producer0.transaction', 'producer0.tx.send', 'producer0.tx.abort']);
  assert.equal(kafka.producers[0].aborts, 1);
  assert.deepEqual(stats, { transactionsAborted: 1, resyncs: 0 });
  assert.equal(p.resyncPending, false);
});

test('transactional: sendOffsets that fails is aborted too', async () => {
  const { kafka, p } = setup({ transactionalId: 't' });
  kafka.producers[0].fail.sendOffsets = new Error('COORDINATOR_NOT_AVAILABLE');
  await assert.rejects(p.produce(chunk, at), /COORDINATOR_NOT_AVAILABLE/);
  assert.deepEqual(kafka.calls, ['producer0.transaction', 'producer0.tx.send', 'producer0.tx.sendOffsets', 'producer0.tx.abort']);
  assert.equal(p.resyncPending, false);
});

test('transactional: a commit that fails is not aborted (it may have been applied): resync pending', async () => {
  const { kafka, p, stats } = setup({ transactionalId: 't' });
  kafka.producers[0].fail.commit = new Error('request timed out');
  await assert.rejects(p.produce(chunk, at), /request timed out/);
  assert.deepEqual(kafka.calls, ['producer0.transaction', 'producer0.tx.send', 'producer0.tx.sendOffsets', 'producer0.tx.commit']);
  assert.equal(kafka.producers[0].aborts, 0);
  assert.deepEqual(stats, { transactionsAborted: 1, resyncs: 0 });
  assert.equal(p.resyncPending, true);
});

test('transactional: an abort that fails leaves the outcome unknown: resync pending, the send error thrown', async () => {
  const { kafka, p, stats } = setup({ transactionalId: 't' });
  kafka.producers[0].fail.send = new Error('send failed');
  kafka.producers[0].fail.abort = new Error('abort failed');
  await assert.rejects(p.produce(chunk, at), /^Error: send failed$/);
  assert.deepEqual(stats, { transactionsAborted: 1, resyncs: 0 });
  assert.equal(p.resyncPending, true);
});

test('transactional: a producer that cannot begin a transaction needs a resync (nothing counted as aborted)', async () => {
  const { kafka, p, stats } = setup({ transactionalId: 't' });
  kafka.producers[0].fail.begin = new Error('Transaction state exception');
  await assert.rejects(p.produce(chunk, at), /Transaction state exception/);
  assert.deepEqual(kafka.calls, ['producer0.transaction']);
  assert.deepEqual(stats, { transactionsAborted: 0, resyncs: 0 });
  assert.equal(p.resyncPending, true);
});

function target(kafka: FakeKafka, partitions: number[]): ResyncTarget & { reloads: number } {
  const t = {
    reloads: 0,
    partitions: () => partitions,
    reload: async () => { t.reloads++; kafka.calls.push('reload'); },
    seek: (partition: number, offset: string) => { kafka.calls.push(`seek ${partition}@${offset}`); },
  };
  return t;
}

test('resync: a new producer with the same transactional id, state reloaded, seeks to the committed offsets or the low watermark', async () => {
  const { kafka, p, stats, log } = setup({ transactionalId: 'agg-tx' });
  kafka.producers[0].fail.commit = new Error('lost answer');
  await assert.rejects(p.produce(chunk, at));
  kafka.adminInstance.committed = [{ partition: 0, offset: '17' }, { partition: 1, offset: '-1' }, { partition: 5, offset: '99' }];
  kafka.adminInstance.ends = [{ partition: 0, offset: '30', high: '30', low: '3' }, { partition: 1, offset: '50', high: '50', low: '8' }];
  kafka.calls.length = 0;
  const t = target(kafka, [0, 1, 2]);
  await p.resync(t);
  assert.deepEqual(kafka.calls, [
    'producer0.disconnect', 'producer1.connect', 'admin.connect', 'admin.fetchOffsets', 'admin.fetchTopicOffsets',
    'reload', 'seek 0@17', 'seek 1@8', 'seek 2@0', 'admin.disconnect',
  ]);
  assert.equal(kafka.producers.length, 2);
  assert.deepEqual(kafka.producers[1].config, kafka.producers[0].config);
  assert.equal(kafka.producers[1].config.transactionalId, 'agg-tx');
  assert.equal(p.current as unknown, kafka.producers[1]);
  assert.deepEqual(kafka.adminInstance.queries, [{ groupId: 'grp', topics: ['in'] }, 'in']);
  assert.equal(t.reloads, 1);
  assert.equal(p.resyncPending, false);
  assert.deepEqual(stats, { transactionsAborted: 1, resyncs: 1 });
  assert.deepEqual(log.lines.map((l) => [l.level, l.msg, l.fields]), [
    ['warn', 'transaction outcome unknown: reloading producer, state and offsets from the broker', { partitions: [0, 1, 2] }],
    ['info', 'resynchronised with the broker', { partitions: [0, 1, 2] }],
  ]);
  // The new producer takes the next chunk.
  kafka.calls.length = 0;
  await p.produce(chunk, at);
  assert.deepEqual(kafka.calls, ['producer1.transaction', 'producer1.tx.send', 'producer1.tx.sendOffsets', 'producer1.tx.commit']);
});

test('resync that fails (broker away) stays pending and is retried; the admin is disconnected', async () => {
  const { kafka, p, stats } = setup({ transactionalId: 't' });
  kafka.producers[0].fail.begin = new Error('stuck');
  await assert.rejects(p.produce(chunk, at));
  kafka.adminInstance.fail = new Error('broker away');
  const t = target(kafka, [0]);
  await assert.rejects(p.resync(t), /broker away/);
  assert.equal(kafka.calls.at(-1), 'admin.disconnect');
  assert.equal(t.reloads, 0);
  assert.equal(p.resyncPending, true);
  assert.equal(stats.resyncs, 0);
  kafka.adminInstance.fail = undefined;
  await p.resync(t);
  assert.equal(p.resyncPending, false);
  assert.equal(stats.resyncs, 1);
  assert.equal(kafka.producers.length, 3, 'each attempt makes a new producer');
  assert.deepEqual(kafka.calls.filter((c) => c.startsWith('seek')), ['seek 0@0']);
});
