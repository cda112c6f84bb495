import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { SettingsError, coerceSetting, describeValues, settingFields, settingsFromEnv, settingsMarkdown, upperSnake } from './settings.js';

const Schema = z.strictObject({
  topicPrefix: z.string().regex(/^[A-Za-z0-9._-]{0,100}$/).default('').describe('Prefix of every topic name'),
  metricsPort: z.number().int().min(0).max(65535).default(9464).describe('Port of /metrics'),
  ratio: z.number().gt(0).default(0.5).describe('A ratio'),
  ssl: z.boolean().default(false).describe('TLS'),
  transport: z.enum(['tcp', 'udp']).default('tcp').describe('RTSP transport'),
  brokers: z.array(z.string()).min(1).default(['127.0.0.1:9092']).describe('Brokers'),
  password: z.string().optional().describe('A secret'),
  fpsLimit: z.number().min(0.1).max(120).default(10).meta({ env: 'FPS' }).describe('Frames per second'),
}).superRefine((c, ctx) => {
  if (c.ssl && c.metricsPort === 0) ctx.addIssue({ code: 'custom', path: ['ssl'], message: 'ssl needs a metricsPort' });
});

const read = (env: NodeJS.ProcessEnv, o = {}) => settingsFromEnv(Schema, 'T_', env, o);
const message = (f: () => unknown) => {
  try { f(); } catch (e) { assert.ok(e instanceof SettingsError, String(e)); return e.message; }
  assert.fail('no error');
};

test('names: PREFIX + the field in UPPER_SNAKE, or the suffix a field names', () => {
  assert.equal(upperSnake('sslRejectUnauthorized'), 'SSL_REJECT_UNAUTHORIZED');
  assert.equal(upperSnake('minFaceSizePx'), 'MIN_FACE_SIZE_PX');
  assert.deepEqual(settingFields(Schema, 'T_').map((f) => f.name),
    ['T_TOPIC_PREFIX', 'T_METRICS_PORT', 'T_RATIO', 'T_SSL', 'T_TRANSPORT', 'T_BROKERS', 'T_PASSWORD', 'T_FPS']);
});

test('defaults when nothing is set; each value converted by its field\'s type', () => {
  assert.deepEqual(read({}), { topicPrefix: '', metricsPort: 9464, ratio: 0.5, ssl: false, transport: 'tcp', brokers: ['127.0.0.1:9092'], fpsLimit: 10 });
  assert.deepEqual(read({
    T_TOPIC_PREFIX: '1', T_METRICS_PORT: '9100', T_RATIO: ' 0.25 ', T_SSL: '1', T_TRANSPORT: 'udp',
    T_BROKERS: 'a:1, b:2,', T_PASSWORD: '0042', T_FPS: '2.5', OTHER: 'x',
  }), { topicPrefix: '1', metricsPort: 9100, ratio: 0.25, ssl: true, transport: 'udp', brokers: ['a:1', 'b:2'], password: '0042', fpsLimit: 2.5 });
  // A topic prefix "1" stays the text "1", never the number 1.
  assert.strictEqual(read({ T_TOPIC_PREFIX: '1' }).topicPrefix, '1');
  assert.equal(read({ T_SSL: 'false' }).ssl, false);
  assert.equal(read({ T_SSL: '0' }).ssl, false);
  // An empty value is unset (a ConfigMap entry left blank).
  assert.equal(read({ T_METRICS_PORT: '' }).metricsPort, 9464);
  // Overrides win over the environment.
  assert.equal(read({ T_METRICS_PORT: '9100' }, { overrides: { metricsPort: 9200 } }).metricsPort, 9200);
});

