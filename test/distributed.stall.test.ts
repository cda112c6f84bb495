// A stage whose consumer fetches nothing while messages wait and the broker answers (here its
// partitions paused behind its back, as a consumer that never rejoins or a fetch that never
// settles would leave it): against a real broker, the stall watch sees the committed offsets
// stand still, restarts the consumer, and every message gets through; counted in
// emostream_stage_stalls_total. The watch's other paths (a batch in hand abandoned, a broker
// that does not answer, a consumer that will not stop) are unit tests: packages/kafka/src/stage.
import { after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { map } from 'rxjs';
import { createMetrics, silentLogger } from '@emostream/runtime';
import { createProducer, ensureTopics, runStage } from '@emostream/kafka';
import { brokerUnavailable, ensureBroker, randomTopics } from './helpers/kafka.js';
import { collect, kafkaFor } from './helpers/faults.js';
import { requireResource } from './helpers/resources.js';
import { waitFor } from './helpers/wait.js';

const noBroker = brokerUnavailable();
const stops: Array<() => Promise<unknown>> = [];
after(async () => { for (const s of stops.reverse()) await s().catch(() => {}); });

test('a consumer that fetches nothing while messages wait: restarted after the stall timeout; every message gets through', { timeout: 120_000 }, async (t: TestContext) => {
  if (!requireResource(t, 'Kafka broker', noBroker)) return;
  const brokers = await ensureBroker();
  const prefix = randomTopics();
  const { config, kafka } = kafkaFor(brokers, prefix, 2);
  const [input, output, dlq] = ['in', 'out', 'in.dlq'].map((n) => `${prefix}${n}`);
  await ensureTopics(kafka, [input, output, dlq].map((topic) => ({ topic, partitions: 2, replicationFactor: 1 })));
  const collector = await collect(kafka, [output]);
  stops.push(() => collector.stop());
  const metrics = createMetrics();
  const stage = await runStage<string, string>({
    stage: 'echo', kafka, config, logger: silentLogger, metrics, lagIntervalMs: 250, stallMs: 3_000,
    inputTopic: input, outputTopic: output, dlqTopic: dlq, groupId: `${prefix}echo`,
    decode: (m) => ({ ok: true, value: m.value!.toString() }),
    operator: map((s: string) => s),
    correlation: { mode: 'each' },
    encode: (s) => ({ key: 'k', value: Buffer.from(JSON.stringify({ echo: s })), headers: {} }),
  });
  stops.push(() => stage.stop());
  const producer = createProducer(kafka);
  await producer.connect();
  stops.push(() => producer.disconnect());
  const send = (from: number, to: number) => producer.send({ topic: input, messages: Array.from({ length: to - from }, (_, i) => ({ key: `k${from + i}`, value: `m${from + i}` })) });
  const seen = () => new Set(collector.of(output).map((s) => (s.json as { echo: string }).echo));
  const echoed = () => seen().size;

  await send(0, 10);
  await waitFor('10 messages echoed', () => echoed() >= 10, { timeoutMs: 30_000 });
  await waitFor('the stage ready', () => stage.ready().ok, { timeoutMs: 10_000 });
  stage.consumer.pause([{ topic: input }]);
  await send(10, 20);
  await waitFor('a stall seen and the consumer restarted', () => stage.stats.stalls >= 1, { timeoutMs: 30_000 });
  await waitFor('every message echoed after the restart', () => echoed() >= 20, { timeoutMs: 30_000 });
  assert.equal(stage.stats.stalls, 1);
  assert.equal((await metrics.stageStalls.get()).values.find((v) => v.labels.stage === 'echo')?.value, 1);
  assert.deepEqual([...seen()].sort(), Array.from({ length: 20 }, (_, i) => `m${i}`).sort());
});
