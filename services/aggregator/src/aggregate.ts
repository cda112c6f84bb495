/**
 * The aggregator stage: a stage object that owns one {@link Aggregator} and hands out its
 * operator, end-of-stream, snapshot and restore to the runner that owns it (the embedded
 * pipeline or the Kafka runner). Nobody else drives the aggregator's internals.
 */
import { concat, concatMap, defer, from, type OperatorFunction } from 'rxjs';
import type { EmotionEvent, EmotionsMessage, Timelines } from '@emostream/contracts';
import { Aggregator, type AggregatorDeps, type AggregatorSnapshot, type AggregatorStats } from './aggregator.js';

/** An item out of the aggregator stage: an event, or (last, at completion) the timelines. */
export type AggregatorOutput =
  | { kind: 'event'; event: EmotionEvent }
  | { kind: 'timelines'; timelines: Timelines };

/** What {@link createAggregatorStage} needs. */
export interface AggregateDeps extends AggregatorDeps {
  /** Resume from a snapshot (restart recovery); redelivered frames it covers are dropped. */
  snapshot?: AggregatorSnapshot;
}

/** The aggregator stage as its runner sees it. */
export interface AggregatorStage {
  /**
   * Classified frames in; `person.appeared`, `emotion.changed` and `person.left` events out, in
   * order, synchronously per frame. When the input completes, every open person gets its
   * `person.left` and a final `{ kind: 'timelines' }` item follows. An input error is passed on
   * without end-of-stream events. Every subscription drives this stage's one state.
   */
  readonly operator: OperatorFunction<EmotionsMessage, AggregatorOutput>;
  /** End of stream for one camera (or all): its open persons' `person.left` events. */
  end(cameraId?: string): AggregatorOutput[];
  /** The timelines so far. */
  timelines(): Timelines;
  /** What a restart needs (JSON, a copy), of every camera or of those named, for {@link restore}. */
  snapshot(cameraIds?: Iterable<string>): AggregatorSnapshot;
  restore(snapshot: AggregatorSnapshot): void;
  /** Replaces only the cameras named with the snapshot's (after a failed transaction). */
  restoreCameras(snapshot: AggregatorSnapshot, cameraIds: Iterable<string>): void;
  /** The cameras whose state changed since the last call (their state records need writing). */
  takeChanged(): string[];
  readonly stats: AggregatorStats;
}

const asOutput = (events: EmotionEvent[]): AggregatorOutput[] => events.map((event) => ({ kind: 'event', event }));

/** Creates the aggregator stage (its state starts from `deps.snapshot` when given). */
export function createAggregatorStage(deps: AggregateDeps = {}): AggregatorStage {
  const agg = new Aggregator(deps);
  if (deps.snapshot) agg.restore(deps.snapshot);
  return {
    operator: (source) => concat(
      source.pipe(concatMap((msg) => asOutput(agg.push(msg)))),
      defer(() => from<AggregatorOutput[]>([...asOutput(agg.end()), { kind: 'timelines', timelines: agg.timelines() }])),
    ),
    end: (cameraId) => asOutput(agg.end(cameraId)),
    timelines: () => agg.timelines(),
    snapshot: (ids) => agg.snapshot(ids),
    restore: (s) => agg.restore(s),
    restoreCameras: (s, ids) => agg.restoreCameras(s, ids),
    takeChanged: () => agg.takeChanged(),
    get stats() { return agg.stats; },
  };
}

/**
 * The aggregator operator on its own: a fresh stage per subscription (for callers that need
 * nothing but the events and the final timelines).
 */
export function aggregate(deps: AggregateDeps = {}): OperatorFunction<EmotionsMessage, AggregatorOutput> {
  return (source) => defer(() => source.pipe(createAggregatorStage(deps).operator));
}
