/**
 * The classifier stage: batches faces across frames (and cameras) with
 * `bufferTime(maxWaitMs, null, maxBatchFrames)`, runs the model once per batch, and emits one
 * emotions message per frame, in order.
 */
import { asyncScheduler, bufferTime, concatMap, filter, from, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { EMOTIONS, argmaxEmotion, toProbabilities, SCHEMA_VERSION, type EmotionsMessage, type FacesMessage } from '@emostream/contracts';
import type { Logger, PipelineMetrics } from '@emostream/runtime';
import type { EmotionModel } from './emotionModel.js';

/** Batching settings of the classifier. */
export interface ClassifyConfig {
  /** Longest a frame waits for its batch to fill, in ms. */
  maxWaitMs: number;
  /** Most frames per batch (each frame may carry several faces). */
  maxBatchFrames: number;
}

/** What the stage needs. */
export interface ClassifyDeps {
  /** The current model; read per batch, so a hot reload takes effect at the next batch. */
  model: () => EmotionModel;
  config: ClassifyConfig;
  logger: Logger;
  metrics?: PipelineMetrics;
  backend?: string;
  scheduler?: SchedulerLike;
  /**
   * Keep each face's 48x48 crop on its classified face (in memory only, for opt-in thumbnails in
   * the embedded run). Off by default: face images are biometric data, and never travel onward.
   */
  keepCrops?: boolean;
}

/** Classifies a batch of frames' faces in one model call. */
export async function classifyBatch(model: EmotionModel, batch: FacesMessage[], opts: { keepCrops?: boolean } = {}): Promise<EmotionsMessage[]> {
  const crops = batch.flatMap((m) => m.faces.map((f) => f.crop));
  const probs = crops.length ? await model.predict(crops) : new Float32Array(0);
  let k = 0;
  return batch.map((m) => ({
    frame: { ...m.frame, schemaVersion: SCHEMA_VERSION },
    modelVersion: model.version,
    faces: m.faces.map((f) => {
      const p = toProbabilities(probs.subarray(k * EMOTIONS.length, (k + 1) * EMOTIONS.length));
      k++;
      return {
        box: f.box, score: f.score, ...(f.eyes ? { eyes: f.eyes } : {}), probabilities: p,
        // The appearance embedding goes on to the aggregator (re-identification), and no further.
        ...(f.embedding ? { embedding: f.embedding } : {}),
        ...(opts.keepCrops ? { crop: f.crop } : {}),
      };
    }),
  }));
}

/** Groups frames into batches: at most `maxBatchFrames`, waiting at most `maxWaitMs`; no empty batches. */
export function batchFrames<T>(config: ClassifyConfig, scheduler: SchedulerLike = asyncScheduler): OperatorFunction<T, T[]> {
  return (source) => source.pipe(
    bufferTime(config.maxWaitMs, null, config.maxBatchFrames, scheduler),
    filter((batch) => batch.length > 0),
  );
}

/** The stage operator. */
export function classifyFaces(deps: ClassifyDeps): OperatorFunction<FacesMessage, EmotionsMessage> {
  const { config, metrics, logger } = deps;
  return (source) => source.pipe(
    batchFrames<FacesMessage>(config, deps.scheduler),
    concatMap((batch) => from((async () => {
      const model = deps.model();
      const faces = batch.reduce((a, m) => a + m.faces.length, 0);
      const end = faces ? metrics?.inferenceSeconds.startTimer({ backend: deps.backend ?? 'unknown' }) : undefined;
      try {
        const out = await classifyBatch(model, batch, { keepCrops: deps.keepCrops });
        if (faces) metrics?.batchSize.observe(faces);
        if (metrics) for (const m of out) for (const f of m.faces) metrics.emotions.inc({ camera: m.frame.cameraId, emotion: argmaxEmotion(f.probabilities).emotion });
        return out;
      } catch (err) {
        // A failed batch must not stop the stream: its frames go on with no faces, counted.
        logger.error('classifier batch failed; its faces are dropped', { frames: batch.length, faces, error: (err as Error).message });
        for (const m of batch) metrics?.facesSkipped.inc({ camera: m.frame.cameraId, reason: 'classify_error' }, m.faces.length);
        return batch.map((m) => ({ frame: m.frame, faces: [], modelVersion: model.version }));
      } finally {
        end?.();
      }
    })())),
    concatMap((msgs) => from(msgs)),
  );
}
