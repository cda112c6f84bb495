/**
 * runStage: wraps a pipeline stage's RxJS operator (the very one the embedded pipeline uses) in a
 * Kafka consumer/producer. Consumes with `eachBatch`, decodes each message (bad ones go to the
 * dead-letter topic), pushes the good ones through the operator, produces the outputs, and only
 * then resolves and commits the offsets: at-least-once, or exactly-once (outputs, extra state
 * messages and offsets in one transaction) when `transactional` is given. A member evicted from
 * its group (a network partition longer than the session timeout) finds out before any work
 * (a heartbeat first), and skips what it produced already but could not commit (stage/produced.ts).
 */
import type { OperatorFunction } from 'rxjs';
import type { Batch, Consumer, Kafka, Producer } from 'kafkajs';
import type { Logger, PipelineMetrics } from '@emostream/runtime';
import type { KafkaConfig } from './config.js';
import type { ControlMessage } from './codec/control.js';
import type { Decoded, InMessage, OutMessage } from './codec/message.js';
import type { Rejection } from './dlq.js';
import { StageError } from './errors.js';
import { brokerDownReason } from './link.js';
import { startLagMonitor, type LagMonitor } from './lag.js';
import type { ShedOptions } from './shed.js';
import { ChunkProcessor, chunked } from './stage/chunk.js';
import { createFeed, type Correlation } from './stage/feeder.js';
import { GroupMembership } from './stage/group.js';
import { ProducedOffsets } from './stage/produced.js';
import { AbandonableWork, StallRecovery, StallWatch } from './stage/stall.js';
import { ConsumerSupervisor } from './stage/supervisor.js';
import { ChunkProducer, type TransactionalOptions } from './stage/transaction.js';

export type { Correlation } from './stage/feeder.js';
export type { TransactionalOptions } from './stage/transaction.js';

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
  /** Encodes an output. An operator may emit a {@link Rejection} for an input it cannot process: that input goes to `dlqTopic` instead. */
  encode: (output: Exclude<Out, Rejection>) => OutMessage;
  /** Outputs for a control message, emitted in its place (default: pass it on to the output topic). */
  onControl?: (c: ControlMessage) => Exclude<Out, Rejection>[];
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
  /**
   * With the lag monitor: after this long (ms) with messages waiting on this member's partitions,
   * the broker answering and no offset committed, the stage counts as stalled and recovers on its
   * own (see stage/stall.ts). Absent or 0: never.
   */
  stallMs?: number;
  /** How long a stalled stage waits for its consumer to stop before it fails (ms, default 30 000). */
  stallStopMs?: number;
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
  /** Messages fetched again after a rejoin whose outputs this member had produced already: skipped, not processed twice (see stage/produced.ts). */
  replaysSkipped: number;
  /** Times the stage stalled (work waiting, nothing committed for `stallMs`) and recovered on its own. */
  stalls: number;
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

