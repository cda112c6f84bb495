/** The Kafka connection and topic config of every service: one strict zod schema, read from env in one place. */
import fs from 'node:fs';
import { z } from 'zod';

const positiveInt = (name: string, min: number, max: number, unit: string) =>
  z.number({ error: `${name} must be a number of ${unit} from ${min} to ${max}` }).int().min(min).max(max);

/** Schema of the Kafka settings. Unknown keys fail; every number carries its unit. */
export const KafkaConfigSchema = z.strictObject({
  brokers: z.array(z.string().regex(/^[^\s,:]+:\d{1,5}$/, { error: 'each broker must be host:port' })).min(1)
    .default(['127.0.0.1:9092'])
    .describe('Bootstrap brokers, host:port (env KAFKA_BROKERS, comma-separated)'),
  clientId: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/).default('emostream')
    .describe('Kafka client id (env KAFKA_CLIENT_ID); the service name is appended'),
  ssl: z.boolean().default(false).describe('TLS to the brokers (env KAFKA_SSL=true)'),
  sslCaFile: z.string().optional().describe('PEM CA bundle for the brokers\' certificates (env KAFKA_SSL_CA_FILE)'),
  sslCertFile: z.string().optional().describe('PEM client certificate for mutual TLS (env KAFKA_SSL_CERT_FILE)'),
  sslKeyFile: z.string().optional().describe('PEM client key for mutual TLS (env KAFKA_SSL_KEY_FILE)'),
  sslRejectUnauthorized: z.boolean().default(true).describe('Verify the brokers\' certificates (env KAFKA_SSL_REJECT_UNAUTHORIZED)'),
  saslMechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional()
    .describe('SASL mechanism (env KAFKA_SASL_MECHANISM); the credentials come from a Secret'),
  saslUsername: z.string().optional().describe('SASL user (env KAFKA_SASL_USERNAME)'),
  saslPassword: z.string().optional().describe('SASL password (env KAFKA_SASL_PASSWORD); never logged'),
  saslAllowPlaintext: z.boolean().default(false)
    .describe('Allow SASL over an unencrypted connection (env KAFKA_SASL_ALLOW_PLAINTEXT); off: credentials would cross the network in clear'),
  topicPrefix: z.string().regex(/^[A-Za-z0-9._-]{0,100}$/).default('')
    .describe('Prefix of every topic name (env EMOSTREAM_TOPIC_PREFIX), for tenants and tests'),
  groupPrefix: z.string().regex(/^[A-Za-z0-9._-]{0,100}$/).optional()
    .describe('Prefix of the consumer group ids (env EMOSTREAM_GROUP_PREFIX); default: the topic prefix + "emostream-"'),
  partitions: positiveInt('partitions', 1, 1000, 'partitions').default(6)
    .describe('Partitions of the pipeline topics when a service creates them (env EMOSTREAM_TOPIC_PARTITIONS); the most instances of a stage that can share the work'),
  replicationFactor: positiveInt('replicationFactor', 1, 10, 'replicas').default(1)
    .describe('Replication factor of topics a service creates (env EMOSTREAM_TOPIC_REPLICATION)'),
  maxBytesPerSend: positiveInt('maxBytesPerSend', 10_000, 100_000_000, 'bytes').default(900_000)
    .describe('Most value bytes in one produce request (env KAFKA_MAX_BYTES_PER_SEND): kafkajs puts one send\'s messages for a partition into one record batch, which must stay under the broker\'s message.max.bytes (1 MB by default)'),
  connectionTimeoutMs: positiveInt('connectionTimeoutMs', 100, 120_000, 'ms').default(3_000)
    .describe('TCP connect timeout (env KAFKA_CONNECTION_TIMEOUT_MS)'),
  sessionTimeoutMs: positiveInt('sessionTimeoutMs', 6_000, 300_000, 'ms').default(30_000)
    .describe('Consumer session timeout (env KAFKA_SESSION_TIMEOUT_MS): a consumer silent this long loses its partitions'),
}).superRefine((c, ctx) => {
  if (c.saslMechanism && (!c.saslUsername || c.saslPassword === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['saslUsername'], message: `KAFKA_SASL_MECHANISM=${c.saslMechanism} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (mount them from a Secret)` });
  }
  if (!c.saslMechanism && (c.saslUsername || c.saslPassword)) {
    ctx.addIssue({ code: 'custom', path: ['saslMechanism'], message: 'KAFKA_SASL_USERNAME/PASSWORD are set but KAFKA_SASL_MECHANISM is not: set it to plain, scram-sha-256 or scram-sha-512' });
  }
  if (c.saslMechanism && !c.ssl && !c.saslAllowPlaintext) {
    ctx.addIssue({ code: 'custom', path: ['ssl'], message: 'SASL without TLS sends credentials in clear: set KAFKA_SSL=true, or KAFKA_SASL_ALLOW_PLAINTEXT=true for a trusted network' });
  }
  if ((c.sslCertFile === undefined) !== (c.sslKeyFile === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['sslCertFile'], message: 'mutual TLS needs both KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE' });
  }
  for (const k of ['sslCaFile', 'sslCertFile', 'sslKeyFile'] as const) {
    const f = c[k];
    if (f !== undefined && !fs.existsSync(f)) ctx.addIssue({ code: 'custom', path: [k], message: `${k} ${f} does not exist` });
  }
});

