/** The detector service: frames → detectFaces (per frame, as embedded) → faces. */
import type { FacesMessage, Frame } from '@emostream/contracts';
import { detectFaces, type DetectorConfig, type FaceDetector, type FaceEmbedder } from '@emostream/detector';
import { decodeFrameRgb, encodeFaces, groupIdFor, isLiveFrame, pipelineTopics, rejection, runStage, type Rejection, type RunningStage, type ShedOptions } from '@emostream/kafka';
import type { ServiceDeps } from './deps.js';

/** The reason on a dead letter of the detector whose detection (or RGB conversion) threw. */
export const DETECT_ERROR = 'detect_error';

/**
 * The detector service: frames → detectFaces (per frame, as embedded) → faces. Stateless; scales
 * out in its group. A frame whose detection throws goes, unchanged, to the frames dead-letter
 * topic (reason `detect_error`; also counted in `frames_dropped_total{reason="detect_error"}`).
 * `maxFramePixels`: EMOSTREAM_MAX_FRAME_PIXELS (default 4096x4096; a larger frame is a dead letter).
 * Up to `partitionsConcurrently` partitions (4) are processed at once, so that several cameras'
 * frames go through BlazeFace in one batch.
 */
export function startDetector(deps: ServiceDeps & { detector: FaceDetector; embedder?: FaceEmbedder; detectorConfig: DetectorConfig; shed?: ShedOptions; maxFramePixels?: number; partitionsConcurrently?: number }): Promise<RunningStage> {
  const t = pipelineTopics(deps.config.topicPrefix);
  const failed = (_f: Frame, e: Error): Rejection => rejection(DETECT_ERROR, e.message || String(e));
  // Frames whose message ingest marked live (the emostream-live header): their tile sweeps are spread (tilesSweepFramesLive).
  const live = new WeakSet<Frame>();
  return runStage<Frame, FacesMessage | Rejection>({
    stage: 'detector', kafka: deps.kafka, config: deps.config, logger: deps.logger, metrics: deps.metrics, stallMs: deps.stallMs,
    inputTopic: t.frames, outputTopic: t.faces, dlqTopic: t.dlq.frames, groupId: deps.groupId ?? groupIdFor(deps.config, 'detector'),
    // The frame's one RGB conversion (a JPEG that does not decode, or is over the pixel cap, is a dead letter).
    decode: async (m) => {
      const d = await decodeFrameRgb(m, { maxPixels: deps.maxFramePixels });
      if (d.ok && isLiveFrame(m)) live.add(d.value);
      return d;
    },
    operator: detectFaces({ detector: deps.detector, embedder: deps.embedder, logger: deps.logger, metrics: deps.metrics, config: deps.detectorConfig, failed, isLive: (f) => live.has(f) }),
    correlation: { mode: 'each' },
    encode: encodeFaces,
    chunkSize: 8,
    // Frames of up to 4 partitions (cameras) in detection at once: BlazeFace takes them in one
    // batch; each partition's frames stay in order, one at a time.
    partitionsConcurrently: deps.partitionsConcurrently ?? 4,
    // Live cameras only: when the detector falls behind, fair shares between cameras and no
    // stale frames (files are analysed whole).
    shed: deps.shed ? { ...deps.shed, applies: isLiveFrame } : undefined,
  });
}
