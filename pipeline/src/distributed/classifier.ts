/** The classifier service: faces → classifyFaces → emotions. */
import type { EmotionsMessage, FacesMessage } from '@emostream/contracts';
import { classifyFaces, type ClassifyConfig, type EmotionModel } from '@emostream/classifier';
import { decodeFaces, encodeEmotions, groupIdFor, pipelineTopics, runStage, type RunningStage } from '@emostream/kafka';
import type { ServiceDeps } from './deps.js';

const frameKey = (f: { cameraId: string; seq: number; capturedAtMs: number }) => `${f.cameraId}#${f.seq}@${f.capturedAtMs}`;

/**
 * The classifier service: faces → classifyFaces → emotions. Partitions are consumed concurrently
 * and fed into one `bufferTime` batcher, so a model call batches faces across cameras and
 * partitions. Stateless; scales out in its group.
 */
export function startClassifier(deps: ServiceDeps & { model: () => EmotionModel; classify: ClassifyConfig; backend?: string; partitionsConcurrently?: number }): Promise<RunningStage> {
  const t = pipelineTopics(deps.config.topicPrefix);
  return runStage<FacesMessage, EmotionsMessage>({
    stage: 'classifier', kafka: deps.kafka, config: deps.config, logger: deps.logger, metrics: deps.metrics,
    inputTopic: t.faces, outputTopic: t.emotions, dlqTopic: t.dlq.faces, groupId: deps.groupId ?? groupIdFor(deps.config, 'classifier'),
    decode: decodeFaces,
    operator: classifyFaces({ model: deps.model, config: deps.classify, logger: deps.logger, metrics: deps.metrics, backend: deps.backend }),
    correlation: { mode: 'keyed', inputKey: (m) => frameKey(m.frame), outputKey: (m) => frameKey(m.frame) },
    encode: encodeEmotions,
    partitionsConcurrently: deps.partitionsConcurrently ?? 4,
    chunkSize: 64,
  });
}
