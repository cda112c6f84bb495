/**
 * The embedded pipeline: the four stages chained as RxJS operators in one process. The
 * distributed mode runs these same operators, each in its Kafka runner (./distributed).
 */
import { type Observable, type OperatorFunction, from, tap } from 'rxjs';
import type { Frame, FacesMessage, EmotionsMessage } from '@emostream/contracts';
import type { Logger, PipelineMetrics } from '@emostream/runtime';
import { boundedQueue, dropCounter, type IngestStats, type Valve } from '@emostream/ingest';
import { detectionStages, oneFrameAtATime, startedMessages, type FaceDetector, type FaceEmbedder, type DetectorConfig, type StartedFrame } from '@emostream/detector';
import { classifyFaces, type ClassifyConfig, type EmotionModel } from '@emostream/classifier';
import { createAggregatorStage, type AggregatorConfig, type AggregatorOutput, type AggregatorStage } from '@emostream/aggregator';

/** Everything the embedded pipeline needs, built once by the caller. */
export interface EmbeddedDeps {
  cameraId: string;
  detector: FaceDetector;
  /** Appearance embeddings for re-identification (see `openDetector`); none without. */
  embedder?: FaceEmbedder;
  detectorConfig: DetectorConfig;
  model: () => EmotionModel;
  classify: ClassifyConfig;
  aggregator: AggregatorConfig;
  /** A file's frames waiting for the detector at most (the ingest setting); a live camera keeps only its newest, as `analyze` does. */
  queueMaxFrames: number;
  logger: Logger;
  metrics?: PipelineMetrics;
  backend?: string;
  stats?: IngestStats;
  /** Lossless backpressure for file sources (shared with the frame source). */
  valve?: Valve;
  /** Observers of intermediate results (progress, benchmarks). */
  onFaces?: (m: FacesMessage) => void;
  onEmotions?: (m: EmotionsMessage) => void;
  /** Called with each confirmed person's face crop (48x48 equalised gray) per frame; opt-in thumbnails. */
  onPersonCrop?: (cameraId: string, personId: string, crop: Uint8Array, score: number) => void;
  /** Whether a frame comes from a live camera (the detector's `tilesSweepFramesLive`); this pipeline's own: no valve, a live camera. */
  isLive?: (frame: Frame) => boolean;
}

/** The embedded pipeline: its operator chain and the aggregator stage it owns (timelines, stats). */
export interface EmbeddedPipeline {
  /** Frames in, events (then, at completion, the timelines) out. */
  run(frames: Observable<Frame>): Observable<AggregatorOutput>;
  readonly aggregator: AggregatorStage;
}

/** The stages of {@link EmbeddedDeps} that do not depend on the cameras: used by this pipeline and by the several cameras' one (./cameras.ts). */
export type StageDeps = Omit<EmbeddedDeps, 'cameraId' | 'queueMaxFrames' | 'stats' | 'valve'>;

/**
 * The detector stage (per-camera state inside: scene cuts, tiles, embeddings), the classifier
 * step (detected faces → classified, with the observers) and the aggregator stage, as the
 * embedded pipelines build them.
 */
export function embeddedStages(d: StageDeps): {
  /** A frame's detection (its crops and embeddings then run beside the next frame's: `done`); callers keep each camera's frames and messages in order (as createEmbeddedPipeline and createCamerasPipeline do). */
  start: (frame: Frame) => Promise<StartedFrame<never>>;
  /** The same stage (the same per-camera state) as an operator, one frame at a time. */
  detect: OperatorFunction<Frame, FacesMessage>;
  classify: OperatorFunction<FacesMessage, EmotionsMessage>;
  aggregator: AggregatorStage;
} {
  const start = detectionStages({ detector: d.detector, embedder: d.embedder, logger: d.logger, metrics: d.metrics, config: d.detectorConfig, isLive: d.isLive });
  const detect = oneFrameAtATime(start);
  // Face crops reach the aggregator on the classified faces themselves, and only when a caller
  // asked for person crops (face images are biometric data: nothing is kept otherwise).
  const aggregator = createAggregatorStage({
    config: d.aggregator, logger: d.logger, metrics: d.metrics,
    onPersonFace: d.onPersonCrop
      ? (frame, _j, personId, face) => { if (face.crop) d.onPersonCrop!(frame.cameraId, personId, face.crop, face.score); }
      : undefined,
  });
  const classify = (faces: Observable<FacesMessage>) => faces.pipe(
    tap((m) => d.onFaces?.(m)),
    classifyFaces({ model: d.model, config: d.classify, logger: d.logger, metrics: d.metrics, backend: d.backend, keepCrops: d.onPersonCrop !== undefined }),
    // frames_processed_total is counted once per frame, by the aggregator (as in the distributed mode).
    tap((m) => d.onEmotions?.(m)),
  );
  return { start, detect, classify, aggregator };
}

/** Builds the embedded pipeline. */
export function createEmbeddedPipeline(d: EmbeddedDeps): EmbeddedPipeline {
  const live = !d.valve;
  const { start, classify, aggregator } = embeddedStages({ ...d, isLive: d.isLive ?? (() => live) });
  const run = (frames: Observable<Frame>) => frames.pipe(
    // Detection is the slow stage: the bounded queue sits in front of it and pauses the decoder
    // (files) when it falls behind. A live camera keeps only its newest frame waiting (a newer one
    // replaces it, as in analyze's cameras, ./cameras.ts): frames queued behind a slow detector
    // would only add their wait to every result's latency. The queue takes the next frame once a
    // frame's detection is done; its crops and embeddings go on beside that next frame's.
    boundedQueue(live ? 1 : d.queueMaxFrames, dropCounter(d.cameraId, { metrics: d.metrics, stats: d.stats }),
      (frame: Frame) => from(start(frame)), { valve: d.valve }),
    startedMessages(),
    classify,
    aggregator.operator,
  );
  return { run, aggregator };
}

/** Frames in, events (then the timelines) out: {@link createEmbeddedPipeline} for callers that need nothing else. */
export function embeddedPipeline(frames: Observable<Frame>, d: EmbeddedDeps): Observable<AggregatorOutput> {
  return createEmbeddedPipeline(d).run(frames);
}
