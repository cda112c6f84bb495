/** Producing: an idempotent producer, and sends capped in bytes so no record batch exceeds the broker's limit. */
import { Partitioners, type Kafka, type Producer, type Transaction } from 'kafkajs';
import { backoffDelayMs, type BackoffPolicy } from '@emostream/runtime';
import { brokerAway } from './client.js';
import type { OutMessage } from './codec/message.js';

/** Messages for one topic. */
export interface TopicMessages {
  topic: string;
  messages: OutMessage[];
}

/** An idempotent producer (acks=all, one request in flight per broker: no reordering, no duplicates on retry). */
export function createProducer(kafka: Kafka, opts: { transactionalId?: string; transactionTimeoutMs?: number } = {}): Producer {
  const producer = kafka.producer({
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
  // A send waiting out a broker outage ends once its producer is disconnected (see sendCapped).
  producer.on(producer.events.CONNECT, () => disconnected.delete(producer));
  producer.on(producer.events.DISCONNECT, () => disconnected.add(producer));
  return producer;
}

/** Producers of {@link createProducer} disconnected by their owner. */
const disconnected = new WeakSet<Producer>();

/**
 * How a plain producer's failed send is retried while the broker is away: kafkajs's own retries
 * give up once its reconnects are exhausted (a send failed 80 s into an outage), so a send is
 * tried again after 0.3 s, doubling (with jitter) up to 3 s between attempts, for as long as it
 * takes. 3 s, as the producer's own cap: a live camera sends again soon after the broker is back.
 */
export const SEND_RETRY: BackoffPolicy = { backoffInitialMs: 300, backoffMaxMs: 3_000 };

/** Options of {@link sendCapped}. */
export interface SendOptions {
  /** Each failed attempt of a request that waits for the broker (attempt from 1, the delay before the next). */
  onWait?: (attempt: number, error: Error, retryInMs: number) => void;
  /** A request that waited is acknowledged, after `attempts`. */
  onResumed?: (attempts: number) => void;
  policy?: BackoffPolicy;
  sleep?: (ms: number) => Promise<void>;
}

const size = (m: OutMessage) => m.value.length + m.key.length + 64;

/**
 * Sends everything, in order, in as few requests as fit `maxBytes` each: kafkajs puts one send's
 * messages for a partition into a single record batch, and the broker rejects a batch above its
 * `message.max.bytes` (MESSAGE_TOO_LARGE). Order within a topic-partition is kept because the
 * requests are sent one after another. Resolves once the broker acknowledged all of them.
 *
 * Through a plain producer, a request that failed because the broker is away ({@link brokerAway})
 * is sent again after {@link SEND_RETRY}'s backoff, however long the outage, until it is
 * acknowledged or the producer is disconnected (then it throws). The idempotent producer gives
 * the retried request the sequence numbers of the failed one, so a request that did reach the
 * broker is not written twice. A transaction's request is not retried: the transaction fails.
 */
export async function sendCapped(to: Producer | Transaction, batches: TopicMessages[], maxBytes: number, o: SendOptions = {}): Promise<number> {
  let chunk: Map<string, OutMessage[]> = new Map();
  let bytes = 0;
  let sent = 0;
  const flush = async () => {
    if (chunk.size === 0) return;
    const topicMessages = [...chunk].map(([topic, messages]) => ({ topic, messages }));
    chunk = new Map();
    bytes = 0;
    await ('transaction' in to ? untilSent(to, () => to.sendBatch({ topicMessages, acks: -1 }), o) : to.sendBatch({ topicMessages, acks: -1 }));
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

/** Runs `send` until it succeeds, again after a backoff each time it fails because the broker is away, while `producer` is not disconnected. */
async function untilSent(producer: Producer, send: () => Promise<unknown>, o: SendOptions): Promise<void> {
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      await send();
      if (attempt > 1) o.onResumed?.(attempt);
      return;
    } catch (e) {
      if (disconnected.has(producer) || /producer is disconnected/.test((e as Error).message) || !brokerAway(e)) throw e;
      const retryInMs = backoffDelayMs(attempt - 1, o.policy ?? SEND_RETRY);
      o.onWait?.(attempt, e as Error, retryInMs);
      await sleep(retryInMs);
      if (disconnected.has(producer)) throw e;
    }
  }
}

/** The partition kafkajs's default (Java-compatible murmur2) partitioner gives a key among `partitions`. */
export function partitionForKey(key: string, partitions: number): number {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitions }, (_, i) => ({ partitionId: i, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
  return partitioner({ topic: 'any', partitionMetadata, message: { key, value: null } });
}
