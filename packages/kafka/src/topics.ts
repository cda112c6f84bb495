/** The pipeline's topics with their partition counts and settings; created when missing. */
import type { Admin, Kafka } from 'kafkajs';
import { deadLetterTopic, topicNames, type TopicKey } from '@emostream/contracts';
import { backoffDelayMs, type Logger } from '@emostream/runtime';
import type { KafkaConfig } from './config.js';

/** One topic to create when missing. */
export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor: number;
  /** Topic-level settings (`cleanup.policy`, `max.message.bytes`...). */
  config?: Record<string, string>;
}

/** Topic names of a deployment (with its prefix), the dead-letter topics and the aggregator's state topic. */
export interface PipelineTopics extends Record<TopicKey, string> {
  dlq: Record<TopicKey, string>;
  /** Compacted, keyed by camera id: the aggregator's snapshot per camera (restart recovery). */
  aggregatorState: string;
}

/** The topic names for a prefix. */
export function pipelineTopics(prefix = ''): PipelineTopics {
  const t = topicNames(prefix);
  return {
    ...t,
    dlq: { frames: deadLetterTopic(t.frames), faces: deadLetterTopic(t.faces), emotions: deadLetterTopic(t.emotions), events: deadLetterTopic(t.events) },
    aggregatorState: `${prefix}aggregator-state`,
  };
}

// 16 MiB: a 4K JPEG frame fits with room; the broker script raises message.max.bytes to match.
const LARGE_MESSAGES = { 'max.message.bytes': String(16 * 1024 * 1024) };

/** Every topic of the pipeline with its settings. */
export function pipelineTopicSpecs(config: Pick<KafkaConfig, 'topicPrefix' | 'partitions' | 'replicationFactor'> & Partial<Pick<KafkaConfig, 'biometricRetentionMs'>>): TopicSpec[] {
  const t = pipelineTopics(config.topicPrefix);
  const rf = config.replicationFactor;
  const data = (topic: string, extra: Record<string, string> = {}): TopicSpec => ({ topic, partitions: config.partitions, replicationFactor: rf, config: { ...LARGE_MESSAGES, ...extra } });
  // Frames, face crops and embeddings (emotions carry them to the aggregator) are biometric data,
  // and only useful while fresh: kept as long as a restart needs to catch up (1 hour by default).
  const biometric = { 'retention.ms': String(config.biometricRetentionMs ?? 3_600_000) };
  return [
    data(t.frames, biometric), data(t.faces, biometric), data(t.emotions, biometric), data(t.events),
    data(t.dlq.frames, biometric), data(t.dlq.faces, biometric), data(t.dlq.emotions, biometric), data(t.dlq.events),
    // One partition: a restarting aggregator reads all cameras' snapshots in one pass.
    { topic: t.aggregatorState, partitions: 1, replicationFactor: rf, config: { 'cleanup.policy': 'compact', 'min.cleanable.dirty.ratio': '0.1', 'segment.ms': String(600_000), ...LARGE_MESSAGES } },
  ];
}

/** A refusal by the broker's authorizer (kafkajs puts per-topic errors in `errors`). */
export function isAuthorizationError(e: unknown): boolean {
  const err = e as { type?: string; errors?: unknown[]; message?: string };
  return /AUTHORIZATION_FAILED/.test(err?.type ?? '') || /not authorized|authorization failed/i.test(err?.message ?? '')
    || (Array.isArray(err?.errors) && err.errors.some(isAuthorizationError));
}

/** Errors of topic creation that a retry may cure (a busy controller, metadata not propagated yet). */
const RETRIABLE_TOPIC_ERRORS = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_CONTROLLER', 'REQUEST_TIMED_OUT', 'COORDINATOR_NOT_AVAILABLE']);

/**
 * Creates the topics that do not exist yet (existing ones are left as they are, whatever their
 * partition count). Safe to call from several services at once. Retries for up to `timeoutMs`
 * when the broker is busy: on a loaded broker a new topic's metadata can lag its creation, and
 * kafkajs's wait for leaders then fails with UNKNOWN_TOPIC_OR_PARTITION (seen in the fault suite).
 */
export async function ensureTopics(kafka: Kafka, specs: TopicSpec[], logger?: Logger, timeoutMs = 60_000): Promise<string[]> {
  const admin: Admin = kafka.admin();
  await admin.connect();
  const t0 = Date.now();
  const created = new Set<string>();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        const existing = new Set(await admin.listTopics());
        const missing = specs.filter((s) => !existing.has(s.topic));
        if (missing.length > 0) {
          await admin.createTopics({
            waitForLeaders: true,
            topics: missing.map((s) => ({
              topic: s.topic, numPartitions: s.partitions, replicationFactor: s.replicationFactor,
              configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
            })),
          }).catch((e: Error & { type?: string }) => {
            // Another service created it between list and create: fine.
            if (e.type === 'TOPIC_ALREADY_EXISTS' || /already exists/i.test(e.message)) return;
            // A secured cluster: topics are the admin's to create, never a service user's.
            if (isAuthorizationError(e)) {
              throw new Error(`topic(s) ${missing.map((s) => s.topic).join(', ')} do not exist and this Kafka user may not create them: create them as the cluster's admin (deploy/k8s's KafkaTopics; scripts/kafka.sh start --secure creates them)`);
            }
            throw e;
          });
          for (const s of missing) created.add(s.topic);
          logger?.info('topics created', { topics: missing.map((s) => s.topic) });
        }
        // Every topic has its partitions and leaders (not only the ones created here: another
        // service may have created them a moment ago).
        await admin.fetchTopicMetadata({ topics: specs.map((s) => s.topic) });
        return [...created];
      } catch (e) {
        const err = e as Error & { type?: string; retriable?: boolean };
        const retriable = (err.type !== undefined && RETRIABLE_TOPIC_ERRORS.has(err.type)) || err.retriable === true;
        if (!retriable || Date.now() - t0 > timeoutMs) throw e;
        logger?.warn('topics not ready yet; retrying', { error: err.message, attempt });
        await new Promise((r) => setTimeout(r, backoffDelayMs(attempt, { backoffInitialMs: 250, backoffMaxMs: 5_000 })));
      }
    }
  } finally {
    await admin.disconnect();
  }
}
