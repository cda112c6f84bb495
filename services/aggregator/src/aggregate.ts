/** The aggregator stage as an RxJS operator: a thin wrapper over {@link Aggregator}. */
import { concat, concatMap, defer, from, type OperatorFunction } from 'rxjs';
import type { EmotionEvent, EmotionsMessage, Timelines } from '@emostream/contracts';
import { Aggregator, type AggregatorDeps, type AggregatorSnapshot } from './aggregator.js';

/** An item out of the aggregator stage: an event, or (last, at completion) the timelines. */
export type AggregatorOutput =
  | { kind: 'event'; event: EmotionEvent }
  | { kind: 'timelines'; timelines: Timelines };

/** What {@link aggregate} needs. */
export interface AggregateDeps extends AggregatorDeps {
  /** Resume from a snapshot (restart recovery); redelivered frames it covers are dropped. */
  snapshot?: AggregatorSnapshot;
  /** Called with the stage's aggregator on each subscription (to read timelines or snapshot it). */
  onAggregator?: (aggregator: Aggregator) => void;
}

/**
 * The aggregator stage: classified frames in; `person.appeared`, `emotion.changed` and
 * `person.left` events out, in order. When the input completes, every open person gets its
 * `person.left` and a final `{ kind: 'timelines' }` item follows. An input error is passed on
 * without end-of-stream events. Each subscription has its own state.
 */
export function aggregate(deps: AggregateDeps = {}): OperatorFunction<EmotionsMessage, AggregatorOutput> {
  return (source) => defer(() => {
    const agg = new Aggregator(deps);
    if (deps.snapshot) agg.restore(deps.snapshot);
    deps.onAggregator?.(agg);
    const asOutput = (events: EmotionEvent[]): AggregatorOutput[] => events.map((event) => ({ kind: 'event', event }));
    return concat(
      source.pipe(concatMap((msg) => asOutput(agg.push(msg)))),
      defer(() => from<AggregatorOutput[]>([...asOutput(agg.end()), { kind: 'timelines', timelines: agg.timelines() }])),
    );
  });
}
