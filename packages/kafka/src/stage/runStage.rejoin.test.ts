/**
 * runStage after its member was evicted from the group (a network partition longer than the
 * session timeout): it asks whether it is still a member before any work, and a batch fetched
 * again after the rejoin skips the messages whose outputs it produced already.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeMap } from 'rxjs';
import { batchOf, message } from './fakes.js';
import { ProducedOffsets } from './produced.js';
import { sentBy, start, txSpec, type In } from './harness.js';

const unknownMember = () => Object.assign(new Error('The coordinator is not aware of this member'), { type: 'UNKNOWN_MEMBER_ID' });

test('a heartbeat refused before the first chunk: nothing pushed, produced, resolved or committed (kafkajs rejoins and fetches again)', async () => {
  const pushed: number[] = [];
  const { kafka, consumer } = await start({ correlation: { mode: 'sync' }, operator: mergeMap((i: In) => { pushed.push(i.n); return [{ cam: i.cam, text: `out${i.n}` }]; }) });
  consumer.join({ in: [0] });
  const r = consumer.drive(batchOf('in', 0, [message(0, 'a', 'a/1'), message(1, 'a', 'a/2')]), { heartbeat: async () => { throw unknownMember(); } });
  await assert.rejects(r.done, /not aware of this member/);
  assert.deepEqual(pushed, []);
  assert.deepEqual(sentBy(kafka), []);
  assert.deepEqual(r.resolved, []);
  assert.equal(r.commits, 0);
});

test('processed, produced, then the commit refused (evicted): after the rejoin the same messages are skipped, not processed twice; later ones are', async () => {
  const pushed: number[] = [];
  const { kafka, consumer, stage, log } = await start({ chunkSize: 2, correlation: { mode: 'sync' }, operator: mergeMap((i: In) => { pushed.push(i.n); return [{ cam: i.cam, text: `out${i.n}` }]; }) });
  consumer.join({ in: [0, 1] });
  // The heartbeat before the batch passed (the session had not yet timed out on the broker's side),
  // the outputs were acknowledged, the commit after the chunk is refused: kafkajs rejoins.
  const evicted = consumer.drive(batchOf('in', 0, [message(10, 'a', 'a/1'), message(11, 'a', 'a/2')]), { commit: async () => { throw unknownMember(); } });
  await assert.rejects(evicted.done, /not aware of this member/);
  assert.deepEqual(evicted.resolved, ['10', '11'], 'resolved, but the commit was refused');
  consumer.join({ in: [0, 1] });
  const again = consumer.drive(batchOf('in', 0, [message(10, 'a', 'a/1'), message(11, 'a', 'a/2'), message(12, 'a', 'a/3')]));
  await again.done;
  assert.deepEqual(pushed, [1, 2, 3], 'each input through the operator once');
  assert.deepEqual(sentBy(kafka), ['out:a:out1', 'out:a:out2', 'out:a:out3']);
  assert.deepEqual(again.resolved, ['10', '11', '12'], 'the skipped offsets are resolved (and committed) too');
  assert.equal(stage.stats.replaysSkipped, 2);
  assert.equal(stage.stats.consumed, 3);
  assert.deepEqual(log.lines.find((l) => l.msg.startsWith('skipped messages fetched again'))?.fields,
    { topic: 'in', partition: 0, firstOffset: '10', lastOffset: '11', messages: 2 });
  // While the partition stays assigned each offset is processed once (a reset of the group's
  // offsets needs the group empty: this process gone, and its marks with it).
  await consumer.drive(batchOf('in', 0, [message(12, 'a', 'a/3'), message(13, 'a', 'a/4')])).done;
  assert.deepEqual(pushed, [1, 2, 3, 4]);
  assert.equal(stage.stats.replaysSkipped, 3);
});

test('no skip on another partition, for a partition revoked in between, or once the log ends before the mark (topic recreated)', async () => {
  const pushed: number[] = [];
  const { consumer, stage } = await start({ correlation: { mode: 'sync' }, operator: mergeMap((i: In) => { pushed.push(i.n); return [{ cam: i.cam, text: `out${i.n}` }]; }) });
  consumer.join({ in: [0, 1] });
  await consumer.drive(batchOf('in', 0, [message(5, 'a', 'a/1')])).done;
  await consumer.drive(batchOf('in', 1, [message(5, 'b', 'b/2')])).done;
  await consumer.drive(batchOf('in', 1, [message(5, 'b', 'b/3')], 0, '1')).done; // log end 1 <= mark 5
  consumer.join({ in: [1] });
  consumer.join({ in: [0, 1] });
  await consumer.drive(batchOf('in', 0, [message(5, 'a', 'a/4')])).done;
  assert.deepEqual(pushed, [1, 2, 3, 4]);
  assert.equal(stage.stats.replaysSkipped, 0);
});

test('a transactional stage keeps no marks: its offsets commit with its outputs', async () => {
  const t = txSpec();
  const pushed: number[] = [];
  const { consumer, stage } = await start({ transactional: t.transactional, correlation: { mode: 'sync' }, operator: mergeMap((i: In) => { pushed.push(i.n); return [{ cam: i.cam, text: `out${i.n}` }]; }) });
  consumer.join({ in: [0] });
  await consumer.drive(batchOf('in', 0, [message(3, 'a', 'a/1')])).done;
  await consumer.drive(batchOf('in', 0, [message(3, 'a', 'a/1')])).done;
  assert.deepEqual(pushed, [1, 1]);
  assert.equal(stage.stats.replaysSkipped, 0);
});

test('ProducedOffsets: marks per partition, the highest kept, split at the mark', () => {
  const p = new ProducedOffsets();
  p.produced(0, '7');
  p.produced(0, '4');
  const { done, rest } = p.split(0, [message(6, 'a', 'x'), message(7, 'a', 'x'), message(8, 'a', 'x')]);
  assert.deepEqual(done.map((m) => m.offset), ['6', '7']);
  assert.deepEqual(rest.map((m) => m.offset), ['8']);
  assert.deepEqual(p.split(1, [message(7, 'a', 'x')]).done, [], 'another partition');
  assert.deepEqual(p.split(0, [message(7, 'a', 'x')], '8').done.map((m) => m.offset), ['7'], 'the log goes past the mark: kept');
  assert.deepEqual(p.split(0, [message(7, 'a', 'x')], '7').done, [], 'the log ends at or before the mark: dropped');
  assert.deepEqual(p.split(0, [message(7, 'a', 'x')]).done, [], 'and stays dropped');
  p.produced(2, '3');
  p.retain([0, 1]);
  assert.deepEqual(p.split(2, [message(2, 'a', 'x')]).done, [], 'revoked: dropped');
});
