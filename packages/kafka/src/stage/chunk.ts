/**
 * One chunk of one partition: each message decoded into an input (pushed through the operator),
 * a control message (its outputs in its place), a dead letter, or a shed verdict; the result is
 * the messages to produce, in order, with the inputs and controls (for a transaction's `extra`).
 */
import type { Batch, KafkaMessage } from 'kafkajs';
import { isCameraId } from '@emostream/contracts';
import type { Logger, PipelineMetrics } from '@emostream/runtime';
import { decodeControl, encodeControl, type ControlMessage } from '../codec/control.js';
import { HEADER, type Decoded, type InMessage, type OutMessage } from '../codec/message.js';
import { deadLetter, isRejection, type Rejection } from '../dlq.js';
import type { TopicMessages } from '../producer.js';
import { FairShedder, type ShedOptions } from '../shed.js';
import type { Correlation } from './feeder.js';

/** The counters a chunk moves (a subset of `StageStats`). */
export interface ChunkCounters {
  consumed: number;
  deadLetters: number;
  controls: number;
  shed: number;
}

/** What {@link ChunkProcessor} needs of the stage. */
export interface ChunkOptions<In, Out> {
  stage: string;
  outputTopic: string;
  dlqTopic: string;
  decode: (m: InMessage) => Decoded<In> | Promise<Decoded<In>>;
  /** Encodes an output; a {@link Rejection} never reaches it (its input becomes a dead letter). */
  encode: (output: Exclude<Out, Rejection>) => OutMessage;
  onControl?: (c: ControlMessage) => Exclude<Out, Rejection>[];
  mode: Correlation<In, Out>['mode'];
  /** Pushes one input through the operator (see feeder.ts). */
  feed: (item: In) => Promise<Out[]>;
  shed?: ShedOptions & { applies: (m: InMessage) => boolean };
  stats: ChunkCounters;
  metrics?: Pick<PipelineMetrics, 'framesDropped' | 'deadLetters'>;
  log: Logger;
}

/** A processed chunk. */
export interface ChunkResult<In> {
  /** The outputs in input order (control messages' in their place), then the dead letters. */
  batches: TopicMessages[];
  inputs: In[];
  controls: ControlMessage[];
  /** Messages to produce (outputs + dead letters). */
  outputs: number;
}

/** Splits `xs` into runs of at most `n`. */
export const chunked = <T>(xs: T[], n: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
};

/** Decodes and processes chunks; owns the stage's load shedder. */
export class ChunkProcessor<In, Out> {
  private readonly shedder: FairShedder | undefined;
  /** Inputs of an `each` stage in processing now, over the partitions processed at once. */
  private inFlight = 0;

  constructor(private readonly o: ChunkOptions<In, Out>) {
    this.shedder = o.shed ? new FairShedder(o.shed) : undefined;
  }

  /** The shedder's estimate of the stage's time per message, ms; undefined without shedding. */
  get shedTimePerMessageMs(): number | undefined {
    return this.shedder?.timePerMessageMs;
  }

  /** Whether messages may be shed (the caller then passes how many wait behind the batch). */
  get sheds(): boolean {
    return this.shedder !== undefined;
  }

  /**
   * The offset of each camera's newest sheddable (live) message among `messages` (a fetched
   * batch), for {@link process}: the ones before it are superseded. Empty without shedding.
   */
  newestLive(messages: KafkaMessage[]): Map<string, bigint> {
    const newest = new Map<string, bigint>();
    for (const m of messages) {
      const key = this.sheddableKey(m);
      if (key === undefined) continue;
      const offset = BigInt(m.offset);
      if ((newest.get(key) ?? -1n) < offset) newest.set(key, offset);
    }
    return newest;
  }

  /**
   * The camera of a message the shedder may skip (a live one, `shed.applies`), or undefined. The
   * key becomes a metric label: a message whose key is no valid camera id is not shed but decoded
   * and processed.
   */
  private sheddableKey(m: KafkaMessage): string | undefined {
    const key = m.key?.toString() ?? '';
    return this.shedder !== undefined && isCameraId(key) && this.o.shed!.applies(m) ? key : undefined;
  }