/** A parsed Kafka config. */
export type KafkaConfig = z.infer<typeof KafkaConfigSchema>;
/** What a caller may pass (everything has a default). */
export type KafkaConfigInput = z.input<typeof KafkaConfigSchema>;

/** A bad Kafka setting; the message names the variable and what to change. */
export class KafkaConfigError extends Error {
  constructor(message: string, readonly issues: string[]) {
    super(message);
    this.name = 'KafkaConfigError';
  }
}

/** Parses a config object; throws a {@link KafkaConfigError} listing every bad field. */
export function parseKafkaConfig(input: unknown): KafkaConfig {
  const r = KafkaConfigSchema.safeParse(input ?? {});
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => {
    if (i.code === 'unrecognized_keys') return `unknown key(s) ${i.keys.join(', ')}`;
    return `${i.path.join('.') || '(config)'}: ${i.message}`;
  });
  throw new KafkaConfigError(`invalid Kafka config: ${issues.join('; ')}`, issues);
}

/** Env variable → config field. The only place that reads Kafka settings from the environment. */
const ENV: Record<string, keyof KafkaConfig> = {
  KAFKA_BROKERS: 'brokers', KAFKA_CLIENT_ID: 'clientId',
  KAFKA_SSL: 'ssl', KAFKA_SSL_CA_FILE: 'sslCaFile', KAFKA_SSL_CERT_FILE: 'sslCertFile', KAFKA_SSL_KEY_FILE: 'sslKeyFile',
  KAFKA_SSL_REJECT_UNAUTHORIZED: 'sslRejectUnauthorized',
  KAFKA_SASL_MECHANISM: 'saslMechanism', KAFKA_SASL_USERNAME: 'saslUsername', KAFKA_SASL_PASSWORD: 'saslPassword',
  KAFKA_SASL_ALLOW_PLAINTEXT: 'saslAllowPlaintext',
  EMOSTREAM_TOPIC_PREFIX: 'topicPrefix', EMOSTREAM_GROUP_PREFIX: 'groupPrefix',
  EMOSTREAM_TOPIC_PARTITIONS: 'partitions', EMOSTREAM_TOPIC_REPLICATION: 'replicationFactor',
  KAFKA_MAX_BYTES_PER_SEND: 'maxBytesPerSend', KAFKA_CONNECTION_TIMEOUT_MS: 'connectionTimeoutMs',
  KAFKA_SESSION_TIMEOUT_MS: 'sessionTimeoutMs',
};
const BOOLEAN = new Set<keyof KafkaConfig>(['ssl', 'sslRejectUnauthorized', 'saslAllowPlaintext']);
const NUMBER = new Set<keyof KafkaConfig>(['partitions', 'replicationFactor', 'maxBytesPerSend', 'connectionTimeoutMs', 'sessionTimeoutMs']);

/** The Kafka config from environment variables (see {@link KafkaConfigSchema} for names), with `overrides` on top. */
export function kafkaConfigFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: KafkaConfigInput = {}): KafkaConfig {
  const raw: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(ENV)) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    if (field === 'brokers') raw[field] = v.split(',').map((s) => s.trim()).filter(Boolean);
    else if (BOOLEAN.has(field)) raw[field] = v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v;
    else if (NUMBER.has(field)) raw[field] = Number.isFinite(Number(v)) ? Number(v) : v;
    else raw[field] = v;
  }
  try {
    return parseKafkaConfig({ ...raw, ...overrides });
  } catch (e) {
    if (!(e instanceof KafkaConfigError)) throw e;
    // Name the environment variables, not the fields: that is what the operator sets.
    const byField = Object.fromEntries(Object.entries(ENV).map(([k, f]) => [f, k]));
    const issues = e.issues.map((i) => i.replace(/^([A-Za-z]+)(?=[.:])/, (f) => byField[f] ?? f));
    throw new KafkaConfigError(`invalid Kafka settings: ${issues.join('; ')}`, issues);
  }
}

/** The consumer group id of a stage. */
export function groupIdFor(config: KafkaConfig, stage: string): string {
  return `${config.groupPrefix ?? `${config.topicPrefix}emostream-`}${stage}`;
}
