/**
 * The Kafka connection of every service (`KAFKA_*`): one strict zod schema, read from the
 * environment by the one reader (`settingsFromEnv`). {@link KafkaConfig} adds the topic and
 * group naming of the shared settings (`EMOSTREAM_*`, ./settings.ts).
 */
import fs from 'node:fs';
import { z } from 'zod';
import { settingsFromEnv } from '@emostream/runtime';
import { SharedSettingsSchema, sharedSettingsFromEnv, type SharedSettings } from './settings.js';

const positiveInt = (name: string, min: number, max: number, unit: string) =>
  z.number({ error: `${name} must be a number of ${unit} from ${min} to ${max}` }).int().min(min).max(max);

/** The env prefix of {@link KafkaConnectionSchema}. */
export const KAFKA_PREFIX = 'KAFKA_';

/**
 * `KAFKA_*` names that are not connection settings: the broker script's and the tests' (a
 * service started from the same shell must not reject them).
 */
export const KAFKA_OTHER_NAMES = ['KAFKA_PORT', 'KAFKA_VERSION', 'KAFKA_TEST_PORT', 'KAFKA_TEST_IMAGE', 'KAFKA_FAULTS_PORT'] as const;

/** Schema of the Kafka connection settings. Unknown keys fail; every number carries its unit. */
export const KafkaConnectionSchema = z.strictObject({
  brokers: z.array(z.string().regex(/^[^\s,:]+:\d{1,5}$/, { error: 'each broker must be host:port' })).min(1)
    .default(['127.0.0.1:9092'])
    .describe('Bootstrap brokers, host:port'),
  clientId: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/).default('emostream')
    .describe('Kafka client id; the service name and host are appended'),
  ssl: z.boolean().default(false).describe('TLS to the brokers'),
  sslCaFile: z.string().optional().describe('PEM CA bundle for the brokers\' certificates'),
  sslCertFile: z.string().optional().describe('PEM client certificate for mutual TLS'),
  sslKeyFile: z.string().optional().describe('PEM client key for mutual TLS'),
  sslRejectUnauthorized: z.boolean().default(true).describe('Verify the brokers\' certificates'),
  saslMechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional()
    .describe('SASL mechanism; the credentials come from a Secret'),
  saslUsername: z.string().optional().describe('SASL user'),
  saslPassword: z.string().optional().describe('SASL password; never logged'),
  saslAllowPlaintext: z.boolean().default(false)
    .describe('Allow SASL over an unencrypted connection; off: credentials would cross the network in clear'),
  maxBytesPerSend: positiveInt('maxBytesPerSend', 10_000, 100_000_000, 'bytes').default(900_000)
    .describe('Most value bytes in one produce request: kafkajs puts one send\'s messages for a partition into one record batch, which must stay under the broker\'s message.max.bytes (1 MB by default)'),
  connectionTimeoutMs: positiveInt('connectionTimeoutMs', 100, 120_000, 'ms').default(3_000)
    .describe('TCP connect timeout'),
  sessionTimeoutMs: positiveInt('sessionTimeoutMs', 6_000, 300_000, 'ms').default(30_000)
    .describe('Consumer session timeout: a consumer silent this long loses its partitions'),
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

/** Parsed Kafka connection settings. */
export type KafkaConnection = z.output<typeof KafkaConnectionSchema>;

/**
 * The Kafka config the services use: the connection, plus topic and group naming from the
 * shared settings (the same field schemas, under the names the callers use).
 */
export const KafkaConfigSchema = KafkaConnectionSchema.extend({
  topicPrefix: SharedSettingsSchema.shape.topicPrefix,
  groupPrefix: SharedSettingsSchema.shape.groupPrefix,
  partitions: SharedSettingsSchema.shape.topicPartitions,
  replicationFactor: SharedSettingsSchema.shape.topicReplication,
  biometricRetentionMs: SharedSettingsSchema.shape.biometricRetentionMs,
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

/** The connection settings from `KAFKA_*` variables, `overrides` on top. */
export function kafkaConnectionFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<z.input<typeof KafkaConnectionSchema>> = {}): KafkaConnection {
  return settingsFromEnv(KafkaConnectionSchema, KAFKA_PREFIX, env, { overrides, ignore: KAFKA_OTHER_NAMES, what: 'Kafka' });
}

/** The Kafka config of a connection and the shared settings' topic and group naming. */
export function kafkaConfigOf(connection: KafkaConnection, shared: Pick<SharedSettings, 'topicPrefix' | 'groupPrefix' | 'topicPartitions' | 'topicReplication' | 'biometricRetentionMs'>): KafkaConfig {
  return {
    ...connection, topicPrefix: shared.topicPrefix, groupPrefix: shared.groupPrefix,
    partitions: shared.topicPartitions, replicationFactor: shared.topicReplication, biometricRetentionMs: shared.biometricRetentionMs,
  };
}

/**
 * The Kafka config from the environment (`KAFKA_*` and the shared `EMOSTREAM_*` settings), with
 * `overrides` on top; a bad variable fails naming it.
 */
export function kafkaConfigFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: KafkaConfigInput = {}): KafkaConfig {
  const { topicPrefix, groupPrefix, partitions, replicationFactor, biometricRetentionMs, ...connection } = overrides;
  const shared = sharedSettingsFromEnv(env, { topicPrefix, groupPrefix, topicPartitions: partitions, topicReplication: replicationFactor, biometricRetentionMs });
  return kafkaConfigOf(kafkaConnectionFromEnv(env, connection), shared);
}

/** The consumer group id of a stage. */
export function groupIdFor(config: KafkaConfig, stage: string): string {
  return `${config.groupPrefix ?? `${config.topicPrefix}emostream-`}${stage}`;
}
