/**
 * The body of an `analyze` run on one camera or several (./analyze.ts): checks the sources,
 * loads the models once, runs the cameras' pipeline (./cameras.ts), serves metrics and the live
 * API while it lasts, and writes each camera's outputs (./analyzeOutput.ts) when it ends.
 */
import path from 'node:path';
import { Subject, takeUntil, takeWhile, lastValueFrom, tap, defaultIfEmpty } from 'rxjs';
import type { Timelines } from '@emostream/contracts';
import { createLogger, createMetrics, loadTf, redactUrl, redactText, startMetricsServer, urlSecrets, type BackendChoice } from '@emostream/runtime';
import { classifyInput, createIngestStats, frameSource, parseSourceConfig, probeSource, type IngestStats, type SourceConfig } from '@emostream/ingest';
import { parseDetectorConfig } from '@emostream/detector';
import { parseAggregatorConfig } from '@emostream/aggregator';
import { ClassifyStageSchema, DEFAULT_CLASSIFIER_SETTINGS, classifyConfigOf } from '@emostream/classifier';
import { createCamerasPipeline, type CameraInput } from './cameras.js';
import { CameraOutput, cameraTimelines } from './analyzeOutput.js';
import { DEFAULT_CLASSIFY, openDetector, openModel, valveFor } from './wiring.js';
import { sourceOptions } from './sources.js';
import { LiveTimelines } from './api/live.js';
import { startApiServer } from './api/server.js';
import type { AnalyzeHooks, AnalyzeProgress, CameraResult, CamerasOptions } from './analyze.js';

/** One camera of a run: its id, source and output folder. */
export interface CameraSpec {
  cameraId: string;
  /** The source; a `#rotate=<deg>` at its end is the camera's own turn (./sources.ts). */
  url: string;
  outDir: string;
  /** The camera's own turn (degrees clockwise), over the run's `rotate`. */
  rotate?: number;
}

interface Cam extends CameraSpec {
  shown: string;
  secrets: string[];
  kind: 'file' | 'live';
  config: SourceConfig;
  stats: IngestStats;
  durationMs?: number;
  frames: number;
  faces: number;
  mediaTimeMs: number;
  /** A live camera's wall clock at its media time 0 (its report is labelled in clock time). */
  clockStartMs?: number;
  failed?: string;
  skipped: number;
  ended?: CameraResult;
  out?: CameraOutput;
}

/** The error of a camera that failed, with its id (as the ingest errors word it) and no credentials. */
const cameraError = (c: Cam, e: unknown) => {
  const msg = redactText((e as Error)?.message ?? String(e), c.secrets);
  return msg.startsWith(`camera "${c.cameraId}"`) ? msg : `camera "${c.cameraId}": ${msg}`;
};