/** Starts a stage: connects, subscribes, runs until `stop()` or a fatal error. */
export async function runStage<In, Out>(spec: StageSpec<In, Out>): Promise<RunningStage> {
  const log = spec.logger.child({ stage: spec.stage });
  const stats: StageStats = { consumed: 0, produced: 0, deadLetters: 0, controls: 0, shed: 0, chunks: 0, transactionsAborted: 0, resyncs: 0, replaysSkipped: 0, stalls: 0 };
  const tx = spec.transactional;
  const out = new ChunkProducer<In>({
    kafka: spec.kafka, groupId: spec.groupId, inputTopic: spec.inputTopic, maxBytesPerSend: spec.config.maxBytesPerSend, transactional: tx, stats, log,
  });
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
  const feed = createFeed(spec.operator, spec.correlation, log);
  const chunkSize = spec.chunkSize ?? 32;
  const chunks = new ChunkProcessor<In, Out>({
    stage: spec.stage, outputTopic: spec.outputTopic, dlqTopic: spec.dlqTopic, decode: spec.decode, encode: spec.encode, onControl: spec.onControl,
    mode: spec.correlation.mode, feed: (item) => feed.feed(item), shed: spec.shed, stats, metrics: spec.metrics, log,
  });
  const group = new GroupMembership(spec.inputTopic);
  const produced = tx ? undefined : new ProducedOffsets();

  /** What a resync reloads besides the producer: state (`onRejoin`, which counts as the rejoin's reload) and positions. */
  const resyncTarget = {
    partitions: () => group.assigned,
    reload: async () => {
      if (spec.onRejoin) await spec.onRejoin();
      group.rejoinHandled();
    },
    seek: (partition: number, offset: string) => consumer.seek({ topic: spec.inputTopic, partition, offset }),
  };

  /** The batch in hand, abandoned when the stage stalls (a batch left behind stops at its next step). */
  const work = new AbandonableWork();
  type BatchArgs = {
    batch: Batch; resolveOffset: (o: string) => void; heartbeat: () => Promise<void>;
    commitOffsetsIfNecessary: () => Promise<void>; isRunning: () => boolean; isStale: () => boolean;
  };
  const eachBatch = (p: BatchArgs) => {
    const gen = work.generation;
    return work.run(processBatch({ ...p, isStale: () => p.isStale() || work.generation !== gen }));
  };
  const processBatch = async (p: BatchArgs) => {
    const { batch } = p;
    if (out.resyncPending) {
      await out.resync(resyncTarget);
      // The batch in hand was fetched from the old position: the seeks make it stale; the next
      // fetch starts at the committed offsets.
      return;
    }
    // Still in the group? kafkajs heartbeats only when asked: a member evicted during a network
    // partition longer than the session timeout fetches on after it heals, and learns that it
    // is out only from the heartbeat or commit after its first chunk, whose work is then done
    // again after the rejoin. Asked before any work, the refusal comes first (kafkajs rejoins,
    // and the batch is fetched again from the committed offsets). At most one request per
    // heartbeat interval: kafkajs sends none if the last one is more recent.
    await p.heartbeat();
    if (spec.onRejoin && group.takeRejoin()) await spec.onRejoin();
    let todo = batch.messages;
    if (produced) {
      const { done, rest } = produced.split(batch.partition, batch.messages, batch.highWatermark);
      if (done.length > 0) {
        for (const m of done) p.resolveOffset(m.offset);
        stats.replaysSkipped += done.length;
        log.info('skipped messages fetched again whose outputs were produced before the rejoin', {
          topic: batch.topic, partition: batch.partition, firstOffset: done[0].offset, lastOffset: done[done.length - 1].offset, messages: done.length,
        });
        await p.commitOffsetsIfNecessary();
      }
      todo = rest;
    }
    const behindBatch = chunks.sheds ? Number(batch.offsetLag()) : 0;
    // A live camera's frames fetched together: only its newest is processed (see shed.ts).
    const newest = chunks.newestLive(todo);
    let inBatchAfter = todo.length;
    for (const messages of chunked(todo, chunkSize)) {
      if (!p.isRunning() || p.isStale()) return;
      inBatchAfter -= messages.length;
      const last = messages[messages.length - 1].offset;
      const checkpoint = tx?.checkpoint?.();
      try {
        const r = await chunks.process(batch, messages, behindBatch + inBatchAfter, newest);
        await out.produce(r, { topic: batch.topic, partition: batch.partition, lastOffset: last });
        produced?.produced(batch.partition, last);
        stats.produced += r.outputs;
        stats.chunks++;
      } catch (e) {
        if (tx?.rollback && checkpoint !== undefined) tx.rollback(checkpoint);
        log.warn('chunk failed: it will be delivered again', { topic: batch.topic, partition: batch.partition, firstOffset: messages[0].offset, error: (e as Error).message });
        // A broken operator (its subscription errored or completed) cannot process anything
        // again in this process: not retriable, so kafkajs stops the consumer instead of
        // restarting it for ever, `done` rejects and the service exits to be restarted fresh.
        // A transaction whose outcome is unknown is cured by the resync before the next batch,
        // whatever kafkajs makes of its error (INVALID_PRODUCER_EPOCH after the broker expired it
        // during a partition): kafkajs judges by the root cause, so that one is left out.
        const where = `${batch.topic}[${batch.partition}]@${messages[0].offset}`;
        const cured = out.resyncPending && !feed.broken;
        const err = e as Error & { type?: string };
        throw new StageError(`${spec.stage}: producing the outputs of ${where} failed: ${err.message}${cured ? ' (producer, state and offsets are reloaded before the next batch)' : ''}`, !feed.broken,
          { topic: batch.topic, partition: batch.partition, offset: messages[0].offset, ...(cured ? { error: err.type ?? err.name } : {}) }, cured ? {} : { cause: e });
      }
      // Outputs are acknowledged by the broker: only now the inputs count as consumed.
      for (const m of messages) p.resolveOffset(m.offset);
      if (!tx) await p.commitOffsetsIfNecessary();
      await p.heartbeat();
    }
  };

  // The stall watch reads the broker's view through the lag monitor (not once the stage stops).
  const watch = spec.stallMs ? new StallWatch(spec.stallMs) : undefined;
  let stopped = false;
  const lag: LagMonitor | undefined = spec.metrics && spec.lagIntervalMs !== 0
    ? startLagMonitor({
      kafka: spec.kafka, groupId: spec.groupId, gauge: spec.metrics.consumerLag, logger: log, intervalMs: spec.lagIntervalMs,
      onReadings: (topic, readings) => {
        const s = topic === spec.inputTopic && !recovery.current && !stopped ? watch?.observe(readings) : undefined;
        if (s) void recovery.recover(s).finally(() => watch?.clear());
      },
      onUnreadable: () => watch?.clear(),
    })
    : undefined;

  const runConfig: Parameters<Consumer['run']>[0] = {
    partitionsConsumedConcurrently: spec.partitionsConcurrently ?? 1,
    eachBatchAutoResolve: false,
    // Transactional stages commit their offsets inside the transaction.
    autoCommit: !tx,
    autoCommitInterval: 1_000,
    eachBatch,
  };
  const restartConsumer = async () => {
    await consumer.stop().catch(() => {});
    await consumer.run(runConfig);
  };
  // A broker outage of any length: kafkajs restarts the consumer after most crashes, this after the others.
  const supervisor = new ConsumerSupervisor({ stage: spec.stage, log, fail: (e) => group.fail(e), restart: restartConsumer });

  const recovery = new StallRecovery({
    stage: spec.stage, inputTopic: spec.inputTopic, log, metrics: spec.metrics, stats, work, stopMs: spec.stallStopMs,
    abandonProducer: () => out.abandon(), restartConsumer, fail: (e) => group.fail(e),
  });
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    group.join(e.payload.memberAssignment);
    produced?.retain(group.assigned);
    supervisor.joined();
    lag?.assign(e.payload.memberAssignment);
    log.info('joined group', { groupId: spec.groupId, assignment: e.payload.memberAssignment });
  });
  consumer.on(consumer.events.CRASH, (e) => {
    const err = e.payload.error as Error;
    group.crash();
    const verdict = supervisor.crashed(err, e.payload.restart);
    log.warn('consumer crashed', { error: err.message, restart: e.payload.restart, then: verdict });
  });

  await out.connect();
  await consumer.connect();
  await consumer.subscribe({ topics: [spec.inputTopic], fromBeginning: spec.fromBeginning ?? true });
  await consumer.run(runConfig);

  const secondsSince = (t: number) => Math.round((Date.now() - t) / 1000);
  return {
    stats,
    consumer,
    get producer() { return out.current; },
    done: group.done,
    ready: () => {
      const reasons: string[] = [];
      const down = brokerDownReason(spec.kafka);
      if (down) reasons.push(down);
      const outage = supervisor.current;
      if (!group.joined) {
        reasons.push(outage
          ? `not in consumer group ${spec.groupId}: the consumer is restarting (out for ${secondsSince(outage.since)} s, ${outage.crashes} crash(es); last: ${outage.error})`
          : `not in consumer group ${spec.groupId} yet`);
      }
      const stall = recovery.current;
      if (stall) reasons.push(`stalled: no offset committed for ${Math.round(stall.forMs / 1000)} s with ${stall.lag} message(s) waiting; recovering`);
      const waiting = out.waiting;
      if (waiting) reasons.push(`producing waits for the Kafka broker (for ${secondsSince(waiting.since)} s, attempt ${waiting.attempt}: ${waiting.error})`);
      return { ok: reasons.length === 0, reasons };
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      supervisor.stop();
      await consumer.disconnect().catch((e: Error) => log.warn('consumer disconnect failed', { error: e.message }));
      await lag?.stop();
      feed.close();
      await out.disconnect().catch((e: Error) => log.warn('producer disconnect failed', { error: e.message }));
    },
  };
}
