/** Producing: an idempotent producer, and sends capped in bytes so no record batch exceeds the broker's limit. */
import { Partitioners, type Kafka, type Producer, type Transaction } from 'kafkajs';
import type { OutMessage } from './codec/message.js';

/** Messages for one topic. */
export interface TopicMessages {
  topic: string;
  messages: OutMessage[];
}

/** An idempotent producer (acks=all, one request in flight per broker: no reordering, no duplicates on retry). */
export function createProducer(kafka: Kafka, opts: { transactionalId?: string; transactionTimeoutMs?: number } = {}): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // An idempotent producer retries until the broker answers (kafkajs warns that a retry limit
    // may break its guarantees); each wait is capped, and a caller whose send hangs is the
    // backpressure: ingest's bounded queue drops or pauses, a stage stops consuming. The cap is
    // 3 s, not 10: a live camera drops frames until the producer notices the broker is back
    // (in the fault suite's broker crash the producer was still waiting out a 10 s retry step
    // 8 s after the broker was back); a connect attempt every 3 s while it is away costs nothing.
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 3_000 },
    ...(opts.transactionalId ? { transactionalId: opts.transactionalId, transactionTimeout: opts.transactionTimeoutMs ?? 30_000 } : {}),
  });
}

const size = (m: OutMessage) => m.value.length + m.key.length + 64;

/**
 * Sends everything, in order, in as few requests as fit `maxBytes` each: kafkajs puts one send's
 * messages for a partition into a single record batch, and the broker rejects a batch above its
 * `message.max.bytes` (MESSAGE_TOO_LARGE). Order within a topic-partition is kept because the
 * requests are sent one after another. Resolves once the broker acknowledged all of them.
 */
export async function sendCapped(to: Producer | Transaction, batches: TopicMessages[], maxBytes: number): Promise<number> {
  let chunk: Map<string, OutMessage[]> = new Map();
  let bytes = 0;
  let sent = 0;
  const flush = async () => {
    if (chunk.size === 0) return;
    const topicMessages = [...chunk].map(([topic, messages]) => ({ topic, messages }));
    chunk = new Map();
    bytes = 0;
    await to.sendBatch({ topicMessages, acks: -1 });
  };
  for (const { topic, messages } of batches) {
    for (const m of messages) {
      const b = size(m);
      if (bytes > 0 && bytes + b > maxBytes) await flush();
      let list = chunk.get(topic);
      if (!list) chunk.set(topic, (list = []));
      list.push(m);
      bytes += b;
      sent++;
    }
  }
  await flush();
  return sent;
}

/** The partition kafkajs's default (Java-compatible murmur2) partitioner gives a key among `partitions`. */
export function partitionForKey(key: string, partitions: number): number {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitions }, (_, i) => ({ partitionId: i, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
  return partitioner({ topic: 'any', partitionMetadata, message: { key, value: null } });
}