  /**
   * Decodes and processes one chunk of one partition; returns the messages to produce, in order.
   * `waitingAfter`: messages waiting in the partition after this chunk (for the shedder).
   * `newest`: each live camera's newest offset in the batch ({@link newestLive}); a live frame
   * before it is skipped.
   */
  async process(batch: Pick<Batch, 'topic' | 'partition'>, messages: KafkaMessage[], waitingAfter: number, newest?: ReadonlyMap<string, bigint>): Promise<ChunkResult<In>> {
    const { o, shedder } = this;
    const slots: Array<Promise<OutMessage[]>> = [];
    const dlq: OutMessage[] = [];
    const inputs: In[] = [];
    const controls: ControlMessage[] = [];
    for (const [i, m] of messages.entries()) {
      o.stats.consumed++;
      const control = decodeControl(m);
      if (control?.type === 'bad') {
        dlq.push(this.deadLetter(batch, m, 'malformed', control.detail));
        continue;
      }
      if (control) {
        o.stats.controls++;
        controls.push(control);
        // In its place: after the outputs of the inputs before it, before those after it.
        const prior = Promise.all(slots);
        slots.push(o.onControl
          ? prior.then(() => o.onControl!(control).map(o.encode))
          : prior.then(() => [encodeControl(control)]));
        // A sync stage's control hook must run between the pushes around it.
        if (o.onControl && o.mode === 'sync') await slots[slots.length - 1];
        continue;
      }
      const key = this.sheddableKey(m);
      const sheddable = key !== undefined;
      if (sheddable) {
        const superseded = (newest?.get(key) ?? -1n) > BigInt(m.offset);
        const verdict = shedder!.decide(key, batch.partition, Number(m.timestamp), waitingAfter + messages.length - 1 - i, Date.now(), superseded);
        if (verdict) {
          o.stats.shed++;
          o.metrics?.framesDropped.inc({ camera: key, reason: verdict });
          continue;
        }
      }
      const started = performance.now();
      const d = await o.decode(m);
      if (!d.ok) {
        dlq.push(this.deadLetter(batch, m, d.reason, d.detail));
        continue;
      }
      inputs.push(d.value);
      // An input the operator rejected (see dlq.ts) goes to the dead-letter topic instead of its outputs.
      const slot = o.feed(d.value).then((outs) => {
        const rejected = outs.find((x): x is Out & Rejection => isRejection(x));
        if (rejected) dlq.push(this.deadLetter(batch, m, rejected.reason, rejected.detail));
        return outs.filter((x): x is Exclude<Out, Rejection> => !isRejection(x)).map(o.encode);
      });
      slots.push(slot);
      // `each` stages run one input at a time per partition (one decoded frame in memory each).
      if (o.mode === 'each') {
        const atStart = ++this.inFlight;
        try {
          await slot;
        } finally {
          // Partitions processed at once share the stage (the detector batches their frames): a
          // message's share of the stage's time is its time over the messages in flight with it.
          const share = Math.max(1, (atStart + this.inFlight) / 2);
          this.inFlight--;
          if (sheddable) shedder!.processed((performance.now() - started) / share);
        }
      }
    }
    const outputs = (await Promise.all(slots)).flat();
    // Dead letters in offset order (an operator's rejections come in when its outputs do).
    dlq.sort((a, b) => Number(BigInt(String(a.headers[HEADER.dlqOffset])) - BigInt(String(b.headers[HEADER.dlqOffset]))));
    const batches: TopicMessages[] = [{ topic: o.outputTopic, messages: outputs }, { topic: o.dlqTopic, messages: dlq }];
    return { batches, inputs, controls, outputs: outputs.length + dlq.length };
  }

  /** A message as a dead letter, counted and logged. */
  private deadLetter(batch: Pick<Batch, 'topic' | 'partition'>, m: KafkaMessage, reason: string, detail: string): OutMessage {
    const { o } = this;
    o.stats.deadLetters++;
    o.metrics?.deadLetters.inc({ stage: o.stage, reason });
    o.log.warn('message sent to the dead-letter topic', { reason, detail, topic: batch.topic, partition: batch.partition, offset: m.offset });
    return deadLetter(m, { stage: o.stage, reason, detail, topic: batch.topic, partition: batch.partition, offset: m.offset });
  }
}
