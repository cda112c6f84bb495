import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupIdFor, kafkaConfigFromEnv } from './config.js';
import { sharedSettingsFromEnv, shedOptionsFromEnv } from './settings.js';
import { pipelineTopicSpecs } from './topics.js';

test('kafkaConfigFromEnv: KAFKA_* connection plus the shared topic naming, under the names the callers use', () => {
  const c = kafkaConfigFromEnv({
    KAFKA_BROKERS: 'b1:9092, b2:9093', KAFKA_CLIENT_ID: 'cam-site', KAFKA_SSL: 'true', KAFKA_SSL_REJECT_UNAUTHORIZED: '0',
    KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: '1234',
    KAFKA_MAX_BYTES_PER_SEND: '500000', KAFKA_CONNECTION_TIMEOUT_MS: '1000', KAFKA_SESSION_TIMEOUT_MS: '10000',
    EMOSTREAM_TOPIC_PREFIX: '1', EMOSTREAM_GROUP_PREFIX: 'g-', EMOSTREAM_TOPIC_PARTITIONS: '12', EMOSTREAM_TOPIC_REPLICATION: '3',
    EMOSTREAM_BIOMETRIC_RETENTION_MS: '600000',
  });
  assert.deepEqual(c, {
    brokers: ['b1:9092', 'b2:9093'], clientId: 'cam-site', ssl: true, sslRejectUnauthorized: false,
    saslMechanism: 'scram-sha-512', saslUsername: 'u', saslPassword: '1234', saslAllowPlaintext: false,
    maxBytesPerSend: 500_000, connectionTimeoutMs: 1000, sessionTimeoutMs: 10_000,
    // The topic prefix "1" stays the text "1"; so does a numeric password.
    topicPrefix: '1', groupPrefix: 'g-', partitions: 12, replicationFactor: 3, biometricRetentionMs: 600_000,
  });
  assert.equal(groupIdFor(c, 'detector'), 'g-detector');
  assert.deepEqual([pipelineTopicSpecs(c)[0].partitions, pipelineTopicSpecs(c)[0].replicationFactor], [12, 3]);
  // Frames, faces, emotions (embeddings) and their dead letters: short-lived; events: the broker's default.
  const retention = Object.fromEntries(pipelineTopicSpecs(c).map((t) => [t.topic, t.config?.['retention.ms']]));
  assert.deepEqual(retention, {
    '1frames': '600000', '1faces': '600000', '1emotions': '600000', '1emotion-events': undefined,
    '1frames.dlq': '600000', '1faces.dlq': '600000', '1emotions.dlq': '600000', '1emotion-events.dlq': undefined,
    '1aggregator-state': undefined,
  });
  assert.equal(kafkaConfigFromEnv({}).biometricRetentionMs, 3_600_000, 'one hour by default');
  assert.equal(groupIdFor(kafkaConfigFromEnv({ EMOSTREAM_TOPIC_PREFIX: 't.' }), 'aggregator'), 't.emostream-aggregator');
});

test('kafkaConfigFromEnv: defaults, and overrides over the environment (the tests\' and the bench\'s way)', () => {
  const d = kafkaConfigFromEnv({});
  assert.deepEqual(d.brokers, ['127.0.0.1:9092']);
  assert.equal(d.topicPrefix, '');
  assert.equal(d.groupPrefix, undefined);
  assert.equal(d.partitions, 6);
  assert.equal(d.replicationFactor, 1);
  assert.equal(d.sessionTimeoutMs, 30_000);
  const o = kafkaConfigFromEnv({ EMOSTREAM_TOPIC_PREFIX: 'env.', EMOSTREAM_TOPIC_PARTITIONS: '12' }, { brokers: ['h:1'], topicPrefix: 'x.', partitions: 3, sessionTimeoutMs: 10_000 });
  assert.deepEqual([o.brokers, o.topicPrefix, o.partitions, o.sessionTimeoutMs], [['h:1'], 'x.', 3, 10_000]);
  // Overrides left out keep the environment's values.
  assert.equal(kafkaConfigFromEnv({ EMOSTREAM_TOPIC_PREFIX: 'env.' }, { brokers: ['h:1'] }).topicPrefix, 'env.');
});

