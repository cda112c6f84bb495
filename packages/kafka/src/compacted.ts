/**
 * Reading a compacted, keyed topic to its end (restart recovery of stateful stages). "The end" is
 * found with a marker: a fresh message written first and read back last, so every transaction
 * committed before the read started is included, whatever offsets control records take.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { Logger } from '@emostream/runtime';
import { HEADER } from './codec/message.js';
import { StageError } from './errors.js';
import { createProducer } from './producer.js';

const MARKER_KEY = '__emostream_marker__';

/** Options of {@link readCompacted}. */
export interface ReadCompactedOptions {
  /** Prefix of the throw-away consumer group. */
  groupPrefix: string;
  logger: Logger;
  /** Give up after this long (the broker is down, a transaction hangs). */
  timeoutMs?: number;
}

/** The latest value of every key of a (one-partition or keyed) compacted topic; tombstones remove keys. */
export async function readCompacted(kafka: Kafka, topic: string, o: ReadCompactedOptions): Promise<Map<string, Buffer>> {
  const id = randomUUID();
  const producer = createProducer(kafka);
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: [{ key: MARKER_KEY, value: id, headers: { [HEADER.kind]: 'marker' } }] });
  } finally {
    await producer.disconnect();
  }
  const groupId = `${o.groupPrefix}-restore-${id}`;
  const consumer = kafka.consumer({ groupId, readUncommitted: false, allowAutoTopicCreation: false, maxBytesPerPartition: 8 * 1024 * 1024 });
  const state = new Map<string, Buffer>();
  const t0 = Date.now();
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new StageError(`reading ${topic} did not reach its end within ${o.timeoutMs ?? 60_000} ms`, true, { topic })), o.timeoutMs ?? 60_000);
      consumer.run({
        eachMessage: async ({ message }) => {
          const key = message.key?.toString('utf8');
          if (key === undefined) return;
          if (key === MARKER_KEY) {
            if (message.value?.toString('utf8') === id) { clearTimeout(timer); resolve(); }
            return;
          }
          if (!message.value || message.value.length === 0) state.delete(key);
          else state.set(key, message.value);
        },
      }).catch(reject);
    });
  } finally {
    await consumer.disconnect().catch(() => {});
    const admin = kafka.admin();
    await admin.connect().then(() => admin.deleteGroups([groupId])).catch(() => {}).finally(() => admin.disconnect());
  }
  o.logger.info('state read', { topic, keys: state.size, ms: Date.now() - t0 });
  return state;
}
