/** Builds the kafkajs client from a {@link KafkaConfig}; kafkajs's log lines go to the service logger. */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { Kafka, logLevel, type KafkaConfig as KafkaJsConfig, type SASLOptions } from 'kafkajs';
import { backoffDelayMs, type BackoffPolicy, type Logger } from '@emostream/runtime';
import type { KafkaConfig } from './config.js';
import { errorChain } from './errors.js';
import { BrokerLink, setBrokerLink } from './link.js';

const LEVEL: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error', [logLevel.WARN]: 'warn', [logLevel.INFO]: 'info', [logLevel.DEBUG]: 'debug',
};

/** The messages of the Kafka protocol errors that kafkajs itself retries (its own error table). */
const RETRIABLE_MESSAGES = new Set(
  (createRequire(import.meta.url)('kafkajs/src/protocol/error.js') as { errorCodes: Array<{ message: string; retriable: boolean }> })
    .errorCodes.filter((e) => e.retriable).map((e) => e.message),
);

/**
 * The level a kafkajs log line is written at. kafkajs logs every failed response at error, also
 * those it retries by itself: a coordinator still loading, a transaction still being ended by the
 * previous request (CONCURRENT_TRANSACTIONS, several a minute on a busy transactional producer).
 * Those are warnings; a request that fails for good reaches the service as an exception, which
 * the service logs at error (and counts).
 */
export function kafkaLineLevel(level: number, message: string, error: unknown): 'error' | 'warn' | 'info' | 'debug' {
  const l = LEVEL[level] ?? 'info';
  if (l !== 'error') return l;
  if (message.startsWith('Response ') && typeof error === 'string' && RETRIABLE_MESSAGES.has(error)) return 'warn';
  // The producer's line before it retries a send (kafkajs sendMessages: "Failed to send messages: <why>").
  const send = /^Failed to send messages: (.*)$/.exec(message);
  if (send && RETRIABLE_MESSAGES.has(send[1])) return 'warn';
  return l;
}

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
      log[kafkaLineLevel(level, String(message), fields.error)](String(message), { namespace: entry.namespace, ...fields });
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
  // Its sockets say whether the broker is reachable now (brokerLinkOf: readiness).
  const link = new BrokerLink();
  const kafka = new Kafka({ ...options, socketFactory: link.socketFactory(), ...(o.retries === undefined ? {} : { retry: { ...options.retry, retries: o.retries } }) });
  setBrokerLink(kafka, link);
  return kafka;
}

/**
 * A client that fails fast, for probing the broker at start: no retries of its own (the wait
 * below spaces the attempts), and kafkajs's lines at debug (each refused attempt would add two
 * error lines beside the wait's one line).
 */
export function probeKafka(config: KafkaConfig, clientSuffix: string, logger: Logger): Kafka {
  const quiet = (l: Logger): Logger => {
    const d = (m: string, f?: Record<string, unknown>) => l.debug(m, f);
    return { debug: d, info: d, warn: d, error: d, child: (f) => quiet(l.child(f)) };
  };
  return createKafka(config, clientSuffix, quiet(logger), { retries: 0 });
}

/** The start-up wait for the broker: 0.5 s, doubling (with jitter) up to 15 s between attempts. */
export const BROKER_WAIT: BackoffPolicy = { backoffInitialMs: 500, backoffMaxMs: 15_000 };

/**
 * Whether waiting may cure a failed attempt: the broker not reachable yet (connection refused,
 * its name not resolvable yet, a timeout), or up but not ready (no leader, no controller).
 * Not a refusal that only a change of settings cures: credentials, an ACL, a certificate, or an
 * error that is not kafkajs's.
 */
export function brokerMayAppear(e: unknown): boolean {
  const chain = errorChain(e, 5);
  if (chain.length === 0 || !chain.some((x) => /^KafkaJS/.test(x.name ?? ''))) return false;
  return !chain.some((x) => x.name === 'KafkaJSSASLAuthenticationError' || /AUTHORIZATION_FAILED|SASL_AUTHENTICATION/.test(x.type ?? '')
    || /not authorized|authorization failed|certificate|self[- ]signed|SSL routines|wrong version number/i.test(x.message ?? ''));
}

/** Names of kafkajs errors that say the broker, or the way to it, is away for now. */
const AWAY = new Set([
  'KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSRequestTimeoutError', 'KafkaJSNoBrokerAvailableError', 'KafkaJSBrokerNotFound',
  'KafkaJSGroupCoordinatorNotFound', 'KafkaJSMetadataNotLoaded', 'KafkaJSTopicMetadataNotLoaded', 'KafkaJSLockTimeout', 'KafkaJSTimeout',
]);

/**
 * Whether a running client's failure is the broker going away (a lost or refused connection, a
 * timeout, no coordinator or leader for now: kafkajs's errors for these, or a protocol error it
 * marks retriable), so that retrying later will do. Narrower than {@link brokerMayAppear}: a
 * request the broker refuses for good (a message too large, an invalid setting) is not.
 */
export function brokerAway(e: unknown): boolean {
  if (!brokerMayAppear(e)) return false;
  const chain = errorChain(e, 5);
  const root = chain[chain.length - 1];
  return chain.some((x) => AWAY.has(x.name)) || (/^KafkaJS/.test(root.name) && root.retriable === true);
}

/** Options of {@link waitForBroker}. */
export interface BrokerWaitOptions {
  logger: Logger;
  /** Resolves when the process is told to stop: the wait ends, with `undefined`. */
  stopped: Promise<unknown>;
  /** Each failed attempt, with the error (a readiness check shows it). */
  onAttempt?: (attempt: number, error: Error) => void;
  policy?: BackoffPolicy;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Runs `attempt` until it succeeds, for as long as the process runs: a failure that waiting may
 * cure ({@link brokerMayAppear}) is logged as one line (attempt number, next delay, the error's
 * first line; never the settings, so never a password) and retried after a growing, capped
 * backoff; any other failure is thrown. `undefined` once `stopped` resolves, even mid-attempt.
 */
export async function waitForBroker<T>(attempt: () => Promise<T>, o: BrokerWaitOptions): Promise<T | undefined> {
  const policy = o.policy ?? BROKER_WAIT;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref()));
  const STOP: unique symbol = Symbol('stopped');
  const stopped: Promise<typeof STOP> = o.stopped.then(() => STOP);
  const t0 = Date.now();
  for (let n = 1; ; n++) {
    const run = attempt();
    run.catch(() => undefined); // an attempt left behind by a stop must not reject unhandled
    let r: Awaited<T> | typeof STOP;
    try {
      r = await Promise.race([run, stopped]);
    } catch (e) {
      if (!brokerMayAppear(e)) throw e;
      const err = e as Error;
      const retryInMs = backoffDelayMs(n - 1, policy, o.random);
      o.onAttempt?.(n, err);
      o.logger.warn('Kafka broker not reachable yet; retrying', { attempt: n, retryInMs, waitedMs: Date.now() - t0, error: String(err.message).split('\n')[0] });
      if ((await Promise.race([sleep(retryInMs), stopped])) === STOP) return undefined;
      continue;
    }
    if (r === STOP) return undefined;
    if (n > 1) o.logger.info('Kafka broker reachable', { attempts: n, waitedMs: Date.now() - t0 });
    return r;
  }
}
