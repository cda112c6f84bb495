/**
 * Producing a chunk: its outputs (and, transactional, the `extra` messages and the consumer
 * offset) in one transaction, or plainly; a transaction whose outcome is unknown marks the
 * stage for a resync, which reloads producer, state and positions from the broker.
 */
import type { Kafka, Producer } from 'kafkajs';
import type { Logger } from '@emostream/runtime';
import type { ControlMessage } from '../codec/control.js';
import { createProducer, sendCapped, type TopicMessages } from '../producer.js';
import { errorChain } from '../errors.js';

/**
 * Protocol errors after which this producer can run no transaction again while a new one with
 * the same transactional id can (its InitProducerId bumps the epoch). INVALID_PRODUCER_EPOCH is
 * what a producer meets when the broker expired its open transaction (a network partition longer
 * than the transaction timeout); kafkajs marks them all not retriable. Not PRODUCER_FENCED:
 * another live producer took the transactional id, and this one must give way (it stays fatal;
 * with kafkajs's request versions the broker answers INVALID_PRODUCER_EPOCH in both cases, and
 * deploy/k8s never runs two aggregators with one id: one replica, Recreate).
 */
export const PRODUCER_STATE_LOST = new Set([
  'INVALID_PRODUCER_EPOCH', 'INVALID_TXN_STATE', 'INVALID_PRODUCER_ID_MAPPING', 'UNKNOWN_PRODUCER_ID',
  'OUT_OF_ORDER_SEQUENCE_NUMBER', 'TRANSACTION_COORDINATOR_FENCED',
]);

/** Whether an error (or one of its causes) is in {@link PRODUCER_STATE_LOST}. */
export function producerStateLost(e: unknown): boolean {
  return errorChain(e).some((x) => x.type !== undefined && PRODUCER_STATE_LOST.has(x.type));
}

/** Exactly-once settings: outputs, `extra` messages and consumer offsets commit together or not at all. */
export interface TransactionalOptions<In> {
  transactionalId: string;
  /** Messages to write in the same transaction after a chunk (e.g. the aggregator's state snapshots). */
  extra?: (inputs: In[], controls: ControlMessage[]) => TopicMessages[];
  /** Taken before a chunk; handed back to `rollback` when its transaction fails. */
  checkpoint?: () => unknown;
  /** Restores in-memory state to a checkpoint: the chunk will be delivered again. */
  rollback?: (checkpoint: unknown) => void;
}

/** The counters producing moves (a subset of `StageStats`). */
export interface ProduceCounters {
  transactionsAborted: number;
  resyncs: number;
}

/** What {@link ChunkProducer} needs of the stage. */
export interface ProduceOptions<In> {
  kafka: Kafka;
  groupId: string;
  inputTopic: string;
  maxBytesPerSend: number;
  transactional?: TransactionalOptions<In>;
  stats: ProduceCounters;
  log: Logger;
}

/** A processed chunk, as far as producing goes. */
export interface ChunkToProduce<In> {
  batches: TopicMessages[];
  inputs: In[];
  controls: ControlMessage[];
}

/** The chunk's place: its partition and last offset (the transaction commits the offset after it). */
export interface ChunkPosition {
  topic: string;
  partition: number;
  lastOffset: string;
}

/** What a resync reloads besides the producer. */
export interface ResyncTarget {
  /** Partitions of the input topic assigned to this member, read when logging and seeking. */
  partitions: () => number[];
  /** Reloads in-memory state (the stage's `onRejoin`). */
  reload: () => Promise<void>;
  /** Moves the consumer's position on one partition of the input topic. */
  seek: (partition: number, offset: string) => void;
}

/** The stage's producer: produces chunks, and replaces itself after a transaction with an unknown outcome. */
export class ChunkProducer<In> {
  private producer: Producer;
  /** A transaction's outcome is unknown: resync before the next chunk. */
  private outcomeUnknown = false;
  /** A send waiting for the broker (plain producer): since when, its attempt, the last error. */
  private wait: { since: number; attempt: number; error: string } | undefined;

  constructor(private readonly o: ProduceOptions<In>) {
    this.producer = this.create();
  }

  /** The current producer. */
  get current(): Producer {
    return this.producer;
  }

  /** A send that waits for the broker to come back, if any (readiness shows it). */
  get waiting(): { since: number; attempt: number; error: string } | undefined {
    return this.wait;
  }

