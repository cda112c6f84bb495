/** The settings of a service process (`serve`): each prefix one schema, read by the one reader. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SettingsError } from '@emostream/runtime';
import { DEFAULT_JPEG_QUALITY } from '@emostream/kafka';
import { DEFAULT_CLASSIFIER_SETTINGS, REUSE_IDLE_MS } from '@emostream/classifier';
import { DEFAULT_CLASSIFY, serviceSettingsFromEnv, sourceSettingsOf } from '@emostream/pipeline';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

test('serve aggregator: AGGREGATOR_TRANSACTIONAL_ID and the aggregator\'s settings through the function serve uses', () => {
  // It once made `serve aggregator` exit at start: `invalid aggregator config: (root): Unrecognized key: "TRANSACTIONAL_ID"`.
  const s = serviceSettingsFromEnv('aggregator', { AGGREGATOR_TRANSACTIONAL_ID: 'agg-0', AGGREGATOR_SMOOTHING_MS: '300' });
  assert.equal(s.own.transactionalId, 'agg-0');
  assert.equal(s.own.smoothingMs, 300);
});

test('the deployment\'s ConfigMap is valid for every service, with today\'s names and meanings', () => {
  const env = Object.fromEntries(fs.readFileSync(path.join(ROOT, 'deploy/k8s/base/config.env'), 'utf8').split('\n')
    .filter((l) => /^[A-Z]/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  // Kubernetes' service links of the Strimzi bootstrap Service are in every pod too.
  Object.assign(env, { EMOSTREAM_KAFKA_BOOTSTRAP_SERVICE_HOST: '10.0.0.7', EMOSTREAM_KAFKA_BOOTSTRAP_PORT: 'tcp://10.0.0.7:9092' });
  // The ConfigMap asks for TLS and SCRAM: without the user each Deployment adds from its Secret,
  // and the cluster CA it mounts, a service refuses to start, naming what is missing.
  assert.throws(() => serviceSettingsFromEnv('ingest', env), /KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD \(mount them from a Secret\)/);
  assert.equal(env.KAFKA_SSL, 'true');
  assert.equal(env.KAFKA_SASL_MECHANISM, 'scram-sha-512');
  assert.equal(env.KAFKA_SSL_CA_FILE, '/etc/emostream/kafka-ca/ca.crt');
  const ca = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ca-')), 'ca.crt');
  fs.writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n');
  Object.assign(env, { KAFKA_SASL_USERNAME: 'emostream-x', KAFKA_SASL_PASSWORD: 'from-the-secret', KAFKA_SSL_CA_FILE: ca });
  for (const service of ['ingest', 'detector', 'classifier', 'aggregator'] as const) assert.doesNotThrow(() => serviceSettingsFromEnv(service, env), service);
  const c = serviceSettingsFromEnv('classifier', env);
  assert.deepEqual(c.kafka.brokers, ['emostream-kafka-bootstrap:9093']);
  assert.equal(c.kafka.topicPrefix, '');
  assert.equal(c.kafka.groupPrefix, 'emostream-');
  assert.equal(c.kafka.partitions, 12);
  assert.equal(c.kafka.replicationFactor, 3);
  assert.equal(c.shared.metricsPort, 9464);
  assert.equal(c.own.model, '/models/current');
  assert.equal(serviceSettingsFromEnv('ingest', env).own.fpsLimit, 10);
  assert.equal(serviceSettingsFromEnv('detector', env).shared.shedAfterLag, 256);
});

test('a service reads its own prefix; every bad variable is reported at once, by name', () => {
  // The detector does not read INGEST_* (another service's settings in the same ConfigMap).
  assert.doesNotThrow(() => serviceSettingsFromEnv('detector', { INGEST_FPS: 'ten' }));
  assert.throws(() => serviceSettingsFromEnv('ingest', { INGEST_FPS: 'ten', KAFKA_SSL: 'yes', EMOSTREAM_METRICS_PORT: '-1' }), (e: unknown) => {
    assert.ok(e instanceof SettingsError);
    assert.equal(e.issues.length, 3, e.message);
    assert.match(e.message, /EMOSTREAM_METRICS_PORT=-1: .*\(a whole number from 0 to 65535\)/);
    assert.match(e.message, /KAFKA_SSL=yes: must be true, false, 1 or 0/);
    assert.match(e.message, /INGEST_FPS=ten: not a number \(a number from 0\.1 to 120\)/);
    return true;
  });
  // --metrics-port over EMOSTREAM_METRICS_PORT.
  assert.equal(serviceSettingsFromEnv('classifier', { EMOSTREAM_METRICS_PORT: '9100' }, { metricsPort: 9101 }).shared.metricsPort, 9101);
});

test('defaults agree across the packages: batching and reuse, JPEG quality; every camera gets the ingest fields but jpegQuality and realtime', () => {
  const d = DEFAULT_CLASSIFIER_SETTINGS;
  assert.deepEqual({ ...DEFAULT_CLASSIFY }, {
    maxWaitMs: d.maxWaitMs, maxBatchFrames: d.maxBatchFrames,
    reuse: { maxMs: d.reuseMaxMs, minMs: d.reuseMinMs, maxChange: d.reuseMaxChange, minIou: d.reuseMinIou, maxCameras: d.reuseMaxCameras, idleMs: REUSE_IDLE_MS, pairMs: d.mirrorPairMs },
  });
  const ingest = serviceSettingsFromEnv('ingest', { INGEST_REALTIME: 'true', INGEST_FPS: '4' }).own;
  assert.equal(ingest.jpegQuality, DEFAULT_JPEG_QUALITY);
  const source = sourceSettingsOf(ingest);
  assert.equal(source.fpsLimit, 4);
  assert.ok(!('jpegQuality' in source) && !('realtime' in source));
  assert.equal(source.giveUpAfterMs, 0);
  assert.equal(source.backoffMaxMs, 3_000);
});
