/**
 * The embedded pipeline wired as `emostream analyze` wires it (frame source with its valve,
 * detector with its scene-cut flags and face embedder, classifier batching, aggregator), with
 * the benchmark's hooks on every frame's emotions and every event. Detector, embedder and model
 * are passed in (or shared), so one process loads them once.
 */
import { lastValueFrom, takeUntil, tap, timer, defaultIfEmpty, NEVER } from 'rxjs';
import type { EmotionEvent, EmotionsMessage, Timelines } from '@emostream/contracts';
import { createMetrics, loadTf, silentLogger } from '@emostream/runtime';
import { createIngestStats, frameSource, parseSourceConfig } from '@emostream/ingest';
import { createFaceEmbedder, parseDetectorConfig, type DetectorConfig, type DetectorConfigInput, type FaceDetector, type FaceEmbedder } from '@emostream/detector';
import { ClassifyStageSchema, classifyConfigOf, type ClassifyConfig, type ClassifyStageInput, type EmotionModel } from '@emostream/classifier';
import { parseAggregatorConfig, type AggregatorConfig } from '@emostream/aggregator';
import { createEmbeddedPipeline, DEFAULT_CLASSIFY, valveFor, warmUp } from '@emostream/pipeline';

let shared: Promise<FaceEmbedder> | undefined;

/**
 * The face embedder (Human's faceres, as `openDetector` loads it for `analyze`), loaded once per
 * process on the loaded TensorFlow.js runtime, warmed up as `openDetector` warms it, and shared by
 * every run that does not bring one.
 */
export function sharedEmbedder(): Promise<FaceEmbedder> {
  shared ??= loadTf().then((rt) => createFaceEmbedder(rt)).then(async (embedder) => { await warmUp({ embedder }); return embedder; });
  return shared;
}

/** Options of {@link runEmbedded}. */
export interface EmbeddedOptions {
  source: string;
  cameraId?: string;
  /** Frames analysed per second (analyze's --fps). */
  fps: number;
  detector: FaceDetector;
  /**
   * The detector's settings (analyze's `--set detector.…`); absent: the defaults, as `analyze`
   * runs, with scene cuts and embeddings on.
   */
  detectorConfig?: DetectorConfig;
  /** The embedder for `detectorConfig.embeddings`; absent: {@link sharedEmbedder}. */
  embedder?: FaceEmbedder;
  /** The aggregator's settings; absent: the defaults. */
  aggregatorConfig?: AggregatorConfig;
  model: EmotionModel;
  backend: string;
  /** Stop after this much wall time (live sources and soaks). */
  stopAfterMs?: number;
  onEmotions?: (m: EmotionsMessage) => void;
  onEvent?: (e: EmotionEvent) => void;
}

/** What a run did. */
export interface EmbeddedResult {
  frames: number;
  faces: number;
  events: EmotionEvent[];
  timelines?: Timelines;
  drops: number;
  wallMs: number;
  /** Media time covered: last frame's time plus one frame interval. */
  mediaMs: number;
  /** Where the time went, from the pipeline's own metrics. */
  stages: { detectMsPerFrame: number | null; inferenceMsPerBatch: number | null; facesPerBatch: number | null; batches: number; wallMsPerFrame: number | null };
}

type Hist = { get(): Promise<{ values: Array<{ metricName?: string; value: number }> }> | { values: Array<{ metricName?: string; value: number }> } };

/** Sum and count of a prom-client histogram (all label sets together). */
async function sumCount(h: Hist): Promise<{ sum: number; count: number }> {
  const v = (await h.get()).values;
  const pick = (suffix: string) => v.filter((x) => x.metricName?.endsWith(suffix)).reduce((a, x) => a + x.value, 0);
  return { sum: pick('_sum'), count: pick('_count') };
}

/**
 * The classifier stage's settings of the embedded runs: the defaults, or those of
 * `BENCH_CLASSIFIER_SETTINGS` (JSON, analyze's `--set classifier.…`, e.g. `{"reuseMaxMs":0}`).
 */
export function benchClassify(): ClassifyConfig {
  const settings = benchClassifierSettings();
  return settings ? classifyConfigOf(ClassifyStageSchema.parse(settings)) : DEFAULT_CLASSIFY;
}

/**
 * Detector settings beyond the defaults for the runs that do not set their own:
 * `BENCH_DETECTOR_SETTINGS` (JSON, analyze's `--set detector.…`, e.g. `{"tiles":"off"}`), checked
 * here (a bad key or value fails, naming it); undefined when unset.
 */