  /** Whether a resync must run before the next chunk. */
  get resyncPending(): boolean {
    return this.outcomeUnknown;
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  /**
   * The chunk in hand was abandoned (the stage stalled): transactional, its transaction's outcome
   * is unknown, so producer, state and offsets are reloaded before the next chunk (the new
   * producer fences the old one: an abandoned transaction can no longer commit).
   */
  abandon(): void {
    if (this.o.transactional) this.outcomeUnknown = true;
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }

  /**
   * Produces a chunk's messages; transactional, with `extra` and the consumer offset in the same
   * transaction. Resolves once the broker acknowledged (or committed) them; throws otherwise.
   */
  async produce(chunk: ChunkToProduce<In>, at: ChunkPosition): Promise<void> {
    const tx = this.o.transactional;
    if (!tx) {
      await sendCapped(this.producer, chunk.batches, this.o.maxBytesPerSend, {
        onWait: (attempt, e, retryInMs) => {
          const error = String(e.message).split('\n')[0];
          this.wait = { since: this.wait?.since ?? Date.now(), attempt, error };
          if (attempt === 1 || attempt % 10 === 0) this.o.log.warn('sending waits for the Kafka broker; retrying', { topic: at.topic, partition: at.partition, attempt, retryInMs, error });
        },
        onResumed: (attempts) => {
          this.o.log.info('sent after waiting for the Kafka broker', { topic: at.topic, partition: at.partition, attempts, waitedMs: Date.now() - (this.wait?.since ?? Date.now()) });
          this.wait = undefined;
        },
      }).catch((e) => { this.wait = undefined; throw e; });
      return;
    }
    const extra = tx.extra?.(chunk.inputs, chunk.controls) ?? [];
    let t: Awaited<ReturnType<Producer['transaction']>>;
    try {
      t = await this.producer.transaction();
    } catch (e) {
      // The producer is stuck in a transaction state (an earlier commit or abort that failed).
      this.outcomeUnknown = true;
      throw e;
    }
    let committing = false;
    try {
      await sendCapped(t, [...chunk.batches, ...extra], this.o.maxBytesPerSend);
      await t.sendOffsets({
        consumerGroupId: this.o.groupId,
        topics: [{ topic: at.topic, partitions: [{ partition: at.partition, offset: String(BigInt(at.lastOffset) + 1n) }] }],
      });
      committing = true;
      await t.commit();
    } catch (e) {
      this.o.stats.transactionsAborted++;
      // A commit that failed may still have been applied (the broker's answer was lost), and a
      // producer whose abort failed cannot start another transaction: in both cases the
      // outcome is unknown here, so producer, state and offsets are reloaded from the broker.
      // A producer whose epoch is gone (the broker expired its transaction) is replaced too.
      const aborted = committing ? false : await t.abort().then(() => true, () => false);
      if (!aborted || producerStateLost(e)) this.outcomeUnknown = true;
      throw e;
    }
  }

  /**
   * After a transaction with an unknown outcome: a new producer with the same transactional id
   * (its InitProducerId makes the broker finish or abort the open transaction), then the state
   * (`onRejoin`) and the consumer positions (the group's committed offsets) as the broker has
   * them, so in-memory state and position match whatever was committed: nothing redone twice,
   * nothing skipped. Retried on the next batch until it succeeds (the broker may be away).
   */
  async resync(target: ResyncTarget): Promise<void> {
    const { o } = this;
    o.log.warn('transaction outcome unknown: reloading producer, state and offsets from the broker', { partitions: target.partitions() });
    await this.producer.disconnect().catch(() => {});
    this.producer = this.create();
    await this.producer.connect();
    const admin = o.kafka.admin();
    await admin.connect();
    try {
      const [committed] = await admin.fetchOffsets({ groupId: o.groupId, topics: [o.inputTopic] });
      const ends = await admin.fetchTopicOffsets(o.inputTopic);
      await target.reload();
      for (const partition of target.partitions()) {
        const c = committed?.partitions.find((x) => x.partition === partition)?.offset ?? '-1';
        const offset = BigInt(c) >= 0n ? c : ends.find((e) => e.partition === partition)?.low ?? '0';
        target.seek(partition, offset);
      }
    } finally {
      await admin.disconnect().catch(() => {});
    }
    this.outcomeUnknown = false;
    o.stats.resyncs++;
    o.log.info('resynchronised with the broker', { partitions: target.partitions() });
  }

  private create(): Producer {
    const tx = this.o.transactional;
    return createProducer(this.o.kafka, tx ? { transactionalId: tx.transactionalId } : {});
  }
}
