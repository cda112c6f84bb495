/** The classifier service: faces → classifyFaces → emotions (a frame that cannot be classified: a dead letter). */
import type { EmotionsMessage, FacesMessage, FrameRef } from '@emostream/contracts';
import { classifyFaces, type ClassifyConfig, type EmotionModel } from '@emostream/classifier';
import { decodeFaces, encodeEmotions, groupIdFor, pipelineTopics, rejection, runStage, type Rejection, type RunningStage } from '@emostream/kafka';
import type { ServiceDeps } from './deps.js';

const frameKey = (f: { cameraId: string; seq: number; capturedAtMs: number }) => `${f.cameraId}#${f.seq}@${f.capturedAtMs}`;

/** A frame whose faces could not be classified: its faces message goes to the dead-letter topic. */
type Unclassified = Rejection & { frame: FrameRef };

/** The reason on a dead letter of the classifier whose model call failed (after retries). */
export const CLASSIFY_ERROR = 'classify_error';

/**
 * The classifier service: faces → classifyFaces → emotions. Partitions are consumed concurrently
 * and fed into one `bufferTime` batcher, so a model call batches faces across cameras and
 * partitions. Stateless; scales out in its group. A batch whose model call throws is retried
 * with backoff, then frame by frame; a frame that still fails goes, unchanged, to the faces
 * dead-letter topic (reason `classify_error`, the error as detail) and its offset is committed
 * with the others: no frame is passed on with its faces silently dropped.
 */
export function startClassifier(deps: ServiceDeps & { model: () => EmotionModel; classify: ClassifyConfig; backend?: string; partitionsConcurrently?: number }): Promise<RunningStage> {
  const t = pipelineTopics(deps.config.topicPrefix);
  const failed = (m: FacesMessage, e: Error): Unclassified => ({ ...rejection(CLASSIFY_ERROR, e.message || String(e)), frame: m.frame });
  return runStage<FacesMessage, EmotionsMessage | Unclassified>({
    stage: 'classifier', kafka: deps.kafka, config: deps.config, logger: deps.logger, metrics: deps.metrics,
    inputTopic: t.faces, outputTopic: t.emotions, dlqTopic: t.dlq.faces, groupId: deps.groupId ?? groupIdFor(deps.config, 'classifier'),
    decode: decodeFaces,
    operator: classifyFaces({ model: deps.model, config: deps.classify, logger: deps.logger, metrics: deps.metrics, backend: deps.backend, failed }),
    correlation: { mode: 'keyed', inputKey: (m) => frameKey(m.frame), outputKey: (m) => frameKey(m.frame) },
    encode: encodeEmotions,
    partitionsConcurrently: deps.partitionsConcurrently ?? 4,
    chunkSize: 64,
  });
}
