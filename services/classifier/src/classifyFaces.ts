/**
 * The classifier stage: batches faces across frames (and cameras) while the model is busy
 * ({@link batchWhileBusy}), runs the model once per batch, and emits one output per frame, in
 * order: its emotions message, or (a frame whose faces could not be classified after retries)
 * what the caller's `failed` makes of it.
 */
import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import { EMOTIONS, argmaxEmotion, toProbabilities, SCHEMA_VERSION, type EmotionsMessage, type FacesMessage } from '@emostream/contracts';
import { backoffDelayMs, type Logger, type PipelineMetrics } from '@emostream/runtime';
import type { EmotionModel } from './emotionModel.js';
import { ClassificationReuse, type ReuseOptions } from './reuse.js';

/** Batching (and retry) settings of the classifier. */
export interface ClassifyConfig {
  /** Longest a frame that finds the model idle waits for others to join its batch, in ms (0: only those of the same event-loop turn). */
  maxWaitMs: number;
  /** Most frames per batch (each frame may carry several faces). */
  maxBatchFrames: number;
  /** Model calls of a failed batch retried, with backoff (default {@link DEFAULT_CLASSIFY_RETRY}). */
  retries?: number;
  /** First backoff before a retry, ms; doubled each time (jittered), at most 16x (default {@link DEFAULT_CLASSIFY_RETRY}). */
  retryBackoffMs?: number;
  /** Classification reused for faces that did not change or were classified moments ago (./reuse.ts); absent or `maxMs` and `minMs` 0: every face is classified. */
  reuse?: ReuseOptions;
}

/**
 * A failed model call is retried twice, after about 200 then 400 ms (a transient error: memory,
 * a device busy); then each of the batch's frames is tried alone once, so one bad frame does not
 * take the others down, and a frame that still fails is `failed`.
 */
export const DEFAULT_CLASSIFY_RETRY = Object.freeze({ retries: 2, retryBackoffMs: 200 });

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
  /** Waits between retries (default: a timer); tests pass one that records the delays. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Told how each batch with faces went: `success` when the model classified its faces (all, or
   * some frames of it), `failure` when every model call for it failed (the circuit breaker).
   */
  outcome?: { success(): void; failure(error: Error): void };
}

/**
 * What goes on in place of a frame that could not be classified. Without one (the embedded run,
 * where nothing is committed and nothing could be replayed) the frame goes on with no faces,
 * each counted as `faces_skipped{reason="classify_error"}` and logged; the Kafka service makes
 * it a dead letter instead (never an empty result committed).
 */
export type ClassifyFailed<F> = (m: FacesMessage, error: Error) => F;

/**
 * Classifies a batch of frames' faces in one model call. With `reuse`, the faces it finds
 * unchanged take their kept probabilities instead (`onReused` is told how many per frame), and
 * only the others go to the model.
 */
