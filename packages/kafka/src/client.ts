/** Builds the kafkajs client from a {@link KafkaConfig}; kafkajs's log lines go to the service logger. */
import fs from 'node:fs';
import { Kafka, logLevel, type KafkaConfig as KafkaJsConfig, type SASLOptions } from 'kafkajs';
import type { Logger } from '@emostream/runtime';
import type { KafkaConfig } from './config.js';

const LEVEL: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error', [logLevel.WARN]: 'warn', [logLevel.INFO]: 'info', [logLevel.DEBUG]: 'debug',
};

/** kafkajs's own options for a config (exported for tests). */
export function kafkaJsOptions(config: KafkaConfig, clientSuffix: string, logger: Logger): KafkaJsConfig {
  const sasl: SASLOptions | undefined = config.saslMechanism
    ? { mechanism: config.saslMechanism, username: config.saslUsername!, password: config.saslPassword! } as SASLOptions
    : undefined;
  const ssl = config.ssl
    ? {
        rejectUnauthorized: config.sslRejectUnauthorized,
        ...(config.sslCaFile ? { ca: [fs.readFileSync(config.sslCaFile, 'utf8')] } : {}),
        ...(config.sslCertFile ? { cert: fs.readFileSync(config.sslCertFile, 'utf8') } : {}),
        ...(config.sslKeyFile ? { key: fs.readFileSync(config.sslKeyFile, 'utf8') } : {}),
      }
    : false;
  const log = logger.child({ component: 'kafkajs' });
  return {
    clientId: `${config.clientId}-${clientSuffix}`,
    brokers: config.brokers,
    ssl,
    sasl,
    connectionTimeout: config.connectionTimeoutMs,
    // One backoff policy with jitter and a cap (kafkajs's own: factor 0.2 jitter, doubling).
    retry: { initialRetryTime: 300, maxRetryTime: 10_000, retries: 8 },
    logLevel: logLevel.WARN,
    logCreator: () => ({ level, log: entry }) => {
      const { message, timestamp: _t, logger: _l, ...fields } = entry;
      // kafkajs logs the SASL password nowhere, but its broker/connection errors are noisy at
      // WARN during normal rebalances: keep them at their level, the logger redacts the rest.
      log[LEVEL[level] ?? 'info'](String(message), { namespace: entry.namespace, ...fields });
    },
  };
}

/**
 * A kafkajs client for one service (`clientSuffix`: detector, classifier...). `retries`: how often
 * a failed connection or request is retried (8 unless told; a probe that must fail fast uses 0).
 */
export function createKafka(config: KafkaConfig, clientSuffix: string, logger: Logger, o: { retries?: number } = {}): Kafka {
  // The default partitioner is Java-compatible murmur2: a camera id lands on the same partition
  // as with any other Kafka client. Setting it explicitly silences kafkajs's v2 warning.
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
  const options = kafkaJsOptions(config, clientSuffix, logger);
  return new Kafka(o.retries === undefined ? options : { ...options, retry: { ...options.retry, retries: o.retries } });
}
