// The aggregator's transactional producer loses its epoch while it thinks it is fine: what the CI
// run of 2026-12-06 met after a network partition (the broker had received an AddPartitionsToTxn
// whose answer the partition swallowed, kept that transaction open and expired it after the
// transaction timeout, bumping the epoch). Every later transaction then failed with
// INVALID_PRODUCER_EPOCH, its abort was local and "succeeded", and the aggregator retried the same
// chunk for ever (359 aborts, 0 resyncs in 10 minutes). Here the epoch is bumped the other way a
// broker does it, by an InitProducerId with the same transactional id (a transaction of a second
// producer), against a real broker: the aggregator resynchronises (a new producer, state and
// offsets from the broker) and goes on; no frame lost, no event doubled.
import { after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { EmotionEvent } from '@emostream/contracts';
import { silentLogger } from '@emostream/runtime';
import { parseAggregatorConfig } from '@emostream/aggregator';
import { createProducer, encodeEmotions, ensureTopics, groupIdFor, pipelineTopicSpecs, pipelineTopics } from '@emostream/kafka';
import { startAggregator } from '@emostream/pipeline';
import { brokerUnavailable, ensureBroker, randomTopics } from './helpers/kafka.js';
import { aggregatorLastSeq, collect, kafkaFor, type Collector } from './helpers/faults.js';
import { passersBy } from './helpers/passersBy.js';
import { requireResource } from './helpers/resources.js';
import { waitFor } from './helpers/wait.js';

const noBroker = brokerUnavailable();
const stops: Array<() => Promise<unknown>> = [];
after(async () => { for (const s of stops.reverse()) await s().catch(() => {}); });

test('the aggregator\'s producer epoch bumped behind its back (INVALID_PRODUCER_EPOCH): it resynchronises and goes on, nothing lost or doubled', { timeout: 180_000 }, async (t: TestContext) => {
  if (!requireResource(t, 'Kafka broker', noBroker)) return;
  const brokers = await ensureBroker();
  const prefix = randomTopics();
  const { config, kafka } = kafkaFor(brokers, prefix, 1);
  await ensureTopics(kafka, pipelineTopicSpecs(config));
  const topics = pipelineTopics(prefix);
  const collector: Collector = await collect(kafka, [topics.events, topics.aggregatorState]);
  stops.push(() => collector.stop());
  const aggregator = await startAggregator({ kafka, config, logger: silentLogger, aggregatorConfig: parseAggregatorConfig({}) });
  stops.push(() => aggregator.stop());
  const producer = createProducer(kafka);
  await producer.connect();
  stops.push(() => producer.disconnect());
  const frames = passersBy({ cameraId: 'door', run: 'r1' }, 0, 20).map(encodeEmotions);
  const send = (from: number, to: number) => producer.send({ topic: topics.emotions, messages: frames.slice(from, to) });
  const lastSeq = () => aggregatorLastSeq(collector, prefix).door ?? -1;

  await send(0, 30);
  await waitFor('the first 30 frames aggregated', () => lastSeq() >= 29, { timeoutMs: 60_000 });
  // Another producer with the aggregator's transactional id runs a transaction: the broker bumps the epoch.
  const usurper = createProducer(kafka, { transactionalId: `${groupIdFor(config, 'aggregator')}-tx` });
  await usurper.connect();
  const tx = await usurper.transaction();
  await tx.send({ topic: topics.dlq.emotions, messages: [{ key: 'usurper', value: 'not an emotions message' }] });
  await tx.commit();
  await usurper.disconnect();

  await send(30, 60);
  await waitFor('every frame aggregated after the epoch bump', () => lastSeq() >= 59, { timeoutMs: 90_000 });
  assert.ok(aggregator.stats.resyncs >= 1, `resynchronised (stats ${JSON.stringify(aggregator.stats)})`);
  const events = collector.of(topics.events).map((s) => s.json as EmotionEvent);
  const ids = events.map((e) => e.eventId);
  assert.equal(new Set(ids).size, ids.length, 'no event twice');
  const appeared = events.filter((e) => e.type === 'person.appeared').length;
  assert.equal(appeared, 20, '20 passers-by, each appeared once');
});
