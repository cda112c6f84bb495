/** The aggregator service: emotions → the aggregator stage → emotion-events, exactly once. */
import type { EmotionsMessage } from '@emostream/contracts';
import { createAggregatorStage, type AggregatorConfig, type AggregatorOutput, type AggregatorSnapshot, type AggregatorStage } from '@emostream/aggregator';
import { decodeEmotions, encodeEvent, groupIdFor, pipelineTopics, runStage, type RunningStage } from '@emostream/kafka';
import { AggregatorStateRecords, loadAggregatorRecords } from './aggregatorState.js';
import type { ServiceDeps } from './deps.js';

/**
 * Each chunk's events, the state records of the cameras it changed (compacted topic
 * `aggregator-state`, key = camera id; only cameras whose state changed) and the consumer offsets
 * are one Kafka transaction. A restart (or a rebalance) restores the state from that topic and
 * resumes at the committed offsets, which match it exactly: no event is lost or doubled;
 * redelivered frames are dropped by the aggregator (ingest run + seq). The runner owns the stage:
 * operator, end of stream (`end` control messages), the records (see
 * {@link AggregatorStateRecords}: a failed transaction's cameras are read back from their last
 * records), a reload after a rejoin.
 */
export async function startAggregator(deps: ServiceDeps & { aggregatorConfig: AggregatorConfig; transactionalId?: string }): Promise<RunningStage & { readonly aggregator: AggregatorStage; readonly state: AggregatorStateRecords }> {
  const t = pipelineTopics(deps.config.topicPrefix);
  const groupId = deps.groupId ?? groupIdFor(deps.config, 'aggregator');
  const loaded = await loadAggregatorRecords({ ...deps, groupId });
  const stage = createAggregatorStage({ config: deps.aggregatorConfig, logger: deps.logger, metrics: deps.metrics, snapshot: loaded.snapshot });
  const records = new AggregatorStateRecords(stage, t.aggregatorState);
  records.reset(loaded.records);
  const running = await runStage<EmotionsMessage, AggregatorOutput>({
    stage: 'aggregator', kafka: deps.kafka, config: deps.config, logger: deps.logger, metrics: deps.metrics, stallMs: deps.stallMs,
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
      checkpoint: () => records.checkpoint(),
      rollback: (c) => records.rollback(c as AggregatorSnapshot),
      // Every camera the chunk changed: its frames, its end marker, or closed as idle by another's frames.
      extra: () => [{ topic: t.aggregatorState, messages: records.messages() }],
    },
    onRejoin: async () => {
      const l = await loadAggregatorRecords({ ...deps, groupId });
      stage.restore(l.snapshot ?? { snapshotVersion: 1, cameras: {} });
      records.reset(l.records);
    },
    chunkSize: 64,
  });
  return Object.assign(running, { aggregator: stage, state: records });
}
