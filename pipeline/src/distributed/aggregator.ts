/** The aggregator service: emotions → the aggregator stage → emotion-events, exactly once. */
import type { EmotionsMessage } from '@emostream/contracts';
import { createAggregatorStage, type AggregatorConfig, type AggregatorOutput, type AggregatorSnapshot, type AggregatorStage } from '@emostream/aggregator';
import { decodeEmotions, encodeEvent, groupIdFor, pipelineTopics, runStage, type RunningStage } from '@emostream/kafka';
import { cameraStateMessage, loadAggregatorState } from './aggregatorState.js';
import type { ServiceDeps } from './deps.js';

/**
 * Each chunk's events, the state snapshot of the cameras it touched (compacted topic
 * `aggregator-state`, key = camera id) and the consumer offsets are one Kafka transaction. A
 * restart (or a rebalance) restores the state from that topic and resumes at the committed
 * offsets, which match it exactly: no event is lost or doubled; redelivered frames are dropped by
 * the aggregator (camera + seq). The runner owns the stage: operator, end of stream (`end`
 * control messages), snapshot before a chunk, restore after a failed transaction or a rejoin.
 */
export async function startAggregator(deps: ServiceDeps & { aggregatorConfig: AggregatorConfig; transactionalId?: string }): Promise<RunningStage & { readonly aggregator: AggregatorStage }> {
  const t = pipelineTopics(deps.config.topicPrefix);
  const groupId = deps.groupId ?? groupIdFor(deps.config, 'aggregator');
  const stage = createAggregatorStage({
    config: deps.aggregatorConfig, logger: deps.logger, metrics: deps.metrics,
    snapshot: await loadAggregatorState({ ...deps, groupId }),
  });
  const running = await runStage<EmotionsMessage, AggregatorOutput>({
    stage: 'aggregator', kafka: deps.kafka, config: deps.config, logger: deps.logger, metrics: deps.metrics,
    inputTopic: t.emotions, outputTopic: t.events, dlqTopic: t.dlq.emotions, groupId,
    decode: decodeEmotions,
    operator: stage.operator,
    correlation: { mode: 'sync' },
    encode: (o) => {
      if (o.kind !== 'event') throw new Error('the aggregator stage never completes while it consumes');
      return encodeEvent(o.event);
    },
    onControl: (c) => stage.end(c.cameraId),
    transactional: {
      // Stable across restarts: the new instance fences the old one and aborts its open transaction.
      transactionalId: deps.transactionalId ?? `${groupId}-tx`,
      checkpoint: () => stage.snapshot(),
      rollback: (s) => stage.restore(s as AggregatorSnapshot),
      extra: (inputs, controls) => {
        const cams = new Set([...inputs.map((m) => m.frame.cameraId), ...controls.map((c) => c.cameraId)]);
        const s = stage.snapshot();
        return [{ topic: t.aggregatorState, messages: [...cams].flatMap((id) => cameraStateMessage(s, id) ?? []) }];
      },
    },
    onRejoin: async () => {
      const s = await loadAggregatorState({ ...deps, groupId });
      if (s) stage.restore(s);
    },
    chunkSize: 64,
  });
  return Object.assign(running, { aggregator: stage });
}
