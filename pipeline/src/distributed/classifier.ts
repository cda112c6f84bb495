/** The classifier service: faces → classifyFaces → emotions (a frame that cannot be classified: a dead letter). */
import type { EmotionsMessage, FacesMessage, FrameRef } from '@emostream/contracts';
import { ClassifierBreaker, DEFAULT_BREAKER_FAILED_BATCHES, classifyFaces, type ClassifyConfig, type EmotionModel, type HealthAnswer } from '@emostream/classifier';
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
 * with the others: no frame is passed on with its faces silently dropped. A model that fails on
 * every call opens the circuit breaker after `breakerFailedBatches` such batches: `health()`
 * (the service's /healthz) then says the process should be restarted.
 */
export async function startClassifier(deps: ServiceDeps & {
  model: () => EmotionModel; classify: ClassifyConfig; backend?: string; partitionsConcurrently?: number;
  /** Failed batches in a row that open the circuit breaker (see ClassifierBreaker; default 5, 0: never). */
  breakerFailedBatches?: number;
}): Promise<RunningStage & { health(): HealthAnswer; breaker: ClassifierBreaker }> {
  const t = pipelineTopics(deps.config.topicPrefix);
  const failed = (m: FacesMessage, e: Error): Unclassified => ({ ...rejection(CLASSIFY_ERROR, e.message || String(e)), frame: m.frame });
  const breaker = new ClassifierBreaker({ failedBatches: deps.breakerFailedBatches ?? DEFAULT_BREAKER_FAILED_BATCHES, logger: deps.logger, registry: deps.metrics?.registry });
  const stage = await runStage<FacesMessage, EmotionsMessage | Unclassified>({
    stage: 'classifier', kafka: deps.kafka, config: deps.config, logger: deps.logger, metrics: deps.metrics, stallMs: deps.stallMs,
    inputTopic: t.faces, outputTopic: t.emotions, dlqTopic: t.dlq.faces, groupId: deps.groupId ?? groupIdFor(deps.config, 'classifier'),
    decode: decodeFaces,
    operator: classifyFaces({ model: deps.model, config: deps.classify, logger: deps.logger, metrics: deps.metrics, backend: deps.backend, failed, outcome: breaker }),
    correlation: { mode: 'keyed', inputKey: (m) => frameKey(m.frame), outputKey: (m) => frameKey(m.frame) },
    encode: encodeEmotions,
    partitionsConcurrently: deps.partitionsConcurrently ?? 4,
    chunkSize: 64,
  });
  // The liveness answer (/healthz): 503 while the breaker is open.
  return Object.assign(stage, { health: () => breaker.health(), breaker });
}
