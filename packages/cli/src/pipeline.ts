/**
 * The embedded pipeline: the four stages chained as RxJS operators in one process. The
 * distributed mode wraps these same operators in Kafka adapters.
 */
import { type Observable, of, tap } from 'rxjs';
import type { Frame, FacesMessage, EmotionsMessage } from '@emostream/contracts';
import type { Logger, PipelineMetrics } from '@emostream/runtime';
import { boundedQueue, dropCounter, type IngestStats, type Valve } from '@emostream/ingest';
import { detectFaces, type FaceDetector, type DetectorConfig } from '@emostream/detector';
import { classifyFaces, type ClassifyConfig, type EmotionModel } from '@emostream/classifier';
import { aggregate, type AggregatorConfig, type AggregatorOutput, type Aggregator } from '@emostream/aggregator';

/** Everything the embedded pipeline needs, built once by the caller. */
export interface EmbeddedDeps {
  cameraId: string;
  detector: FaceDetector;
  detectorConfig: DetectorConfig;
  model: () => EmotionModel;
  classify: ClassifyConfig;
  aggregator: AggregatorConfig;
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
  onAggregator?: (a: Aggregator) => void;
  /** Called with each confirmed person's face crop (48x48 equalised gray) per frame; opt-in thumbnails. */
  onPersonCrop?: (cameraId: string, personId: string, crop: Uint8Array, score: number) => void;
}

/** Frames in, events (then the timelines) out. */
export function embeddedPipeline(frames: Observable<Frame>, d: EmbeddedDeps): Observable<AggregatorOutput> {
  const detect = detectFaces({ detector: d.detector, logger: d.logger, metrics: d.metrics, config: d.detectorConfig });
  // Crops of recent frames, only kept when a caller asked for person crops (face images are
  // biometric data: nothing is held otherwise). Bounded: frames leave it once aggregated.
  const crops = new Map<string, FacesMessage>();
  const key = (cameraId: string, seq: number) => `${cameraId}/${seq}`;
  const onPersonFace = d.onPersonCrop
    ? (frame: { cameraId: string; seq: number }, j: number, personId: string) => {
      const face = crops.get(key(frame.cameraId, frame.seq))?.faces[j];
      if (face) d.onPersonCrop!(frame.cameraId, personId, face.crop, face.score);
    }
    : undefined;
  return frames.pipe(
    // Detection is the slow stage: the bounded queue sits in front of it and drops (live) or
    // pauses the decoder (files) when it falls behind.
    boundedQueue(d.queueMaxFrames, dropCounter(d.cameraId, { metrics: d.metrics, stats: d.stats }),
      (frame: Frame) => of(frame).pipe(detect), { valve: d.valve }),
    tap((m) => {
      d.onFaces?.(m);
      if (d.onPersonCrop) {
        crops.set(key(m.frame.cameraId, m.frame.seq), m);
        // The classifier holds at most a few batches; anything older has been aggregated.
        if (crops.size > 256) crops.delete(crops.keys().next().value!);
      }
    }),
    classifyFaces({ model: d.model, config: d.classify, logger: d.logger, metrics: d.metrics, backend: d.backend }),
    tap((m) => { d.metrics?.framesProcessed.inc({ camera: m.frame.cameraId }); d.onEmotions?.(m); }),
    aggregate({ config: d.aggregator, logger: d.logger, metrics: d.metrics, onAggregator: d.onAggregator, onPersonFace }),
  );
}
