/** The pipeline's Prometheus metrics (prom-client), created once per process and handed to every stage. */
import client from 'prom-client';

/** Every metric a stage may update; names carry their unit. */
export interface PipelineMetrics {
  registry: client.Registry;
  framesDecoded: client.Counter<'camera'>;
  framesDropped: client.Counter<'camera' | 'reason'>;
  framesProcessed: client.Counter<'camera'>;
  ffmpegRestarts: client.Counter<'camera' | 'reason'>;
  streamStalls: client.Counter<'camera'>;
  facesDetected: client.Counter<'camera'>;
  facesSkipped: client.Counter<'camera' | 'reason'>;
  detectSeconds: client.Histogram<'detector' | 'camera'>;
  /** Frames the detector stage handled, by `mode` (`detected`: the detector ran; `carried`: the last detection's faces were reused) and why. */
  detectorFrames: client.Counter<'camera' | 'mode' | 'reason'>;
  batchSize: client.Histogram<never>;
  inferenceSeconds: client.Histogram<'backend'>;
  modelInfo: client.Gauge<'version' | 'backend' | 'provider'>;
  eventsEmitted: client.Counter<'camera' | 'type'>;
  personsActive: client.Gauge<'camera'>;
  latencySeconds: client.Histogram<'camera'>;
  deadLetters: client.Counter<'stage' | 'reason'>;
  inputFps: client.Gauge<'camera'>;
  /** Distributed mode: messages between a consumer group's committed offset and the partition's end. */
  consumerLag: client.Gauge<'group' | 'topic' | 'partition'>;
  /** Distributed mode: times a stage had work waiting and committed nothing for its stall timeout, and recovered on its own. */
  stageStalls: client.Counter<'stage'>;
  /** Classified faces by their most likely emotion (the dashboards' emotion mix). */
  emotions: client.Counter<'camera' | 'emotion'>;
  /** Faces whose classification was reused from the frame before (the face did not change), not run through the model. */
  facesReused: client.Counter<'camera'>;
}

/** Creates the metrics on a fresh registry (with prom-client's process defaults when asked). */
export function createMetrics(opts: { defaults?: boolean; prefix?: string } = {}): PipelineMetrics {
  const registry = new client.Registry();
  const p = opts.prefix ?? 'emostream_';
  if (opts.defaults) client.collectDefaultMetrics({ register: registry, prefix: p });
  const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
    new client.Counter<L>({ name: p + name, help, labelNames, registers: [registry] });
  const gauge = <L extends string>(name: string, help: string, labelNames: L[]) =>
    new client.Gauge<L>({ name: p + name, help, labelNames, registers: [registry] });
  const histogram = <L extends string>(name: string, help: string, labelNames: L[], buckets: number[]) =>
    new client.Histogram<L>({ name: p + name, help, labelNames, buckets, registers: [registry] });
  const secs = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
  return {
    registry,
    framesDecoded: counter('frames_decoded_total', 'Frames decoded by ffmpeg', ['camera']),
    framesDropped: counter('frames_dropped_total', 'Frames dropped, by reason (queue_full, decode_error, ...)', ['camera', 'reason']),
    framesProcessed: counter('frames_processed_total', 'Frames that went through the whole pipeline', ['camera']),
    ffmpegRestarts: counter('ffmpeg_restarts_total', 'ffmpeg restarts by the supervisor, by reason', ['camera', 'reason']),
    streamStalls: counter('stream_stalls_total', 'Times a stream delivered no frame within the stall timeout', ['camera']),
    facesDetected: counter('faces_detected_total', 'Faces detected', ['camera']),
    facesSkipped: counter('faces_skipped_total', 'Detections not classified, by reason (too_small, low_score)', ['camera', 'reason']),
    detectSeconds: histogram('detect_seconds', 'Face detection time per frame', ['detector', 'camera'], secs),
    detectorFrames: counter('detector_frames_total', 'Frames through the detector stage: mode detected (the detector ran) or carried (the last detection\'s faces reused), with the reason', ['camera', 'mode', 'reason']),
    batchSize: histogram('classifier_batch_size', 'Faces per classifier batch', [], [1, 2, 4, 8, 16, 32, 64, 128, 256]),
    inferenceSeconds: histogram('inference_seconds', 'Classifier inference time per batch', ['backend'], secs),
    modelInfo: gauge('model_info', 'The loaded emotion model (value 1)', ['version', 'backend', 'provider']),
    eventsEmitted: counter('events_total', 'Emotion events emitted, by type', ['camera', 'type']),
    personsActive: gauge('persons_active', 'Person tracks currently open', ['camera']),
    latencySeconds: histogram('frame_to_event_latency_seconds', 'Time from frame capture to its emotions leaving the aggregator', ['camera'], [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10]),
    deadLetters: counter('dead_letters_total', 'Messages sent to a dead-letter topic, by stage and reason', ['stage', 'reason']),
    inputFps: gauge('input_fps', 'Frames per second arriving from the source (last 5 s)', ['camera']),
    consumerLag: gauge('consumer_lag_messages', 'Messages not yet consumed by a consumer group (partition end offset minus committed offset)', ['group', 'topic', 'partition']),
    stageStalls: counter('stage_stalls_total', 'Times a stage had messages waiting and committed no offset for its stall timeout (EMOSTREAM_STALL_TIMEOUT_MS), then abandoned its batch or restarted its consumer', ['stage']),
    emotions: counter('emotions_total', 'Classified faces by their most likely emotion', ['camera', 'emotion']),
    facesReused: counter('faces_reused_total', 'Faces given the probabilities of their last fresh classification instead of a model call: unchanged since (classifier reuseMaxMs) or classified under reuseMinMs of media time ago', ['camera']),
  };
}
