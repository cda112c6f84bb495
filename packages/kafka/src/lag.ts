/**
 * Consumer lag of a stage: every few seconds, the group's committed offsets against the partitions'
 * end offsets, for the partitions assigned to *this* member only (so `sum by (group, topic)` over
 * all members counts each partition once), into `emostream_consumer_lag_messages`.
 */
import type { Admin, Kafka } from 'kafkajs';
import type { Logger, PipelineMetrics } from '@emostream/runtime';
import type { PartitionReading } from './stage/stall.js';

/** Default poll interval: the dashboards and KEDA look at lag over minutes; two admin requests per 5 s is negligible. */
export const DEFAULT_LAG_INTERVAL_MS = 5_000;

/**
 * Messages between a group's position and the end of a partition. `committed` is the group's
 * committed offset (`-1`: none yet; the group then starts at `low`, the earliest retained offset).
 * Never negative (a committed offset past the end can happen briefly after truncation).
 */
export function lagOf(committed: string, low: string, high: string): number {
  const end = BigInt(high);
  const c = BigInt(committed);
  const from = c < 0n ? BigInt(low) : c;
  const lag = end - from;
  return lag > 0n ? Number(lag) : 0;
}

/** Options of {@link startLagMonitor}. */
export interface LagMonitorOptions {
  kafka: Kafka;
  groupId: string;
  gauge: PipelineMetrics['consumerLag'];
  logger: Logger;
  /** Poll interval in ms (default {@link DEFAULT_LAG_INTERVAL_MS}). */
  intervalMs?: number;
  /** Each successful reading of a topic's assigned partitions (the stage's stall watch). */
  onReadings?: (topic: string, readings: PartitionReading[]) => void;
  /** A reading that failed (the broker not answering). */
  onUnreadable?: () => void;
}

/** A running lag monitor. */
export interface LagMonitor {
  /** This member's partitions after a (re)join (kafkajs's `memberAssignment`: topic → partitions). */
  assign(assignment: Record<string, number[]>): void;
  /** Polls now (tests); resolves when done. */
  poll(): Promise<void>;
  /** Stops polling and removes this member's series (another member now reports them). */
  stop(): Promise<void>;
}

/**
 * Starts polling. Errors (broker restarting) are logged once per failure streak and the last
 * values kept: a lag that cannot be read is not zero.
 */
export function startLagMonitor(o: LagMonitorOptions): LagMonitor {
  const log = o.logger.child({ component: 'lag' });
  let assignment: Record<string, number[]> = {};
  const reported = new Set<string>();
  let admin: Admin | undefined;
  let connected = false;
  let failing = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;
  const forget = (keep: Set<string>) => {
    for (const k of [...reported]) {
      if (keep.has(k)) continue;
      const [topic, partition] = k.split('\u0000');
      o.gauge.remove({ group: o.groupId, topic, partition });
      reported.delete(k);
    }
  };

  const pollOnce = async () => {
    const topics = Object.entries(assignment).filter(([, ps]) => ps.length > 0);
    if (topics.length === 0) return;
    admin ??= o.kafka.admin();
    if (!connected) { await admin.connect(); connected = true; }
    const committed = await admin.fetchOffsets({ groupId: o.groupId, topics: topics.map(([t]) => t) });
    for (const [topic, partitions] of topics) {
      const ends = await admin.fetchTopicOffsets(topic);
      const group = committed.find((c) => c.topic === topic)?.partitions ?? [];
      const readings: PartitionReading[] = [];
      for (const p of partitions) {
        const end = ends.find((e) => e.partition === p);
        if (!end) continue;
        const c = group.find((g) => g.partition === p)?.offset ?? '-1';
        const lag = lagOf(c, end.low, end.high);
        o.gauge.set({ group: o.groupId, topic, partition: String(p) }, lag);
        reported.add(key(topic, p));
        readings.push({ partition: p, committed: c, lag });
      }
      o.onReadings?.(topic, readings);
    }
  };

  const poll = (): Promise<void> => {
    running ??= pollOnce().then(() => {
      if (failing) log.info('consumer lag readable again');
      failing = false;
    }, (e: Error) => {
      if (!failing) log.warn('cannot read consumer lag (kept the last values)', { error: e.message });
      failing = true;
      o.onUnreadable?.();
    }).finally(() => { running = undefined; });
    return running;
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => { void poll().then(schedule); }, o.intervalMs ?? DEFAULT_LAG_INTERVAL_MS);
    timer.unref();
  };
  schedule();

  return {
    assign(a) {
      assignment = Object.fromEntries(Object.entries(a).map(([t, ps]) => [t, [...ps]]));
      forget(new Set(Object.entries(assignment).flatMap(([t, ps]) => ps.map((p) => key(t, p)))));
      void poll();
    },
    poll,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      forget(new Set());
      if (connected) await admin?.disconnect().catch(() => {});
    },
  };
}
