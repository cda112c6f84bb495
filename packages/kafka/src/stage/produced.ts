/**
 * Offsets a plain (at-least-once) stage has produced the outputs of, whether or not the group
 * has committed them. A member evicted from its group (no heartbeat within the session timeout,
 * e.g. a network partition longer than it) learns of it only when a heartbeat or a commit is
 * refused: the messages it processed meanwhile have their outputs on the broker but their
 * offsets are not committed, so after the rejoin the same messages are fetched again from the
 * committed offset. Those already produced are skipped (resolved and committed, not processed a
 * second time). A transactional stage commits its offsets with its outputs and does not need it.
 */
import type { KafkaMessage } from 'kafkajs';

export class ProducedOffsets {
  /** Per partition of the input topic: the last offset whose outputs the broker acknowledged. */
  private readonly last = new Map<number, bigint>();

  /** The outputs of `partition` up to `lastOffset` are acknowledged. */
  produced(partition: number, lastOffset: string): void {
    const o = BigInt(lastOffset);
    const had = this.last.get(partition);
    if (had === undefined || o > had) this.last.set(partition, o);
  }

  /**
   * A fetched batch split into the messages already produced (to skip) and the rest: while a
   * partition stays assigned, each of its offsets is processed once by this member. A mark at or
   * past the partition's high watermark is dropped (the log was truncated or the topic
   * recreated: those offsets are other messages now).
   */
  split(partition: number, messages: KafkaMessage[], highWatermark?: string): { done: KafkaMessage[]; rest: KafkaMessage[] } {
    const mark = this.last.get(partition);
    if (mark === undefined) return { done: [], rest: messages };
    if (highWatermark !== undefined && BigInt(highWatermark) <= mark) {
      this.last.delete(partition);
      return { done: [], rest: messages };
    }
    const done = messages.filter((m) => BigInt(m.offset) <= mark);
    return { done, rest: done.length === 0 ? messages : messages.filter((m) => BigInt(m.offset) > mark) };
  }

  /** After a group join: only the partitions still assigned keep their marks. */
  retain(partitions: number[]): void {
    for (const p of [...this.last.keys()]) if (!partitions.includes(p)) this.last.delete(p);
  }
}