test('a bad number, a boolean "yes", an unknown name: errors naming the variable and the valid values', () => {
  assert.equal(message(() => read({ T_METRICS_PORT: 'lots' })), 'invalid T_* settings: T_METRICS_PORT=lots: not a number (a whole number from 0 to 65535)');
  assert.equal(message(() => read({ T_SSL: 'yes' })), 'invalid T_* settings: T_SSL=yes: must be true, false, 1 or 0');
  assert.equal(message(() => read({ T_SMOOTHNESS: '1' })),
    'invalid T_* settings: T_SMOOTHNESS is not a setting; valid T_* names: T_TOPIC_PREFIX, T_METRICS_PORT, T_RATIO, T_SSL, T_TRANSPORT, T_BROKERS, T_PASSWORD, T_FPS');
  assert.equal(message(() => read({ T_METRICS_PORT: '70000' })),
    'invalid T_* settings: T_METRICS_PORT=70000: Too big: expected number to be <=65535 (a whole number from 0 to 65535)');
  assert.equal(message(() => read({ T_RATIO: '0' })), 'invalid T_* settings: T_RATIO=0: Too small: expected number to be >0 (a number > 0)');
  assert.match(message(() => read({ T_TRANSPORT: 'http' })), /^invalid T_\* settings: T_TRANSPORT=http: .*\(one of tcp, udp\)$/);
  assert.match(message(() => read({ T_TOPIC_PREFIX: 'a b' })), /^invalid T_\* settings: T_TOPIC_PREFIX: .*\(text matching \^\[A-Za-z0-9\._-\]\{0,100\}\$\)$/);
  // Refinements name the variables too.
  assert.equal(message(() => read({ T_SSL: 'true', T_METRICS_PORT: '0' })), 'invalid T_* settings: T_SSL=true: T_SSL needs a T_METRICS_PORT');
  // Every bad variable at once, with the name given in `what`.
  assert.equal(message(() => read({ T_SSL: 'yes', T_RATIO: 'x' }, { what: 'test' })),
    'invalid test settings: T_SSL=yes: must be true, false, 1 or 0; T_RATIO=x: not a number (a number > 0)');
});

test('free text is never echoed: it may be a password or a camera URL', () => {
  const m = message(() => settingsFromEnv(z.strictObject({ password: z.string().min(8) }), 'T_', { T_PASSWORD: 'hunter2' }));
  assert.ok(!m.includes('hunter2'), m);
  assert.match(m, /^invalid T_\* settings: T_PASSWORD: /);
});

test('names other code reads, and Kubernetes service links, are not unknown settings', () => {
  assert.doesNotThrow(() => read({ T_GPU: '1' }, { ignore: ['T_GPU'] }));
  assert.doesNotThrow(() => read({ T_KAFKA_BOOTSTRAP_SERVICE_HOST: '10.0.0.1', T_KAFKA_BOOTSTRAP_SERVICE_PORT: '9092', T_KAFKA_BOOTSTRAP_PORT: 'tcp://10.0.0.1:9092', T_KAFKA_BOOTSTRAP_PORT_9092_TCP_ADDR: '10.0.0.1' }));
  assert.throws(() => read({ T_METRIC_PORT: '9100' }), /T_METRIC_PORT is not a setting/);
});

test('coerceSetting and describeValues, as the command line uses them', () => {
  const [, port, , ssl, , brokers] = settingFields(Schema, 'T_');
  assert.deepEqual(coerceSetting(port, '80'), { value: 80 });
  assert.deepEqual(coerceSetting(port, ''), { error: 'not a number (a whole number from 0 to 65535)' });
  assert.deepEqual(coerceSetting(ssl, 'yes'), { error: 'must be true, false, 1 or 0' });
  assert.deepEqual(coerceSetting(brokers, 'a:1,b:2'), { value: ['a:1', 'b:2'] });
  assert.equal(describeValues(z.number().int().nonnegative()), 'a whole number ≥ 0');
  assert.equal(describeValues(z.boolean().default(true)), 'true, false, 1 or 0');
  assert.equal(describeValues(z.array(z.string()).optional()), 'a comma-separated list, each text');
  // Values a refinement allows are named in the field's metadata.
  assert.equal(describeValues(z.number().refine((v) => v % 90 === 0).default(0).meta({ values: '0, 90, 180 or 270' }).describe('turn')), '0, 90, 180 or 270');
});

test('settingsMarkdown: one row per variable with its default and description', () => {
  const md = settingsMarkdown(Schema, 'T_').split('\n');
  assert.equal(md[0], '| env variable | default | description |');
  assert.equal(md[2], '| `T_TOPIC_PREFIX` | empty | Prefix of every topic name. Accepts text matching `^[A-Za-z0-9._-]{0,100}$`. |');
  assert.equal(md[3], '| `T_METRICS_PORT` | `9464` | Port of /metrics. Accepts a whole number from 0 to 65535. |');
  assert.equal(md[7], '| `T_BROKERS` | `127.0.0.1:9092` | Brokers. Accepts a comma-separated list, each text. |');
  assert.equal(md[8], '| `T_PASSWORD` | none | A secret. Accepts text. |');
  assert.equal(md[9], '| `T_FPS` | `10` | Frames per second. Accepts a number from 0.1 to 120. |');
});
