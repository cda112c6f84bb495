// The classifier service against a real Kafka broker (random topic names): a model call that
// throws is retried, and a frame that keeps failing becomes a dead letter with its reason; the
// other frames are classified and every offset is committed. The real model, with faults injected.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { SCHEMA_VERSION } from '@emostream/contracts';
import { createMetrics, loadTf, silentLogger } from '@emostream/runtime';
import { loadEmotionModel, type EmotionModel } from '@emostream/classifier';
import {
  HEADER, createKafka, createProducer, decodeEmotions, decodeFaces, encodeControl, encodeFaces, ensureTopics, groupIdFor, header,
  kafkaConfigFromEnv, pipelineTopicSpecs, pipelineTopics, sendCapped, type Kafka, type KafkaMessage,
} from '@emostream/kafka';
import { startClassifier, type ServiceDeps } from '@emostream/pipeline';
import { brokerUnavailable, ensureBroker, randomTopics } from './helpers/kafka.js';
import { testModelDir } from './helpers/model.js';
import { requireResource } from './helpers/resources.js';
import { waitFor } from './helpers/wait.js';

const noBroker = brokerUnavailable();
let brokers: string[];
let model: EmotionModel;
const running: Array<{ stop(): Promise<void> }> = [];

before(async () => {
  if (noBroker) return; // the test skips (or, under CI, fails) naming what is missing
  brokers = await ensureBroker();
  model = await loadEmotionModel((await loadTf()).tf, { model: await testModelDir() });
}, { timeout: 180_000 });

after(async () => {
  await Promise.all(running.map((r) => r.stop().catch(() => {})));
  model?.dispose();
});

async function setup(): Promise<{ kafka: Kafka; config: ServiceDeps['config']; deps: ServiceDeps }> {
  const config = kafkaConfigFromEnv({}, { brokers, topicPrefix: randomTopics(), partitions: 1, sessionTimeoutMs: 10_000 });
  const kafka = createKafka(config, 'test', silentLogger);
  return { kafka, config, deps: { kafka, config, logger: silentLogger, metrics: createMetrics() } };
}

/** Reads a topic from the beginning until `n` messages. */
async function readTopic(kafka: Kafka, topic: string, n: number): Promise<KafkaMessage[]> {
  const consumer = kafka.consumer({ groupId: `read-${topic}-${Date.now()}` });
  const got: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => { got.push(message); } });
    await waitFor(`${n} messages on ${topic}`, () => got.length >= n, { timeoutMs: 60_000 });
    return got;
  } finally {
    await consumer.disconnect();
  }
}

test('a classifier model call that throws: a transient error is retried, a frame that keeps failing goes to the dead-letter topic with its reason; the rest flows, every offset committed', { timeout: 120_000 }, async (tc) => {
  if (!requireResource(tc, 'Kafka broker', noBroker)) return;
  const { config, kafka, deps } = await setup();
  const t = pipelineTopics(config.topicPrefix);
  await ensureTopics(kafka, pipelineTopicSpecs(config));
  // The real model, with two faults injected: its first call fails (transient), and any call
  // holding the poison crop (all bytes 7) fails every time.
  let calls = 0;
  const faulty: EmotionModel = {
    version: model.version, dispose() {},
    async predict(crops) {
      calls++;
      if (calls === 1) throw new Error('device busy');
      if (crops.some((c) => c.every((v) => v === 7))) throw new Error('poisoned crop');
      return model.predict(crops);
    },
  };
  const cls = await startClassifier({ ...deps, model: () => faulty, classify: { maxWaitMs: 50, maxBatchFrames: 16, retryBackoffMs: 20 }, backend: 'test' });
  running.push(cls);
  const producer = createProducer(kafka);
  await producer.connect();
  running.push({ stop: () => producer.disconnect() });
  const crop = (v: number) => new Uint8Array(48 * 48).fill(v);
  const faces = Array.from({ length: 6 }, (_, seq) => encodeFaces({
    frame: { schemaVersion: SCHEMA_VERSION, cameraId: 'cls', seq, mediaTimeMs: seq * 100, capturedAtMs: 1e12 + seq, width: 64, height: 64 },
    faces: [{ box: { x: 1, y: 1, width: 40, height: 40 }, score: 0.9, crop: crop(seq === 3 ? 7 : 100 + seq) }],
  }));
  await sendCapped(producer, [{ topic: t.faces, messages: [...faces, encodeControl({ type: 'end', cameraId: 'cls' })] }], config.maxBytesPerSend);
  const out = await readTopic(kafka, t.emotions, 6);
  const classified = out.flatMap((m) => { const d = decodeEmotions(m); return d.ok ? [d.value] : []; });
  assert.deepEqual(classified.map((m) => [m.frame.seq, m.faces.length]), [[0, 1], [1, 1], [2, 1], [4, 1], [5, 1]], 'every other frame classified, none with its faces dropped');
  assert.ok(out.some((m) => header(m, HEADER.kind) === 'end'), 'the end marker follows');
  const [dead] = await readTopic(kafka, t.dlq.faces, 1);
  assert.deepEqual([header(dead, HEADER.dlqReason), header(dead, HEADER.dlqStage), header(dead, HEADER.dlqOffset)], ['classify_error', 'classifier', '3']);
  assert.match(header(dead, HEADER.dlqDetail) ?? '', /poisoned crop/);
  const back = decodeFaces(dead);
  assert.ok(back.ok && back.value.frame.seq === 3 && back.value.faces[0].crop.every((v) => v === 7), 'the dead letter is the faces message as it came');
  await waitFor('the classifier to commit all 7 offsets', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [o] = await admin.fetchOffsets({ groupId: groupIdFor(config, 'classifier'), topics: [t.faces] });
      return o.partitions[0]?.offset === '7';
    } finally { await admin.disconnect(); }
  });
  const metrics = await deps.metrics!.registry.getSingleMetricAsString('emostream_dead_letters_total');
  assert.match(metrics, /stage="classifier",reason="classify_error"} 1/);
});