export async function classifyBatch(model: EmotionModel, batch: FacesMessage[], opts: { keepCrops?: boolean; reuse?: ClassificationReuse; onReused?: (m: FacesMessage, faces: number) => void } = {}): Promise<EmotionsMessage[]> {
  const K = EMOTIONS.length;
  const plan = opts.reuse?.plan(batch, model.version, model.mirrors ?? false);
  const crops = plan ? plan.crops : batch.flatMap((m) => m.faces.map((f) => f.crop));
  const probs = crops.length ? await model.predict(crops, plan?.single) : new Float32Array(0);
  const byFace = plan?.resolve(probs);
  let k = 0;
  if (plan && opts.onReused) batch.forEach((m, i) => { if (plan.reused[i] > 0) opts.onReused!(m, plan.reused[i]); });
  return batch.map((m, i) => ({
    frame: { ...m.frame, schemaVersion: SCHEMA_VERSION },
    modelVersion: model.version,
    faces: m.faces.map((f, j) => {
      const p = toProbabilities(byFace ? byFace[i][j] : probs.subarray(k * K, (k + 1) * K));
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

/**
 * Batches frames for a worker that runs one batch at a time, and runs it: a batch starts as soon
 * as the worker is free, holding every frame that arrived while the previous batch ran (at most
 * `maxBatchFrames`; the rest wait for the next). A frame that finds the worker idle waits at most
 * `maxWaitMs` for others to join it (0: only those arriving in the same turn of the event loop),
 * or less when `maxBatchFrames` are there. So a lone camera's frame is not held back waiting for
 * a second face, and a busy classifier still gets large batches. Outputs come in input order, one
 * batch after the other; no empty batches.
 */
export function batchWhileBusy<T, R>(config: ClassifyConfig, work: (batch: T[]) => Promise<R[]>, scheduler: SchedulerLike = asyncScheduler): OperatorFunction<T, R> {
  return (source) => new Observable<R>((subscriber) => {
    const pending: T[] = [];
    let busy = false;
    let done = false;
    let timer: Subscription | undefined;
    const start = () => {
      timer?.unsubscribe();
      timer = undefined;
      if (busy) return;
      if (pending.length === 0) {
        if (done) subscriber.complete();
        return;
      }
      busy = true;
      work(pending.splice(0, config.maxBatchFrames)).then((out) => {
        for (const r of out) subscriber.next(r);
        busy = false;
        // Frames that came while the batch ran have waited already: they go at once.
        start();
      }, (e: unknown) => subscriber.error(e));
    };
    const sub = source.subscribe({
      next: (v) => {
        pending.push(v);
        if (busy) return;
        if (pending.length >= config.maxBatchFrames) start();
        else timer ??= scheduler.schedule(start, config.maxWaitMs);
      },
      error: (e) => subscriber.error(e),
      complete: () => { done = true; if (!busy) start(); },
    });
    return () => { sub.unsubscribe(); timer?.unsubscribe(); };
  });
}

/** The stage operator: one output per frame, in order; `failed` says what stands for a frame that cannot be classified. */
export function classifyFaces(deps: ClassifyDeps): OperatorFunction<FacesMessage, EmotionsMessage>;
export function classifyFaces<F>(deps: ClassifyDeps & { failed: ClassifyFailed<F> }): OperatorFunction<FacesMessage, EmotionsMessage | F>;
export function classifyFaces<F>(deps: ClassifyDeps & { failed?: ClassifyFailed<F> }): OperatorFunction<FacesMessage, EmotionsMessage | F> {
  const { config, metrics, logger } = deps;
  const retries = config.retries ?? DEFAULT_CLASSIFY_RETRY.retries;
  const backoff = { backoffInitialMs: config.retryBackoffMs ?? DEFAULT_CLASSIFY_RETRY.retryBackoffMs, backoffMaxMs: 16 * (config.retryBackoffMs ?? DEFAULT_CLASSIFY_RETRY.retryBackoffMs) };
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const facesOf = (batch: FacesMessage[]) => batch.reduce((a, m) => a + m.faces.length, 0);
  // One cache for every camera the stream carries (the service's partitions included).
  const reuse = config.reuse && ClassificationReuse.enabled(config.reuse) ? new ClassificationReuse(config.reuse) : undefined;
  const onReused = (m: FacesMessage, n: number) => metrics?.facesReused.inc({ camera: m.frame.cameraId }, n);

  /**
   * One model call over the batch (the model is read per call: a hot reload may be what heals
   * it); `modelFaces`: the faces the model saw (0 when every face was reused: no call).
   */
  const once = async (batch: FacesMessage[]): Promise<{ out: EmotionsMessage[]; modelFaces: number }> => {
    let faces = facesOf(batch);
    const end = faces ? metrics?.inferenceSeconds.startTimer({ backend: deps.backend ?? 'unknown' }) : undefined;
    try {
      const out = await classifyBatch(deps.model(), batch, {
        keepCrops: deps.keepCrops, reuse, onReused: (m, n) => { faces -= n; onReused(m, n); },
      });
      if (faces) metrics?.batchSize.observe(faces);
      if (metrics) for (const m of out) for (const f of m.faces) metrics.emotions.inc({ camera: m.frame.cameraId, emotion: argmaxEmotion(f.probabilities).emotion });
      return { out, modelFaces: faces };
    } finally {
      if (faces) end?.();
    }
  };

  const failedFrame = (m: FacesMessage, error: Error): EmotionsMessage | F => {
    metrics?.facesSkipped.inc({ camera: m.frame.cameraId, reason: 'classify_error' }, m.faces.length);
    logger.error('frame could not be classified', { camera: m.frame.cameraId, seq: m.frame.seq, faces: m.faces.length, error: error.message, then: deps.failed ? 'dead letter' : 'faces dropped' });
    return deps.failed ? deps.failed(m, error) : { frame: m.frame, faces: [], modelVersion: deps.model().version };
  };

  /** A batch's outcome, for the breaker: only batches that called the model (faces not all reused) count. */
  const told = (batch: FacesMessage[], ok: boolean, error?: Error) => {
    if (facesOf(batch) === 0) return;
    if (ok) deps.outcome?.success();
    else deps.outcome?.failure(error!);
  };

  const classify = async (batch: FacesMessage[]): Promise<Array<EmotionsMessage | F>> => {
    let error: Error | undefined;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) await sleep(backoffDelayMs(attempt - 1, backoff));
      try {
        const { out, modelFaces } = await once(batch);
        if (modelFaces) told(batch, true);
        return out;
      } catch (e) {
        error = e as Error;
        logger.warn('classifier batch failed', { frames: batch.length, faces: facesOf(batch), attempt: attempt + 1, of: retries + 1, error: error.message });
      }
    }
    if (batch.length === 1) {
      told(batch, false, error);
      return [failedFrame(batch[0], error!)];
    }
    // The cause may be one frame: each alone, once; only those that still fail are lost to this stream.
    const out: Array<EmotionsMessage | F> = [];
    let classified = 0;
    for (const m of batch) {
      try {
        const r = await once([m]);
        out.push(...r.out);
        classified += r.modelFaces;
      } catch (e) {
        error = e as Error;
        out.push(failedFrame(m, error));
      }
    }
    told(batch, classified > 0, error);
    return out;
  };

  return batchWhileBusy<FacesMessage, EmotionsMessage | F>(config, classify, deps.scheduler);
}
