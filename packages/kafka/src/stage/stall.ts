/**
 * A stage that has work and does none: messages wait on its partitions, the broker answers, and
 * yet the group's committed offsets have not moved for `stallMs`. kafkajs can end up there
 * without a crash event: a consumer that never rejoins, a fetch or a transactional request that
 * never settles (kafkajs issue #659 and its like). The broker's view decides, not the stage's:
 * the lag monitor's readings (committed and end offsets of this member's partitions). A reading
 * that failed (the broker away, a partition between this process and it) clears the clocks, so
 * an outage is left to the client's own retries and the supervisor; only `stallMs` of readable,
 * unmoving lag counts.
 *
 * What the stage then does ({@link StallRecovery}): the work in hand, if any, is abandoned (its
 * promise is rejected) so kafkajs restarts the consumer; with nothing in hand the consumer is
 * stopped and run again; either way a transactional producer is resynchronised before the next
 * chunk. A consumer that does not stop in time, or a third stall with no chunk produced since the
 * first, fails the stage, and the process exits to be restarted.
 */

import type { Logger, PipelineMetrics } from '@emostream/runtime';
import { StageError } from '../errors.js';

/** Stalls in a row, no chunk produced in between, after which the stage fails: the process exits to be restarted. */
export const STALLS_BEFORE_EXIT = 3;

/** One partition of the input topic, as the lag monitor read it. */
export interface PartitionReading {
  partition: number;
  /** The group's committed offset (`-1`: none yet). */
  committed: string;
  /** Messages between it (or the earliest retained offset) and the end. */
  lag: number;
}

/** A stall: the partitions whose lag has not moved, for how long. */
export interface Stall {
  partitions: number[];
  lag: number;
  forMs: number;
}

/** Decides from successive readings whether the stage is stalled. */
export class StallWatch {
  private readonly since = new Map<number, { committed: string; at: number }>();

  constructor(private readonly stallMs: number, private readonly now: () => number = Date.now) {}

  /** A reading of this member's partitions; a stall once some have waited `stallMs` with lag and no commit. */
  observe(readings: PartitionReading[]): Stall | undefined {
    const t = this.now();
    const seen = new Set<number>();
    const stuck: PartitionReading[] = [];
    let forMs = 0;
    for (const r of readings) {
      seen.add(r.partition);
      const prev = this.since.get(r.partition);
      // Counted from the first reading with lag (not from an earlier one without) at this offset.
      if (r.lag === 0) {
        this.since.delete(r.partition);
        continue;
      }
      if (!prev || prev.committed !== r.committed) {
        this.since.set(r.partition, { committed: r.committed, at: t });
        continue;
      }
      if (t - prev.at >= this.stallMs) {
        stuck.push(r);
        forMs = Math.max(forMs, t - prev.at);
      }
    }
    for (const p of [...this.since.keys()]) if (!seen.has(p)) this.since.delete(p);
    if (stuck.length === 0) return undefined;
    return { partitions: stuck.map((r) => r.partition), lag: stuck.reduce((n, r) => n + r.lag, 0), forMs };
  }

  /** The offsets could not be read, or the stage was just restarted: count from the next reading. */
  clear(): void {
    this.since.clear();
  }
}

/**
 * The work a stage has in hand, abandonable: `run` races a promise against an abort, `abort`
 * rejects every race in progress (the abandoned promises' own outcomes are swallowed).
 */
export class AbandonableWork {
  private readonly pending = new Set<(e: Error) => void>();
  private aborts = 0;

  /** Aborts so far: work begun before the last one is stale (it stops at its next step). */
  get generation(): number {
    return this.aborts;
  }

  /** Whether any work is in hand. */
  get busy(): boolean {
    return this.pending.size > 0;
  }

  async run<T>(work: Promise<T>): Promise<T> {
    let reject!: (e: Error) => void;
    const aborted = new Promise<never>((_, r) => { reject = r; });
    this.pending.add(reject);
    work.catch(() => {});
    try {
      return await Promise.race([work, aborted]);
    } finally {
      this.pending.delete(reject);
    }
  }

  /** Rejects the work in hand with `error`; false when there was none. */
  abort(error: Error): boolean {
    this.aborts++;
    if (this.pending.size === 0) return false;
    for (const r of [...this.pending]) r(error);
    this.pending.clear();
    return true;
  }
}

/** What {@link StallRecovery} acts on. */
export interface StallRecoveryOptions {
  stage: string;
  inputTopic: string;
  log: Logger;
  metrics?: PipelineMetrics;
  stats: { stalls: number; chunks: number };
  work: AbandonableWork;
  /** The transactional producer's outcome is unknown: resync before the next chunk. */
  abandonProducer: () => void;
  /** Stops the consumer and runs it again. */
  restartConsumer: () => Promise<void>;
  /** The stage cannot go on: the process exits to be restarted. */
  fail: (e: StageError) => void;
  /** How long a restart may take before the stage fails, ms (default 30 000). */
  stopMs?: number;
}

/**
 * A stall's cure: the batch in hand is abandoned (its error is retriable, so kafkajs restarts the
 * consumer), or with no batch in hand the consumer is stopped and run again; a transactional
 * producer is resynchronised before the next chunk either way. A consumer that will not restart in
 * time, or a third stall with no chunk produced since the first, fails the stage.
 */
export class StallRecovery {
  private stall: Stall | undefined;
  private inARow = 0;
  private chunksAtStall = -1;

  constructor(private readonly o: StallRecoveryOptions) {}

  /** The stall being recovered from, if any (readiness says so). */
  get current(): Stall | undefined {
    return this.stall;
  }

  async recover(s: Stall): Promise<void> {
    const { o } = this;
    this.stall = s;
    o.stats.stalls++;
    o.metrics?.stageStalls.inc({ stage: o.stage });
    const what = `no offset committed for ${Math.round(s.forMs / 1000)} s with ${s.lag} message(s) waiting on ${o.inputTopic} [${s.partitions.join(', ')}]`;
    this.inARow = o.stats.chunks === this.chunksAtStall ? this.inARow + 1 : 1;
    this.chunksAtStall = o.stats.chunks;
    if (this.inARow >= STALLS_BEFORE_EXIT) {
      o.fail(new StageError(`${o.stage}: stalled ${this.inARow} times without a chunk in between (last: ${what}): exiting to be restarted`, false));
      return;
    }
    const fields = { partitions: s.partitions, lag: s.lag, stalledMs: s.forMs };
    o.abandonProducer();
    if (o.work.abort(new StageError(`${o.stage}: stalled: ${what}`, true, { partitions: s.partitions }))) {
      o.log.warn('stalled: the batch in hand is abandoned and the consumer restarted', fields);
    } else {
      o.log.warn('stalled: restarting the consumer', fields);
      const stopMs = o.stopMs ?? 30_000;
      let timer: NodeJS.Timeout | undefined;
      const gone = await Promise.race([o.restartConsumer().then(() => true, () => true), new Promise<false>((r) => { timer = setTimeout(() => r(false), stopMs); })]);
      clearTimeout(timer);
      if (!gone) o.fail(new StageError(`${o.stage}: stalled (${what}) and its consumer did not restart within ${stopMs / 1000} s: exiting to be restarted`, false));
    }
    this.stall = undefined;
  }
}
