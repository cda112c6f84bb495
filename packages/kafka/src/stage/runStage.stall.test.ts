/** runStage, stalled (work waiting, the broker answering, nothing committed): it recovers on its own. Through in-memory kafkajs fakes. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeMap } from 'rxjs';
import { createMetrics } from '@emostream/runtime';
import { StageError } from '../errors.js';
import { batchOf, deferred, message, settle } from './fakes.js';
import { STALLS_BEFORE_EXIT } from './stall.js';
import { start, txSpec, type In } from './harness.js';

const STALL = { lagIntervalMs: 10, stallMs: 80 };
// The lag monitor's timer is unref'd (it never keeps a process alive): this keeps the tests' alive.
const alive = setInterval(() => {}, 1_000);
after(() => clearInterval(alive));
const stalls = async (m: ReturnType<typeof createMetrics>) => (await m.stageStalls.get()).values.find((v) => v.labels.stage === 'test')?.value ?? 0;
const waitUntil = async (what: string, ok: () => boolean, ms = 3_000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

test('a batch that never finishes (a transaction that hangs): after stallMs it is abandoned with a retriable error, and the next batch resynchronises the producer first', async () => {
  const metrics = createMetrics();
  const t = txSpec();
  const { kafka, consumer, stage, log } = await start({ ...STALL, metrics, correlation: { mode: 'sync' }, operator: mergeMap((i: In) => [{ cam: i.cam, text: `e${i.n}` }]), transactional: t.transactional, onRejoin: async () => { t.events.push('onRejoin'); } });
  kafka.adminInstance.committed = [{ partition: 0, offset: '7' }];
  kafka.adminInstance.ends = [{ partition: 0, offset: '9', high: '9', low: '0' }];
  consumer.join({ in: [0] });
  kafka.producers[0].gate = new Promise(() => {});
  const r = consumer.drive(batchOf('in', 0, [message(7, 'a', 'a/1'), message(8, 'a', 'a/2')]));
  assert.equal(stage.ready().ok, true);
  await assert.rejects(r.done, (e) => {
    assert.ok(e instanceof StageError);
    assert.equal(e.retriable, true, 'kafkajs restarts the consumer');
    assert.match(e.message, /^test: stalled: no offset committed for \d+ s with 2 message\(s\) waiting on in \[0\]$/);
    return true;
  });
  assert.deepEqual(r.resolved, []);
  assert.equal(stage.stats.stalls, 1);
  assert.equal(await stalls(metrics), 1);
  assert.ok(log.lines.some((l) => l.level === 'warn' && l.msg === 'stalled: the batch in hand is abandoned and the consumer restarted'));
  assert.ok(!kafka.calls.includes('consumer.stop'), 'kafkajs restarts it: runStage does not');
  // The hung transaction's outcome is unknown: a new producer (it fences the old one), state and offsets reloaded.
  kafka.calls.length = 0;
  await consumer.drive(batchOf('in', 0, [message(7, 'a', 'a/1')])).done;
  assert.deepEqual(kafka.calls.slice(0, 3), ['producer0.disconnect', 'producer1.connect', 'admin.connect']);
  assert.ok(kafka.calls.includes('consumer.seek 0@7'));
  assert.equal(stage.stats.resyncs, 1);
  await stage.stop();
});

test('no batch in hand (the consumer fetches nothing): after stallMs the consumer is stopped and run again, and counted afresh after it', async () => {
  const metrics = createMetrics();
  const { kafka, consumer, stage, log } = await start({ ...STALL, metrics });
  kafka.adminInstance.committed = [{ partition: 0, offset: '3' }, { partition: 1, offset: '4' }];
  kafka.adminInstance.ends = [{ partition: 0, offset: '10', high: '10', low: '0' }, { partition: 1, offset: '4', high: '4', low: '0' }];
  consumer.join({ in: [0, 1] });
  await waitUntil('the consumer restarted', () => kafka.calls.includes('consumer.stop'));
  await settle();
  assert.deepEqual(kafka.calls.filter((c) => c.startsWith('consumer.')).slice(-2), ['consumer.stop', 'consumer.run']);
  assert.equal(stage.stats.stalls, 1);
  assert.equal(await stalls(metrics), 1);
  assert.deepEqual(log.lines.find((l) => l.msg === 'stalled: restarting the consumer')?.fields?.partitions, [0]);
  // It goes on committing: no second stall.
  kafka.adminInstance.committed = [{ partition: 0, offset: '10' }, { partition: 1, offset: '4' }];
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(stage.stats.stalls, 1);
  await stage.stop();
});

test('a broker that does not answer the lag readings never counts as a stall, however long', async () => {
  const { kafka, consumer, stage } = await start({ ...STALL, metrics: createMetrics() });
  kafka.adminInstance.committed = [{ partition: 0, offset: '3' }];
  kafka.adminInstance.ends = [{ partition: 0, offset: '10', high: '10', low: '0' }];
  kafka.adminInstance.fail = new Error('Connection error: connect ECONNREFUSED');
  consumer.join({ in: [0] });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(stage.stats.stalls, 0);
  assert.ok(!kafka.calls.includes('consumer.stop'));
  await stage.stop();
});

test('a stalled consumer that will not stop: the stage fails (the process exits to be restarted), naming the stall', async () => {
  const { kafka, consumer, stage } = await start({ ...STALL, stallStopMs: 50, metrics: createMetrics() });
  kafka.adminInstance.committed = [{ partition: 0, offset: '3' }];
  kafka.adminInstance.ends = [{ partition: 0, offset: '10', high: '10', low: '0' }];
  const never = deferred();
  consumer.stop = () => never.promise;
  consumer.join({ in: [0] });
  await assert.rejects(stage.done, (e) => {
    assert.ok(e instanceof StageError);
    assert.equal(e.retriable, false);
    assert.match(e.message, /^test: stalled \(no offset committed for \d+ s with 7 message\(s\) waiting on in \[0\]\) and its consumer did not restart within 0\.05 s: exiting to be restarted$/);
    return true;
  });
});

test('without stallMs nothing is watched', async () => {
  const { kafka, consumer, stage } = await start({ lagIntervalMs: 10, metrics: createMetrics() });
  kafka.adminInstance.committed = [{ partition: 0, offset: '3' }];
  kafka.adminInstance.ends = [{ partition: 0, offset: '10', high: '10', low: '0' }];
  consumer.join({ in: [0] });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(stage.stats.stalls, 0);
  await stage.stop();
});

test(`stalled ${STALLS_BEFORE_EXIT} times with no chunk produced in between: the stage fails (in-process recovery did not cure it)`, async () => {
  const { kafka, consumer, stage, log } = await start({ ...STALL, metrics: createMetrics() });
  kafka.adminInstance.committed = [{ partition: 0, offset: '3' }];
  kafka.adminInstance.ends = [{ partition: 0, offset: '10', high: '10', low: '0' }];
  consumer.join({ in: [0] });
  await assert.rejects(stage.done, (e) => {
    assert.ok(e instanceof StageError && !e.retriable);
    assert.match(e.message, /^test: stalled 3 times without a chunk in between \(last: no offset committed for \d+ s with 7 message\(s\) waiting on in \[0\]\): exiting to be restarted$/);
    return true;
  });
  assert.equal(stage.stats.stalls, 3);
  assert.equal(log.lines.filter((l) => l.msg === 'stalled: restarting the consumer').length, 2);
});