export function benchDetectorSettings(): DetectorConfigInput | undefined {
  const raw = process.env.BENCH_DETECTOR_SETTINGS;
  if (!raw) return undefined;
  const parsed = JSON.parse(raw) as DetectorConfigInput;
  parseDetectorConfig(parsed);
  return parsed;
}

/** `BENCH_CLASSIFIER_SETTINGS` as analyze's classifier settings (validated), or undefined when unset. */
export function benchClassifierSettings(): ClassifyStageInput | undefined {
  const raw = process.env.BENCH_CLASSIFIER_SETTINGS;
  if (!raw) return undefined;
  const parsed = JSON.parse(raw) as ClassifyStageInput;
  ClassifyStageSchema.parse(parsed);
  return parsed;
}

/** `analyze()`'s options for {@link benchDetectorSettings} and {@link benchClassifierSettings}: only those set. */
export function benchAnalyzeSettings(): { detectorSettings?: DetectorConfigInput; classifierSettings?: ClassifyStageInput } {
  const detector = benchDetectorSettings(), classifier = benchClassifierSettings();
  return { ...(detector ? { detectorSettings: detector } : {}), ...(classifier ? { classifierSettings: classifier } : {}) };
}

/** The detector configuration of the runs that do not set their own: the defaults with {@link benchDetectorSettings}. */
export const benchDetectorConfig = (): DetectorConfig => parseDetectorConfig(benchDetectorSettings() ?? {});

/** Runs the embedded pipeline on one source until it ends (or `stopAfterMs`). */
export async function runEmbedded(o: EmbeddedOptions): Promise<EmbeddedResult> {
  const cameraId = o.cameraId ?? 'bench';
  const src = parseSourceConfig({ cameraId, url: o.source, fpsLimit: o.fps, giveUpAfterMs: 30_000 });
  const stats = createIngestStats();
  const valve = valveFor(o.source);
  const stop$ = o.stopAfterMs === undefined ? NEVER : timer(o.stopAfterMs);
  const metrics = createMetrics();
  const r: EmbeddedResult = { frames: 0, faces: 0, events: [], drops: 0, wallMs: 0, mediaMs: 0, stages: { detectMsPerFrame: null, inferenceMsPerBatch: null, facesPerBatch: null, batches: 0, wallMsPerFrame: null } };
  let lastMediaMs = -1;
  const detectorConfig = o.detectorConfig ?? benchDetectorConfig();
  const embedder = detectorConfig.embeddings ? o.embedder ?? await sharedEmbedder() : undefined;
  const pipeline = createEmbeddedPipeline({
    cameraId, detector: o.detector, embedder, detectorConfig, model: () => o.model,
    classify: benchClassify(), aggregator: o.aggregatorConfig ?? parseAggregatorConfig({}), queueMaxFrames: src.queueMaxFrames,
    logger: silentLogger, metrics, backend: o.backend, stats, valve,
    onEmotions: (m) => { r.frames++; r.faces += m.faces.length; lastMediaMs = m.frame.mediaTimeMs; o.onEmotions?.(m); },
  });
  const t0 = performance.now();
  await lastValueFrom(pipeline.run(frameSource(src, { logger: silentLogger, stats, valve }).pipe(takeUntil(stop$))).pipe(
    tap((out) => {
      if (out.kind === 'timelines') { r.timelines = out.timelines; return; }
      r.events.push(out.event);
      o.onEvent?.(out.event);
    }),
    defaultIfEmpty(undefined),
  ));
  r.wallMs = performance.now() - t0;
  r.drops = stats.framesDropped;
  r.mediaMs = lastMediaMs < 0 ? 0 : lastMediaMs + 1000 / o.fps;
  const det = await sumCount(metrics.detectSeconds);
  const inf = await sumCount(metrics.inferenceSeconds);
  const bs = await sumCount(metrics.batchSize);
  r.stages = {
    detectMsPerFrame: det.count ? (det.sum * 1000) / det.count : null,
    inferenceMsPerBatch: inf.count ? (inf.sum * 1000) / inf.count : null,
    facesPerBatch: bs.count ? bs.sum / bs.count : null,
    batches: inf.count,
    wallMsPerFrame: r.frames ? r.wallMs / r.frames : null,
  };
  return r;
}
