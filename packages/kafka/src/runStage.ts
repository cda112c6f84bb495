/**
 * runStage: wraps a pipeline stage's RxJS operator (the very one the embedded pipeline uses) in a
 * Kafka consumer/producer. Consumes with `eachBatch`, decodes each message (bad ones go to the
 * dead-letter topic), pushes the good ones through the operator, produces the outputs, and only
 * then resolves and commits the offsets: at-least-once, or exactly-once (outputs, extra state
 * messages and offsets in one transaction) when `transactional` is given.
 */
import { Subject, lastValueFrom, of, toArray, type OperatorFunction, type Subscription } from 'rxjs';
import type { Batch, Consumer, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { Logger, PipelineMetrics } from '@emostream/runtime';
import type { KafkaConfig } from './config.js';
import { decodeControl, encodeControl, type ControlMessage } from './codec/control.js';
import type { Decoded, InMessage, OutMessage } from './codec/message.js';
import { deadLetter } from './dlq.js';
import { StageError } from './errors.js';
import { createProducer, sendCapped, type TopicMessages } from './producer.js';
import { startLagMonitor, type LagMonitor } from './lag.js';
import { FairShedder, type ShedOptions } from './shed.js';

/**
 * How outputs are matched to the input that caused them (a commit needs to know when an input is done).
 * - `each`: the operator is subscribed once per input, which is done when that subscription
 *   completes (0..n outputs). For stateless stages (the detector; it is applied per frame in the
 *   embedded pipeline too).
 * - `keyed`: one long-lived subscription; exactly one output per input, matched by key (the
 *   classifier: its `bufferTime` batches inputs from every partition fed concurrently).
 * - `sync`: one long-lived subscription whose outputs for an input are emitted synchronously while
 *   it is pushed (the aggregator: a stateful state machine, 0..n events per input).
 */
export type Correlation<In, Out> =
  | { mode: 'each' }
  | { mode: 'keyed'; inputKey: (input: In) => string; outputKey: (output: Out) => string }
  | { mode: 'sync' };

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

/** A stage to run. */
export interface StageSpec<In, Out> {
  /** Stage name: `stage` label of `deadLetters`, client id suffix. */
  stage: string;
  kafka: Kafka;
  config: Pick<KafkaConfig, 'maxBytesPerSend' | 'sessionTimeoutMs'>;
  inputTopic: string;
  groupId: string;
  outputTopic: string;
  dlqTopic: string;
  decode: (m: InMessage) => Decoded<In> | Promise<Decoded<In>>;
  operator: OperatorFunction<In, Out>;
  correlation: Correlation<In, Out>;
  encode: (output: Out) => OutMessage;
  /** Outputs for a control message, emitted in its place (default: pass it on to the output topic). */
  onControl?: (c: ControlMessage) => Out[];
  transactional?: TransactionalOptions<In>;
  /** Called before the first batch after each group (re)join except the first, e.g. to reload state. */
  onRejoin?: () => Promise<void>;
  /** Partitions processed at once (a `keyed` stage batches across them). Default 1. */
  partitionsConcurrently?: number;
  /** Messages per produce-and-commit step (bounds memory and the redelivery after a crash). Default 32. */
  chunkSize?: number;
  /**
   * Most bytes fetched from one partition per round (default 1 MiB: ~30 JPEG frames of 360p).
   * Partitions are handled one after another within a round, so this keeps cameras fair when a
   * stage is behind: with 8 MiB one camera's backlog of ~250 frames went through before the next
   * camera's (load test, 4 cameras: 120 vs 393 frames per camera; 1 MiB: 232 to 274). It is not
   * enough when partitions carry unequal numbers of cameras (16 cameras: 77 to 336 frames each in
   * 2 minutes; 256 KiB was worse): `shed` evens that out. A bigger message still comes whole.
   */
  maxBytesPerPartition?: number;
  /**
   * Load shedding while behind (the detector): messages keyed by camera are spaced out evenly
   * per camera so the stage keeps up, and stale ones skipped; counted in `framesDropped` with
   * reason `overload` or `stale`. Only messages `applies` accepts (live frames). Off when absent. See shed.ts.
   */
  shed?: ShedOptions & { applies: (m: InMessage) => boolean };
  /** A new group starts at the earliest offset (default true: frames produced before the first start are not skipped). */
  fromBeginning?: boolean;
  logger: Logger;
  /** With metrics, the group's lag on this member's partitions is polled into `consumerLag`. */
  metrics?: PipelineMetrics;
  /** How often the consumer lag is read, ms (default 5000; 0: never). */
  lagIntervalMs?: number;
}

/** Counters of a running stage. */
export interface StageStats {
  consumed: number;
  produced: number;
  deadLetters: number;
  controls: number;
  chunks: number;
  transactionsAborted: number;
  /** Messages skipped by load shedding (see `shed`). */
  shed: number;
  /** Transactions whose outcome was unknown (commit or abort failed): producer, state and offsets reloaded from the broker. */
  resyncs: number;
}

/** A running stage. */
export interface RunningStage {
  readonly stats: StageStats;
  /** Ready once the consumer joined its group and the producer is connected. */
  ready(): { ok: boolean; reasons: string[] };
  /** Rejects when the stage fails for good (the process should exit and be restarted). */
  readonly done: Promise<void>;
  /** Finishes the current chunk, commits, leaves the group, disconnects. */
  stop(): Promise<void>;
  readonly consumer: Consumer;
  /** The current producer (a transactional stage replaces it after a transaction with an unknown outcome). */
  readonly producer: Producer;
}

/** Feeds a long-lived operator subscription and matches outputs to inputs. */
class Feeder<In, Out> {
  private readonly input = new Subject<In>();
  private readonly sub: Subscription;
  private readonly waiting = new Map<string, Array<(o: Out) => void>>();
  private failures: Array<(e: unknown) => void> = [];
  private syncOut: Out[] | undefined;
  private error: unknown;

  constructor(operator: OperatorFunction<In, Out>, private readonly c: Correlation<In, Out>, private readonly log: Logger) {
    this.sub = this.input.pipe(operator).subscribe({
      next: (o) => this.onOutput(o),
      error: (e) => this.fail(e),
      complete: () => this.fail(new StageError('the stage operator completed while the consumer runs', false)),
    });
  }

  /** The outputs of one input (keyed: exactly one; sync: those emitted during the push). */
  feed(item: In): Promise<Out[]> {
    if (this.error) return Promise.reject(this.error);
    if (this.c.mode === 'sync') {
      this.syncOut = [];
      this.input.next(item);
      const outs = this.syncOut;
      this.syncOut = undefined;
      return this.error ? Promise.reject(this.error) : Promise.resolve(outs);
    }
    if (this.c.mode !== 'keyed') throw new StageError('Feeder is for keyed or sync stages', false);
    const key = this.c.inputKey(item);
    return new Promise<Out[]>((resolve, reject) => {
      let list = this.waiting.get(key);
      if (!list) this.waiting.set(key, (list = []));
      list.push((o) => resolve([o]));
      this.failures.push(reject);
      this.input.next(item);
    });
  }

  private onOutput(o: Out): void {
    if (this.c.mode === 'sync') {
      if (this.syncOut) this.syncOut.push(o);
      else this.log.error('stage emitted an output outside a push: dropped (the sync operator must be synchronous)');
      return;
    }
    if (this.c.mode !== 'keyed') return;
    const key = this.c.outputKey(o);
    const list = this.waiting.get(key);
    const resolve = list?.shift();
    if (list && list.length === 0) this.waiting.delete(key);
    if (resolve) resolve(o);
    else this.log.warn('stage emitted an output no input is waiting for: dropped', { key });
    if (this.waiting.size === 0) this.failures = [];
  }

  private fail(e: unknown): void {
    this.error = e;
    for (const reject of this.failures) reject(e);
    this.failures = [];
    this.waiting.clear();
  }

  close(): void {
    this.sub.unsubscribe();
  }
}

const chunked = <T>(xs: T[], n: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
};

/** Starts a stage: connects, subscribes, runs until `stop()` or a fatal error. */
export async function runStage<In, Out>(spec: StageSpec<In, Out>): Promise<RunningStage> {
  const log = spec.logger.child({ stage: spec.stage });
  const stats: StageStats = { consumed: 0, produced: 0, deadLetters: 0, controls: 0, shed: 0, chunks: 0, transactionsAborted: 0, resyncs: 0 };
  const tx = spec.transactional;
  let producer = createProducer(spec.kafka, tx ? { transactionalId: tx.transactionalId } : {});
  const consumer = spec.kafka.consumer({
    groupId: spec.groupId,
    sessionTimeout: spec.config.sessionTimeoutMs,
    heartbeatInterval: Math.min(3_000, Math.floor(spec.config.sessionTimeoutMs / 3)),
    maxBytesPerPartition: spec.maxBytesPerPartition ?? 1024 * 1024,
    maxBytes: 32 * 1024 * 1024,
    allowAutoTopicCreation: false,
    // Read only committed transactions (the aggregator's events and state are transactional).
    readUncommitted: false,
  });
  const feeder = spec.correlation.mode === 'each' ? undefined : new Feeder(spec.operator, spec.correlation, log);
  const chunkSize = spec.chunkSize ?? 32;
  const shedder = spec.shed ? new FairShedder(spec.shed) : undefined;
  let joined = false;
  let joins = 0;
  let rejoinPending = false;
  /** Partitions of the input topic assigned to this member (from the last group join). */
  let assigned: number[] = [];
  let resyncPending = false;
  let fatal: ((e: unknown) => void) | undefined;
  const done = new Promise<void>((_resolve, reject) => { fatal = reject; });
  done.catch(() => {});

  const feed = (item: In): Promise<Out[]> => {
    if (feeder) return feeder.feed(item);
    return lastValueFrom(of(item).pipe(spec.operator, toArray()));
  };

  /** Decodes and processes one chunk of one partition; returns the messages to produce, in order. */
  const processChunk = async (batch: Batch, messages: KafkaMessage[], waitingAfter: number) => {
    const slots: Array<Promise<OutMessage[]>> = [];
    const dlq: OutMessage[] = [];
    const inputs: In[] = [];
    const controls: ControlMessage[] = [];
    for (const [i, m] of messages.entries()) {
      stats.consumed++;
      const control = decodeControl(m);
      if (control) {
        stats.controls++;
        controls.push(control);
        // In its place: after the outputs of the inputs before it, before those after it.
        const prior = Promise.all(slots);
        slots.push(spec.onControl
          ? prior.then(() => spec.onControl!(control).map(spec.encode))
          : prior.then(() => [encodeControl(control)]));
        // A sync stage's control hook must run between the pushes around it.
        if (spec.onControl && spec.correlation.mode === 'sync') await slots[slots.length - 1];
        continue;
      }
      const key = m.key?.toString() ?? '';
      const sheddable = shedder !== undefined && spec.shed!.applies(m);
      if (sheddable) {
        const verdict = shedder!.decide(key, batch.partition, Number(m.timestamp), waitingAfter + messages.length - 1 - i, Date.now());
        if (verdict) {
          stats.shed++;
          spec.metrics?.framesDropped.inc({ camera: key, reason: verdict });
          continue;
        }
      }
      const started = performance.now();
      const d = await spec.decode(m);
      if (!d.ok) {
        stats.deadLetters++;
        spec.metrics?.deadLetters.inc({ stage: spec.stage, reason: d.reason });
        log.warn('message sent to the dead-letter topic', { reason: d.reason, detail: d.detail, topic: batch.topic, partition: batch.partition, offset: m.offset });
        dlq.push(deadLetter(m, { stage: spec.stage, reason: d.reason, detail: d.detail, topic: batch.topic, partition: batch.partition, offset: m.offset }));
        continue;
      }
      inputs.push(d.value);
      const slot = feed(d.value).then((outs) => outs.map(spec.encode));
      slots.push(slot);
      // `each` stages run one input at a time (the detector is single-threaded; one decoded frame in memory).
      if (spec.correlation.mode === 'each') {
        await slot;
        if (sheddable) shedder!.processed(performance.now() - started);
      }
    }
    const outputs = (await Promise.all(slots)).flat();
    const batches: TopicMessages[] = [{ topic: spec.outputTopic, messages: outputs }, { topic: spec.dlqTopic, messages: dlq }];
    return { batches, inputs, controls, outputs: outputs.length + dlq.length };
  };

  const eachBatch = async (p: {
    batch: Batch; resolveOffset: (o: string) => void; heartbeat: () => Promise<void>;
    commitOffsetsIfNecessary: () => Promise<void>; isRunning: () => boolean; isStale: () => boolean;
  }) => {
    const { batch } = p;
    if (resyncPending) {
      await resync();
      // The batch in hand was fetched from the old position: the seeks make it stale; the next
      // fetch starts at the committed offsets.
      return;
    }
    if (rejoinPending && spec.onRejoin) {
      rejoinPending = false;
      await spec.onRejoin();
    }
    const behindBatch = shedder ? Number(batch.offsetLag()) : 0;
    let inBatchAfter = batch.messages.length;
    for (const messages of chunked(batch.messages, chunkSize)) {
      if (!p.isRunning() || p.isStale()) return;
      inBatchAfter -= messages.length;
      const last = messages[messages.length - 1].offset;
      const checkpoint = tx?.checkpoint?.();
      try {
        const r = await processChunk(batch, messages, behindBatch + inBatchAfter);
        if (tx) {
          const extra = tx.extra?.(r.inputs, r.controls) ?? [];
          let t: Awaited<ReturnType<Producer['transaction']>>;
          try {
            t = await producer.transaction();
          } catch (e) {
            // The producer is stuck in a transaction state (an earlier commit or abort that failed).
            resyncPending = true;
            throw e;
          }
          let committing = false;
          try {
            await sendCapped(t, [...r.batches, ...extra], spec.config.maxBytesPerSend);
            await t.sendOffsets({
              consumerGroupId: spec.groupId,
              topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: String(BigInt(last) + 1n) }] }],
            });
            committing = true;
            await t.commit();
          } catch (e) {
            stats.transactionsAborted++;
            // A commit that failed may still have been applied (the broker's answer was lost), and a
            // producer whose abort failed cannot start another transaction: in both cases the
            // outcome is unknown here, so producer, state and offsets are reloaded from the broker.
            const aborted = committing ? false : await t.abort().then(() => true, () => false);
            if (!aborted) resyncPending = true;
            throw e;
          }
        } else {
          await sendCapped(producer, r.batches, spec.config.maxBytesPerSend);
        }
        stats.produced += r.outputs;
        stats.chunks++;
      } catch (e) {
        if (tx?.rollback && checkpoint !== undefined) tx.rollback(checkpoint);
        log.warn('chunk failed: it will be delivered again', { topic: batch.topic, partition: batch.partition, firstOffset: messages[0].offset, error: (e as Error).message });
        throw new StageError(`${spec.stage}: producing the outputs of ${batch.topic}[${batch.partition}]@${messages[0].offset} failed: ${(e as Error).message}`, true,
          { topic: batch.topic, partition: batch.partition, offset: messages[0].offset }, { cause: e });
      }
      // Outputs are acknowledged by the broker: only now the inputs count as consumed.
      for (const m of messages) p.resolveOffset(m.offset);
      if (!tx) await p.commitOffsetsIfNecessary();
      await p.heartbeat();
    }
  };

  /**
   * After a transaction with an unknown outcome: a new producer with the same transactional id
   * (its InitProducerId makes the broker finish or abort the open transaction), then the state
   * (`onRejoin`) and the consumer positions (the group's committed offsets) as the broker has
   * them, so in-memory state and position match whatever was committed: nothing redone twice,
   * nothing skipped. Retried on the next batch until it succeeds (the broker may be away).
   */
  const resync = async () => {
    log.warn('transaction outcome unknown: reloading producer, state and offsets from the broker', { partitions: assigned });
    await producer.disconnect().catch(() => {});
    producer = createProducer(spec.kafka, { transactionalId: tx!.transactionalId });
    await producer.connect();
    const admin = spec.kafka.admin();
    await admin.connect();
    try {
      const [committed] = await admin.fetchOffsets({ groupId: spec.groupId, topics: [spec.inputTopic] });
      const ends = await admin.fetchTopicOffsets(spec.inputTopic);
      if (spec.onRejoin) await spec.onRejoin();
      rejoinPending = false;
      for (const partition of assigned) {
        const c = committed?.partitions.find((x) => x.partition === partition)?.offset ?? '-1';
        const offset = BigInt(c) >= 0n ? c : ends.find((e) => e.partition === partition)?.low ?? '0';
        consumer.seek({ topic: spec.inputTopic, partition, offset });
      }
    } finally {
      await admin.disconnect().catch(() => {});
    }
    resyncPending = false;
    stats.resyncs++;
    log.info('resynchronised with the broker', { partitions: assigned });
  };

  const lag: LagMonitor | undefined = spec.metrics && spec.lagIntervalMs !== 0
    ? startLagMonitor({ kafka: spec.kafka, groupId: spec.groupId, gauge: spec.metrics.consumerLag, logger: log, intervalMs: spec.lagIntervalMs })
    : undefined;

  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    joined = true;
    joins++;
    if (joins > 1) rejoinPending = true;
    assigned = [...(e.payload.memberAssignment[spec.inputTopic] ?? [])];
    lag?.assign(e.payload.memberAssignment);
    log.info('joined group', { groupId: spec.groupId, assignment: e.payload.memberAssignment });
  });
  consumer.on(consumer.events.CRASH, (e) => {
    joined = false;
    const err = e.payload.error as Error & { retriable?: boolean };
    log.warn('consumer crashed', { error: err.message, restart: e.payload.restart });
    if (!e.payload.restart) fatal?.(new StageError(`${spec.stage}: consumer stopped: ${err.message}`, false, {}, { cause: err }));
  });

  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topics: [spec.inputTopic], fromBeginning: spec.fromBeginning ?? true });
  await consumer.run({
    partitionsConsumedConcurrently: spec.partitionsConcurrently ?? 1,
    eachBatchAutoResolve: false,
    // Transactional stages commit their offsets inside the transaction.
    autoCommit: !tx,
    autoCommitInterval: 1_000,
    eachBatch,
  });

  let stopped = false;
  return {
    stats,
    consumer,
    get producer() { return producer; },
    done,
    ready: () => {
      const reasons: string[] = [];
      if (!joined) reasons.push(`not in consumer group ${spec.groupId} yet`);
      return { ok: reasons.length === 0, reasons };
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await consumer.disconnect().catch((e: Error) => log.warn('consumer disconnect failed', { error: e.message }));
      await lag?.stop();
      feeder?.close();
      await producer.disconnect().catch((e: Error) => log.warn('producer disconnect failed', { error: e.message }));
    },
  };
}
