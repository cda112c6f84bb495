// Fault suite, a model that fails on every call (a broken GPU): the classifier stage on the
// suite's broker with the real model behind a device that throws while "broken", and the service's
// real /healthz. Each frame alone (one batch each) is retried, then dead-lettered (reason
// classify_error); at the fifth failed batch in a row the circuit breaker opens: /healthz 503 with
// the reason, emostream_classifier_breaker_open 1. Once the device works again, the next batch
// closes it: /healthz 200, the gauge 0, the frames classified.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { SCHEMA_VERSION } from '@emostream/contracts';
import { createMetrics, loadTf, silentLogger, startMetricsServer, type MetricsServer } from '@emostream/runtime';
import { DEFAULT_BREAKER_FAILED_BATCHES, loadEmotionModel, type EmotionModel } from '@emostream/classifier';
import {
  createProducer, encodeFaces, ensureTopics, pipelineTopicSpecs, pipelineTopics, sendCapped, type Kafka, type KafkaConfig, type Producer,
} from '@emostream/kafka';
import { startClassifier } from '@emostream/pipeline';
import { brokerUnavailable, randomTopics } from './helpers/kafka.js';
import { testModelDir } from './helpers/model.js';
import { collect, exitWhenDone, faultBroker, kafkaFor, outsideFaultRun, parseMetrics, report, sumOf, type Collector } from './helpers/faults.js';
import { requireResource } from './helpers/resources.js';
import { waitFor } from './helpers/wait.js';

const skip = outsideFaultRun;
const noBroker = brokerUnavailable();
const stops: Array<() => Promise<unknown>> = [];
let kafka: Kafka;
let config: KafkaConfig;
let model: EmotionModel;

before(async () => {
  if (skip || noBroker) return;
  const broker = await faultBroker();
  ({ kafka, config } = kafkaFor(broker.brokers, randomTopics(), 1));
  await ensureTopics(kafka, pipelineTopicSpecs(config));
  model = await loadEmotionModel((await loadTf()).tf, { model: await testModelDir() });
}, { timeout: 300_000 });

after(async () => {
  for (const s of stops.reverse()) await s().catch(() => {});
  model?.dispose();
  exitWhenDone();
});

test('a model that fails every call: the circuit breaker opens after 5 failed batches (/healthz 503, gauge 1, every frame a dead letter), and the first good batch closes it', { skip, timeout: 300_000 }, async (t: TestContext) => {
  if (!requireResource(t, 'Kafka broker', noBroker)) return;
  const topics = pipelineTopics(config.topicPrefix);
  let broken = true;
  let calls = 0;
  const device: EmotionModel = {
    version: model.version, dispose() {},
    async predict(crops) {
      calls++;
      if (broken) throw new Error('CUDA error: an illegal memory access was encountered');
      return model.predict(crops);
    },
  };
  const metrics = createMetrics();
  const cls = await startClassifier({
    kafka, config, logger: silentLogger, metrics, model: () => device, backend: 'test',
    classify: { maxWaitMs: 0, maxBatchFrames: 8, retryBackoffMs: 20 },
  });
  stops.push(() => cls.stop());
  const server: MetricsServer = await startMetricsServer({ port: 0, registry: metrics.registry, ready: () => cls.ready(), healthy: () => cls.health() });
  stops.push(() => server.close());
  const get = async (p: string) => { const r = await fetch(`http://127.0.0.1:${server.port}${p}`); return { status: r.status, body: await r.text() }; };
  await waitFor('the classifier ready', async () => (await get('/readyz')).status === 200, { timeoutMs: 120_000 });
  const collector: Collector = await collect(kafka, [topics.emotions, topics.dlq.faces]);
  stops.push(() => collector.stop());
  const producer: Producer = createProducer(kafka);
  await producer.connect();
  stops.push(() => producer.disconnect());
  const crop = (v: number) => new Uint8Array(48 * 48).fill(v);
  const send = (seq: number) => sendCapped(producer, [{ topic: topics.faces, messages: [encodeFaces({
    frame: { schemaVersion: SCHEMA_VERSION, cameraId: 'brk', seq, mediaTimeMs: seq * 200, capturedAtMs: Date.now(), width: 64, height: 64 },
    faces: [{ box: { x: 1, y: 1, width: 40, height: 40 }, score: 0.9, crop: crop(90 + seq) }],
  })] }], config.maxBytesPerSend);
  const deadLetters = () => collector.of(topics.dlq.faces).filter((s) => s.kind !== 'end');
  const breakerGauge = async () => sumOf(parseMetrics((await get('/metrics')).body), 'emostream_classifier_breaker_open');

  // One frame at a time, each its own batch: dead-lettered after its retries; /healthz 200 until the fifth.
  const health: number[] = [];
  let tFirst = 0;
  for (let seq = 0; seq < DEFAULT_BREAKER_FAILED_BATCHES; seq++) {
    await send(seq);
    if (seq === 0) tFirst = Date.now();
    await waitFor(`frame ${seq} dead-lettered`, () => deadLetters().length === seq + 1, { timeoutMs: 60_000 });
    health.push((await get('/healthz')).status);
  }
  const tOpen = Date.now();
  assert.deepEqual(health, [200, 200, 200, 200, 503], '/healthz after each failed batch');
  const open = await get('/healthz');
  assert.deepEqual(JSON.parse(open.body), {
    ok: false, reasons: ['classifier circuit breaker open: the model failed every call of 5 batches in a row (threshold 5); last error: CUDA error: an illegal memory access was encountered'],
  });
  assert.equal(await breakerGauge(), 1);
  assert.equal((await get('/readyz')).status, 200, 'still in its group and consuming: liveness, not readiness, restarts it');
  assert.ok(deadLetters().every((d) => d.dlqReason === 'classify_error'));
  assert.equal(collector.of(topics.emotions).length, 0, 'nothing passed on as classified');
  const callsWhileBroken = calls;

  // The device works again: the next batch classifies and closes the breaker.
  broken = false;
  await send(DEFAULT_BREAKER_FAILED_BATCHES);
  const tRepair = Date.now();
  await waitFor('the frame classified', () => collector.of(topics.emotions).some((s) => s.seq === DEFAULT_BREAKER_FAILED_BATCHES), { timeoutMs: 60_000 });
  await waitFor('/healthz 200 again', async () => (await get('/healthz')).status === 200, { timeoutMs: 10_000 });
  const tClosed = Date.now();
  assert.equal(await breakerGauge(), 0);
  report({
    case: 'a model that fails every call (broken GPU, simulated behind the real model) in the classifier stage',
    outcome: 'every frame a dead letter (classify_error); the circuit breaker opened at the 5th failed batch in a row: /healthz 503 with the reason, emostream_classifier_breaker_open 1 (alert EmostreamClassifierBreakerOpen); the first good batch closed it',
    figures: `${DEFAULT_BREAKER_FAILED_BATCHES} frames dead-lettered, ${callsWhileBroken} model calls (each batch tried 3 times with backoff); /healthz 200 after the 1st-4th failed batch, 503 after the 5th, ${((tOpen - tFirst) / 1000).toFixed(1)} s after the first frame was sent; closed ${((tClosed - tRepair) / 1000).toFixed(1)} s after the first frame once the model worked again`,
  });
});
