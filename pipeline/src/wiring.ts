/**
 * The parts every way of running the pipeline builds the same way (analyze, serve, bench and the
 * tests): the emotion model handle, the face detector (and embedder), the backpressure valve of a
 * source, the classifier's batching.
 */
import type { Logger, PipelineMetrics, TfRuntime } from '@emostream/runtime';
import { classifyInput, createValve, type Valve } from '@emostream/ingest';
import { DEFAULT_CLASSIFIER_SETTINGS, WorkerEmotionModel, backendChoiceOf, classifyConfigOf, loadEmotionModel, watchModel, type ClassifyConfig, type EmotionModel } from '@emostream/classifier';
import { createDetector, createFaceEmbedder, type DetectorConfig, type FaceDetector, type FaceEmbedder } from '@emostream/detector';

/**
 * The classifier's batching and reuse, embedded and distributed alike: a batch starts as soon as
 * the model is free, holding the frames that came while it was busy (at most 32 frames, faces of
 * several cameras in the service); a frame that finds the model idle goes at once; a face that
 * did not change since its camera's last frame reuses its classification (at most 2 frames in a
 * row). The defaults of the classifier service's settings (CLASSIFIER_*).
 */
export const DEFAULT_CLASSIFY: Readonly<ClassifyConfig> = Object.freeze(classifyConfigOf(DEFAULT_CLASSIFIER_SETTINGS));

/** The current emotion model, swapped when a new version appears in its directory. */
export interface ModelSource {
  /** The model to use for the next batch. */
  current: () => EmotionModel;
  /** The model loaded at start (its version names the run). */
  readonly initial: EmotionModel;
  close(): void;
}

/**
 * Loads the emotion model (`model`: a model directory, `human` for Human's model, or the shipped
 * default) and, for a model directory with `pollMs` > 0, watches it for new versions. Human's
 * model has no directory to watch. `worker`: a model directory's CNN runs in a worker thread
 * (`classifier.worker`), and so does each new version; Human's model stays on this thread.
 */
export async function openModel(rt: TfRuntime, o: { model?: string; head?: string; pollMs: number; logger: Logger; metrics?: PipelineMetrics; worker?: boolean }): Promise<ModelSource> {
  const worker = o.worker === true && o.model !== 'human';
  const load = worker ? (dir?: string) => WorkerEmotionModel.load({ model: dir, head: o.head, backend: backendChoiceOf(rt) }) : undefined;
  const initial = load ? await load(o.model) : await loadEmotionModel(rt.tf, { model: o.model, head: o.head });
  await warmUp({ model: initial });
  if (o.model === 'human' || !initial.dir) return { current: () => initial, initial, close() {} };
  const handle = watchModel({ tf: rt.tf, dir: initial.dir, initial, logger: o.logger, metrics: o.metrics, backend: rt, pollMs: o.pollMs, head: o.head, load });
  // The worker ends with the run (calls in flight finish first); an in-thread model is left as before.
  return { current: handle.current, initial, close: () => { handle.close(); if (worker) handle.current().dispose(); } };
}

/**
 * A file is read losslessly (the decoder pauses when the pipeline is behind: a valve); a live
 * camera is not paused, it drops its oldest waiting frame instead (no valve).
 */
export function valveFor(url: string): Valve | undefined {
  return classifyInput(url).kind === 'file' ? createValve() : undefined;
}

/** The face detector of a configuration and, when `embeddings` is on, the face embedder. */
export interface DetectorParts {
  detector: FaceDetector;
  embedder?: FaceEmbedder;
  dispose(): Promise<void>;
}

/** Loads the configured detector, and the embedder when the configuration asks for embeddings; both warmed up ({@link warmUp}). */
export async function openDetector(config: DetectorConfig, rt: TfRuntime): Promise<DetectorParts> {
  const detector = await createDetector(config, { tf: rt });
  const embedder = config.embeddings ? await createFaceEmbedder(rt) : undefined;
  await warmUp({ detector, embedder });
  return { detector, embedder, dispose: async () => { embedder?.dispose(); await detector.dispose(); } };
}

/**
 * Runs each network once on a blank input, before any source opens. A network's first call costs
 * several times a later one (TensorFlow allocates and picks its kernels then): at 2 cores, BlazeFace
 * on a 720p frame 190 against 35 ms, the emotion CNN 98 against 8 ms, faceres 110 against 52 ms
 * (bench/RESULTS.md, Session 23). Paid while a live camera's frames already arrive, that is a queue
 * every later frame waits behind.
 */
export async function warmUp(parts: { detector?: FaceDetector; embedder?: FaceEmbedder; model?: EmotionModel }): Promise<void> {
  const width = 1280, height = 720;
  const frame = new Uint8Array(width * height * 3).fill(128);
  if (parts.detector) await parts.detector.detect(frame, width, height);
  if (parts.embedder) await parts.embedder.embed(frame, width, height, [{ x: 560, y: 280, width: 160, height: 160 }]);
  if (parts.model) {
    const blank = [new Uint8Array(48 * 48).fill(128)];
    await parts.model.predict(blank);
    // A model with mirror TTA has a second, one-pass graph: the classifier's paired views run it.
    if (parts.model.mirrors) await parts.model.predict(blank, true);
  }
}
