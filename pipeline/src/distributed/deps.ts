/** What every distributed service receives. */
import type { Logger, PipelineMetrics } from '@emostream/runtime';
import type { Kafka, KafkaConfig } from '@emostream/kafka';

/** The Kafka client, its settings, logging and metrics of a service. */
export interface ServiceDeps {
  kafka: Kafka;
  config: KafkaConfig;
  logger: Logger;
  metrics?: PipelineMetrics;
  /** Consumer group id (default: `groupIdFor(config, stage)`). */
  groupId?: string;
  /** The stage's stall timeout, ms (`EMOSTREAM_STALL_TIMEOUT_MS`; absent or 0: no stall watch). */
  stallMs?: number;
}