test('kafkaConfigFromEnv: bad values and unknown names fail naming the variable; secrets are never echoed', () => {
  assert.throws(() => kafkaConfigFromEnv({ KAFKA_SSL: 'yes' }), { message: 'invalid Kafka settings: KAFKA_SSL=yes: must be true, false, 1 or 0' });
  assert.throws(() => kafkaConfigFromEnv({ KAFKA_SESSION_TIMEOUT_MS: '30s' }), { message: 'invalid Kafka settings: KAFKA_SESSION_TIMEOUT_MS=30s: not a number (a whole number from 6000 to 300000)' });
  assert.throws(() => kafkaConfigFromEnv({ EMOSTREAM_TOPIC_PARTITIONS: 'many' }), { message: 'invalid EMOSTREAM_* settings: EMOSTREAM_TOPIC_PARTITIONS=many: not a number (a whole number from 1 to 1000)' });
  assert.throws(() => kafkaConfigFromEnv({ KAFKA_BROKER: 'h:1' }), /KAFKA_BROKER is not a setting; valid KAFKA_\* names: KAFKA_BROKERS, KAFKA_CLIENT_ID, /);
  assert.throws(() => kafkaConfigFromEnv({ KAFKA_BROKERS: 'h' }), { message: 'invalid Kafka settings: KAFKA_BROKERS: each broker must be host:port (a comma-separated list, each text matching ^[^\\s,:]+:\\d{1,5}$)' });
  assert.throws(() => kafkaConfigFromEnv({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'pw-secret' }), (e: Error) => {
    assert.match(e.message, /KAFKA_SSL: SASL without TLS sends credentials in clear: set KAFKA_SSL=true, or KAFKA_SASL_ALLOW_PLAINTEXT=true/);
    assert.ok(!e.message.includes('pw-secret'));
    return true;
  });
  // Names other tools read (scripts/kafka.sh, the tests) are not errors.
  assert.doesNotThrow(() => kafkaConfigFromEnv({ KAFKA_TEST_PORT: '39092', KAFKA_FAULTS_PORT: '39392', KAFKA_VERSION: '3.9.1' }));
});

test('the shared EMOSTREAM_* settings: one schema; names other code reads are left to it', () => {
  const s = sharedSettingsFromEnv({
    EMOSTREAM_METRICS_PORT: '9100', EMOSTREAM_METRICS_HOST: '127.0.0.1', EMOSTREAM_BACKEND: 'cpu', EMOSTREAM_SOURCES: 'a=rtsp://u:p@h/s',
    EMOSTREAM_SHED_AFTER_LAG: '64', EMOSTREAM_MAX_FRAME_AGE_MS: '0', EMOSTREAM_LOG_LEVEL: 'info', EMOSTREAM_GPU: '0', EMOSTREAM_FAULTS: '1',
  });
  assert.deepEqual([s.metricsPort, s.metricsHost, s.backend, s.sources, s.shedAfterLag, s.maxFrameAgeMs], [9100, '127.0.0.1', 'cpu', 'a=rtsp://u:p@h/s', 64, 0]);
  assert.equal(sharedSettingsFromEnv({}, { metricsPort: 9200 }).metricsPort, 9200);
  assert.equal(sharedSettingsFromEnv({}).metricsHost, '127.0.0.1', 'this host only unless told (deploy/k8s sets 0.0.0.0)');
  assert.equal(sharedSettingsFromEnv({ EMOSTREAM_METRICS_HOST: '0.0.0.0' }).metricsHost, '0.0.0.0');
  assert.throws(() => sharedSettingsFromEnv({ EMOSTREAM_BACKEND: 'gpu' }), /EMOSTREAM_BACKEND=gpu: .*\(one of auto, tensorflow-gpu, tensorflow, wasm, cpu\)/);
  assert.throws(() => sharedSettingsFromEnv({ EMOSTREAM_SHED_AFTER_LAG: '-1' }), /EMOSTREAM_SHED_AFTER_LAG=-1: .*\(a whole number ≥ 0\)/);
  assert.throws(() => sharedSettingsFromEnv({ EMOSTREAM_PARTITIONS: '6' }), /EMOSTREAM_PARTITIONS is not a setting; valid EMOSTREAM_\* names: EMOSTREAM_TOPIC_PREFIX, /);
  assert.deepEqual(shedOptionsFromEnv({ EMOSTREAM_SHED_AFTER_LAG: '64', EMOSTREAM_MAX_FRAME_AGE_MS: '0' }), { afterLag: 64, maxAgeMs: 0, activeMs: 60_000, headroom: 0.25 });
});

test('EMOSTREAM_MAX_FRAME_PIXELS: the detector\'s pixel cap, 4096x4096 unless set, at most 16384x16384', () => {
  assert.equal(sharedSettingsFromEnv({}).maxFramePixels, 4096 * 4096);
  assert.equal(sharedSettingsFromEnv({ EMOSTREAM_MAX_FRAME_PIXELS: '921600' }).maxFramePixels, 1280 * 720);
  assert.throws(() => sharedSettingsFromEnv({ EMOSTREAM_MAX_FRAME_PIXELS: '0' }), /EMOSTREAM_MAX_FRAME_PIXELS=0: .*\(a whole number from 1 to 268435456\)/);
  assert.throws(() => sharedSettingsFromEnv({ EMOSTREAM_MAX_FRAME_PIXELS: String(16384 * 16384 + 1) }), /EMOSTREAM_MAX_FRAME_PIXELS=268435457: /);
  assert.throws(() => sharedSettingsFromEnv({ EMOSTREAM_MAX_FRAME_PIXELS: '4096x4096' }), /EMOSTREAM_MAX_FRAME_PIXELS=4096x4096: /);
});
