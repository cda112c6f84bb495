/**
 * The Python consumer example (examples/python/consume_events.py, kafka-python) against a real
 * broker: events written the way the aggregator writes them (encodeEvent, an idempotent
 * producer), one of them twice (at-least-once delivery), are printed once each, in order.
 * The venv (.cache/python) comes from `bash scripts/install.sh --test`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { EMOTIONS, SCHEMA_VERSION, type Emotion, type EmotionEvent, type EmotionState } from '@emostream/contracts';
import { silentLogger } from '@emostream/runtime';
import { createKafka, createProducer, encodeEvent, ensureTopics, kafkaConfigFromEnv, pipelineTopicSpecs, pipelineTopics } from '@emostream/kafka';
import { brokerUnavailable, ensureBroker, randomTopics } from './helpers/kafka.js';
import { INSTALL_TEST_TOOLS, requireResource } from './helpers/resources.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const PYTHON = path.join(ROOT, '.cache/python/bin/python');
const SCRIPT = path.join(ROOT, 'examples/python/consume_events.py');
const require = createRequire(import.meta.url);
const Ajv2020 = require('ajv/dist/2020').default as new (o: object) => { compile(s: object): ((d: unknown) => boolean) & { errors?: unknown } };

/** Why the example's venv cannot run here, or undefined. */
function venvUnavailable(): string | undefined {
  if (!fs.existsSync(PYTHON)) return `no Python venv at .cache/python (run \`${INSTALL_TEST_TOOLS}\`)`;
  const r = spawnSync(PYTHON, ['-c', 'import kafka'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `kafka-python does not import in .cache/python (run \`${INSTALL_TEST_TOOLS}\`): ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`;
}

function event(type: EmotionEvent['type'], personId: string, mediaTimeMs: number, emotion: EmotionState, confidence: number, eventId: string, extra: Partial<EmotionEvent> = {}): EmotionEvent {
  const top = emotion === 'uncertain' ? 'neutral' : emotion;
  const probabilities = Object.fromEntries(EMOTIONS.map((e) => [e, e === top ? confidence : (1 - confidence) / 6])) as Record<Emotion, number>;
  return {
    schemaVersion: SCHEMA_VERSION, eventId, type, cameraId: 'lobby', personId,
    at: new Date(Date.UTC(2026, 10, 25, 10, 15, 0) + mediaTimeMs).toISOString(), mediaTimeMs,
    emotion, confidence, probabilities, modelVersion: 'best-20261126-e4', ...extra,
  };
}

test('the Python consumer example prints each event once, in order, from a real broker', async (t) => {
  if (!requireResource(t, 'Kafka broker', brokerUnavailable())) return;
  if (!requireResource(t, 'Python venv with kafka-python', venvUnavailable())) return;
  const brokers = await ensureBroker();
  const prefix = randomTopics();
  const config = kafkaConfigFromEnv({}, { brokers, topicPrefix: prefix, partitions: 1 });
  const topic = pipelineTopics(prefix).events;
  const kafka = createKafka(config, 'python-consumer-test', silentLogger);
  await ensureTopics(kafka, pipelineTopicSpecs(config).filter((s) => s.topic === topic), silentLogger);

  const es = [
    event('person.appeared', 'p1', 2300, 'happy', 0.81, '3f2a9c0e5b7d41e68a0c2d4f6b8e1a3c'),
    event('person.appeared', 'p2', 2400, 'neutral', 0.5, '0b1c2d3e4f5061728394a5b6c7d8e9f0', { returning: true }),
    event('emotion.changed', 'p1', 3100, 'sad', 2 / 3, 'aa55aa55aa55aa55aa55aa55aa55aa55'),
  ];
  const valid = new Ajv2020({ strict: false, allErrors: true }).compile(JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas/emotion-event.schema.json'), 'utf8')));
  for (const e of es) assert.ok(valid(e), JSON.stringify(valid.errors));
  const producer = createProducer(kafka);
  await producer.connect();
  try {
    // At least once: the first event again before the third (a consumer that does not drop it prints it third).
    await producer.send({ topic, acks: -1, messages: [es[0], es[1], es[0], es[2]].map(encodeEvent) });
  } finally {
    await producer.disconnect();
  }

  const child = spawn(PYTHON, [SCRIPT, '--from-beginning', '--count', '3'], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KAFKA_BROKERS: brokers.join(','), EMOSTREAM_TOPIC_PREFIX: prefix, PYTHONUNBUFFERED: '1' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
  clearTimeout(timer);
  assert.equal(signal, null, `the script did not exit by itself within 60 s; printed:\n${stdout}\nstderr:\n${stderr}`);
  assert.equal(code, 0, stderr);
  assert.deepEqual(stdout.split('\n').filter(Boolean), [
    '2026-11-25T10:15:02.300Z lobby p1 person.appeared: happy (0.81)',
    '2026-11-25T10:15:02.400Z lobby p2 (returning) person.appeared: neutral (0.50)',
    '2026-11-25T10:15:03.100Z lobby p1 emotion.changed: sad (0.67)',
  ]);
});