/** Runs the cameras; `single`: the one source of `analyze <source>` (a failing probe fails the run at once). */
export async function runCameras(specs: readonly CameraSpec[], o: CamerasOptions, hooks: AnalyzeHooks, { single }: { single: boolean }) {
  const cams: Cam[] = specs.map((spec) => {
    const own = sourceOptions(spec.url, single ? 'analyze' : `camera ${spec.cameraId}`);
    const s = { ...spec, url: own.url };
    const kind = classifyInput(s.url).kind === 'file' ? 'file' : 'live';
    const rotate = spec.rotate ?? own.settings?.rotate ?? o.rotate;
    const config = parseSourceConfig({
      cameraId: s.cameraId, url: s.url, fpsLimit: o.fps, realtime: (o.realtime ?? false) && kind === 'file', rtspTransport: o.rtspTransport,
      giveUpAfterMs: o.giveUpAfter * 1000, maxWidth: o.maxWidth, maxHeight: Math.round((o.maxWidth * 9) / 16),
      ...(rotate ? { rotate } : {}),
    });
    return { ...s, shown: redactUrl(s.url), secrets: urlSecrets(s.url), kind, config, stats: createIngestStats(), frames: 0, faces: 0, mediaTimeMs: 0, skipped: 0 };
  });
  if (o.realtime && !cams.some((c) => c.kind === 'file')) throw new Error('--realtime applies to files only (a camera is real time already)');
  const logger = createLogger({ secrets: cams.flatMap((c) => c.secrets), level: o.quiet ? 'error' : 'warn' });
  // Fail fast on a bad file before loading any model: the run (one source), or that camera (several).
  await Promise.all(cams.filter((c) => c.kind === 'file').map(async (c) => {
    try {
      c.durationMs = (await probeSource(c.url)).durationMs;
      if (o.duration && c.durationMs) c.durationMs = Math.min(c.durationMs, o.duration * 1000);
    } catch (e) {
      if (single) throw e;
      c.failed = cameraError(c, e);
    }
  }));
  if (cams.every((c) => c.failed)) throw new Error(`no camera could be opened: ${cams.map((c) => c.failed).join('; ')}`);
  const detectorConfig = parseDetectorConfig({ ...o.detectorSettings, detector: o.detector });
  // A run's timelines.json lists every person of the run, decided with hindsight, unless told otherwise.
  const aggregatorConfig = parseAggregatorConfig({ finishedMaxPersons: 0, timelineHindsight: true, ...o.aggregatorSettings });
  const classifierStage = o.classifierSettings ? ClassifyStageSchema.parse(o.classifierSettings) : undefined;
  const classify = classifierStage ? classifyConfigOf(classifierStage) : DEFAULT_CLASSIFY;
  const metrics = createMetrics({ defaults: true });
  // Every network a session call (oneDNN at AVX2), unless Human's emotion model runs op by op.
  const rt = await loadTf(o.backend as BackendChoice, { sessions: o.model !== 'human' });
  const model = await openModel(rt, { model: o.model, head: classifierStage?.head, pollMs: cams.some((c) => c.kind === 'live') ? 5000 : 0, logger, metrics, worker: (classifierStage ?? DEFAULT_CLASSIFIER_SETTINGS).worker });
  const { detector, embedder, dispose: disposeDetector } = await openDetector(detectorConfig, rt);
  let modelVersion = model.initial.version;
  const byId = new Map(cams.map((c) => [c.cameraId, c]));

  // Ctrl-C: stop reading, let the pipeline flush (person.left events, timelines), write outputs.
  const stop$ = new Subject<void>();
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    hooks.log?.('stopping: flushing events and writing outputs (Ctrl-C again to quit at once)');
    stop$.next();
  };
  let writeFailed = false;
  const onWriteError = (c: Cam) => (e: Error) => {
    if (writeFailed) return;
    writeFailed = true;
    hooks.log?.(`writing ${path.join(c.outDir, 'events.jsonl')} failed (${e.message}): stopping; timelines.json and report.html are still written`);
    stop$.next();
  };
  for (const c of cams) c.out = await CameraOutput.open(c.outDir, onWriteError(c));
  const decoded = () => cams.reduce((a, c) => a + c.stats.framesDecoded, 0);
  const server = o.metricsPort !== undefined
    ? await startMetricsServer({ port: o.metricsPort, registry: metrics.registry, ready: () => ({ ok: decoded() > 0, reasons: decoded() > 0 ? [] : ['no frame decoded yet'] }) })
    : undefined;
  if (server) hooks.log?.(`metrics on http://127.0.0.1:${server.port}/metrics`);
  // The live API: its state is built from this run's events, as `serve api` builds it from the topic's.
  const live = o.http !== undefined ? new LiveTimelines() : undefined;
  live?.watch(cams.map((c) => c.cameraId));
  const api = live ? await startApiServer(live, { port: o.http!, host: o.httpHost }).catch(async (e: Error) => { await server?.close(); throw e; }) : undefined;
  if (api) hooks.onApi?.(api.url);
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);

  // Progress, all cameras together: several files add up; with a camera among them, the furthest one counts.
  const files = cams.every((c) => c.kind === 'file');
  const progress: AnalyzeProgress = { frames: 0, faces: 0, persons: 0, drops: 0, reconnects: 0, mediaTimeMs: 0 };
  const durations = cams.map((c) => c.durationMs ?? 0).reduce((a, b) => a + b, 0);
  progress.durationMs = files && durations > 0 ? durations : o.duration ? o.duration * 1000 : undefined;
  const update = () => {
    progress.drops = cams.reduce((a, c) => a + c.stats.framesDropped, 0);
    progress.reconnects = cams.reduce((a, c) => a + c.stats.reconnects, 0);
    progress.mediaTimeMs = files ? cams.reduce((a, c) => a + c.mediaTimeMs, 0) : Math.max(...cams.map((c) => c.mediaTimeMs));
    hooks.onProgress?.(progress);
  };

  const pipeline = createCamerasPipeline({
    detector, embedder, detectorConfig, model: model.current, classify, aggregator: aggregatorConfig,
    logger, metrics, backend: rt.provider,
    onPersonCrop: o.thumbnails ? (cam, person, crop, score) => byId.get(cam)?.out?.crop(`${cam}/${person}`, crop, score) : undefined,
    onEmotions: (m) => {
      const c = byId.get(m.frame.cameraId);
      if (c) {
        if (c.kind === 'live') c.clockStartMs ??= m.frame.capturedAtMs - m.frame.mediaTimeMs;
        c.frames++; c.faces += m.faces.length; c.mediaTimeMs = m.frame.mediaTimeMs;
      }
      progress.frames++; progress.faces += m.faces.length; modelVersion = m.modelVersion;
      hooks.onEmotions?.(m);
      update();
    },
  });
  const inputs: CameraInput[] = cams.filter((c) => !c.failed).map((c) => {
    const valve = valveFor(c.url);
    return {
      cameraId: c.cameraId, valve, stats: c.stats, queueMaxFrames: c.config.queueMaxFrames, secrets: c.secrets,
      frames: frameSource(c.config, { logger, metrics, stats: c.stats, valve }).pipe(
        takeUntil(stop$),
        takeWhile((f) => o.duration === undefined || f.mediaTimeMs < o.duration * 1000),
      ),
    };
  });

  const t0 = Date.now();
  let wallMs = 0;
  const writing: Array<Promise<string[]>> = [];
  const result = (c: Cam, persons = 0): CameraResult => ({
    cameraId: c.cameraId, source: c.shown, outDir: c.outDir, frames: c.frames, faces: c.faces, persons,
    events: c.out!.events, drops: c.stats.framesDropped, skipped: c.skipped, reconnects: c.stats.reconnects, decodeErrors: c.stats.decodeErrors,
    mediaMs: c.mediaTimeMs + (c.frames ? 1000 / o.fps : 0), wallMs: Date.now() - t0, ...(c.failed ? { failed: c.failed } : {}),
  });
  // A camera's outputs are written when it ends, from the timelines as they are then.
  const finish = (c: Cam, all: Timelines) => {
    const timelines = cameraTimelines(all, c.cameraId);
    c.ended = result(c, Object.keys(timelines.cameras[c.cameraId].persons).length);
    hooks.onCameraEnd?.(c.ended);
    writing.push(c.out!.finish({
      timelines,
      title: `emostream: ${path.basename(redactText(c.shown, c.secrets))}`,
      run: {
        source: c.shown, frames: c.frames, durationMs: c.ended.wallMs, faces: c.faces, drops: c.stats.framesDropped,
        reconnects: c.stats.reconnects, decodeErrors: c.stats.decodeErrors, modelVersion, backend: rt.provider, detector: detector.name, clockStartMs: c.clockStartMs,
      },
      thumbnails: o.thumbnails,
    }).then((failed) => failed.map((f) => `${f} in ${c.outDir}`)));
  };
  for (const c of cams) if (c.failed) finish(c, pipeline.aggregator.timelines());
  try {
    await lastValueFrom(pipeline.run(inputs).pipe(
      tap((out) => {
        if (out.kind === 'timelines') return;
        if (out.kind === 'ended') {
          const c = byId.get(out.cameraId)!;
          if (out.error) c.failed = out.error;
          c.skipped = out.skipped;
          finish(c, pipeline.aggregator.timelines());
          update();
          return;
        }
        const c = byId.get(out.event.cameraId);
        c?.out?.event(out.event);
        if (out.event.type === 'person.appeared') progress.persons++;
        live?.push(out.event);
        hooks.onEvent?.(out.event);
      }),
      defaultIfEmpty(undefined),
    ));
  } finally {
    wallMs = Date.now() - t0;
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    await Promise.all(cams.map((c) => c.out?.close()));
    await server?.close();
    await api?.close();
    model.close();
    await disposeDetector();
  }
  const failedWrites = (await Promise.all(writing)).flat();
  if (failedWrites.length) throw new Error(`could not write ${failedWrites.join(', ')}: free some space or choose another --out`);
  return { cameras: cams.map((c) => c.ended ?? result(c)), wallMs, backend: rt.provider, modelVersion };
}
