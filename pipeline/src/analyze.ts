/**
 * The `analyze` run: the embedded pipeline on one source, writing events.jsonl, timelines.json
 * and report.html into a folder. The command line (progress, printing) is the CLI's.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Subject, takeUntil, takeWhile, lastValueFrom, tap, defaultIfEmpty } from 'rxjs';
import type { EmotionEvent, Timelines } from '@emostream/contracts';
import { createLogger, createMetrics, loadTf, redactUrl, redactText, startMetricsServer, urlSecrets, type BackendChoice } from '@emostream/runtime';
import { classifyInput, createIngestStats, frameSource, parseSourceConfig, probeSource } from '@emostream/ingest';
import { parseDetectorConfig, type DetectorConfigInput } from '@emostream/detector';
import { MAX_EVENT_ROWS, parseAggregatorConfig, renderReport, type AggregatorConfigInput } from '@emostream/aggregator';
import { createEmbeddedPipeline } from './embedded.js';
import { DEFAULT_CLASSIFY, openDetector, openModel, valveFor } from './wiring.js';
import { LiveTimelines } from './api/live.js';
import { startApiServer } from './api/server.js';

/** What an analyze run is asked to do. */
export interface AnalyzeOptions {
  out: string;
  camera: string;
  fps: number;
  duration?: number;
  detector: string;
  model?: string;
  metricsPort?: number;
  rtspTransport: 'tcp' | 'udp';
  giveUpAfter: number;
  maxWidth: number;
  backend: string;
  /** Log errors only. */
  quiet: boolean;
  /** Put one face thumbnail per person in the report (off by default: faces are biometric data). */
  thumbnails: boolean;
  /** Detector settings beyond `detector` (the detector service's, see its settings table). */
  detectorSettings?: DetectorConfigInput;
  /** Aggregator settings (the aggregator service's). */
  aggregatorSettings?: AggregatorConfigInput;
  /** Read a file at its own frame rate, as a camera would send it (files only). */
  realtime?: boolean;
  /** Serve the live API (see ./api/server.ts) on this port while the run lasts (0: a free one). */
  http?: number;
  /** Address of the live API; 127.0.0.1 by default. */
  httpHost?: string;
}

/** Figures of a run in progress. */
export interface AnalyzeProgress {
  frames: number;
  faces: number;
  persons: number;
  drops: number;
  reconnects: number;
  /** Media time reached, ms. */
  mediaTimeMs: number;
  /** Media duration for files, ms. */
  durationMs?: number;
}

/** Where a run reports as it goes (all optional). */
export interface AnalyzeHooks {
  onEvent?: (e: EmotionEvent) => void;
  onProgress?: (p: Readonly<AnalyzeProgress>) => void;
  /** A line for the user (metrics address, stopping). */
  log?: (line: string) => void;
  /** The live API listens at this URL (`http` asked for). */
  onApi?: (url: string) => void;
}

/** What a finished run produced (also used by the benchmark). */
export interface AnalyzeResult {
  frames: number;
  faces: number;
  persons: number;
  events: number;
  drops: number;
  reconnects: number;
  wallMs: number;
  mediaMs: number;
  backend: string;
  modelVersion: string;
  outDir: string;
}

async function thumbnails(best: Map<string, { crop: Uint8Array }>): Promise<Record<string, string>> {
  const sharp = (await import('sharp')).default;
  const out: Record<string, string> = {};
  for (const [k, { crop }] of best) {
    const png = await sharp(Buffer.from(crop), { raw: { width: 48, height: 48, channels: 1 } }).resize(96, 96).png().toBuffer();
    out[k] = `data:image/png;base64,${png.toString('base64')}`;
  }
  return out;
}

/** Runs the embedded pipeline on one source and writes its outputs. */
export async function analyze(source: string, o: AnalyzeOptions, hooks: AnalyzeHooks = {}): Promise<AnalyzeResult> {
  const secrets = urlSecrets(source);
  const shown = redactUrl(source);
  const logger = createLogger({ secrets, level: o.quiet ? 'error' : 'warn' });
  const kind = classifyInput(source).kind;
  if (o.realtime && kind !== 'file') throw new Error('--realtime applies to files only (a camera is real time already)');
  const srcConfig = parseSourceConfig({ cameraId: o.camera, url: source, fpsLimit: o.fps, realtime: o.realtime ?? false, rtspTransport: o.rtspTransport, giveUpAfterMs: o.giveUpAfter * 1000, maxWidth: o.maxWidth, maxHeight: Math.round((o.maxWidth * 9) / 16) });
  // Fail fast on a bad file or bad settings before loading any model (a clear one-line reason).
  const probe = kind === 'file' ? await probeSource(source) : undefined;
  const detectorConfig = parseDetectorConfig({ ...o.detectorSettings, detector: o.detector });
  // A run's timelines.json lists every person of the run, unless told otherwise.
  const aggregatorConfig = parseAggregatorConfig({ finishedMaxPersons: 0, ...o.aggregatorSettings });
  const metrics = createMetrics({ defaults: true });
  const rt = await loadTf(o.backend as BackendChoice);
  const model = await openModel(rt, { model: o.model, pollMs: kind === 'file' ? 0 : 5000, logger, metrics });
  const { detector, embedder, dispose: disposeDetector } = await openDetector(detectorConfig, rt);
  await fsp.mkdir(o.out, { recursive: true });
  const eventsFile = fs.createWriteStream(path.join(o.out, 'events.jsonl'));
  // A failed write (a full disk) stops the run; the other outputs are still written, then the
  // run fails naming what could not be written.
  let eventsError: Error | undefined;
  const eventsClosed = new Promise<void>((resolve) => eventsFile.once('close', () => resolve()));
  const stats = createIngestStats();
  const state: AnalyzeProgress = { frames: 0, faces: 0, persons: 0, drops: 0, reconnects: 0, mediaTimeMs: 0, durationMs: probe?.durationMs };
  if (o.duration && state.durationMs) state.durationMs = Math.min(state.durationMs, o.duration * 1000);
  else if (o.duration) state.durationMs = o.duration * 1000;
  let events = 0;
  let timelines: Timelines | undefined;
  let modelVersion = model.initial.version;
  let clockStartMs: number | undefined;
  // Opt-in thumbnails: the best-scoring crop per person, kept in memory only for the report.
  const best = new Map<string, { crop: Uint8Array; score: number }>();
  const server = o.metricsPort !== undefined
    ? await startMetricsServer({ port: o.metricsPort, registry: metrics.registry, ready: () => ({ ok: stats.framesDecoded > 0, reasons: stats.framesDecoded > 0 ? [] : ['no frame decoded yet'] }) })
    : undefined;
  if (server) hooks.log?.(`metrics on http://127.0.0.1:${server.port}/metrics`);
  // The live API: its state is built from this run's events, as `serve api` builds it from the topic's.
  const live = o.http !== undefined ? new LiveTimelines() : undefined;
  const api = live ? await startApiServer(live, { port: o.http!, host: o.httpHost }).catch(async (e: Error) => { await server?.close(); throw e; }) : undefined;
  if (api) hooks.onApi?.(api.url);

  // Ctrl-C: stop reading, let the pipeline flush (person.left events, timelines), write outputs.
  const stop$ = new Subject<void>();
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    hooks.log?.('stopping: flushing events and writing outputs (Ctrl-C again to quit at once)');
    stop$.next();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  eventsFile.on('error', (e) => {
    if (eventsError) return;
    eventsError = e;
    hooks.log?.(`writing events.jsonl failed (${e.message}): stopping; timelines.json and report.html are still written`);
    stop$.next();
  });
  const t0 = Date.now();
  const firstEvents: EmotionEvent[] = [];
  const valve = valveFor(source);
  const frames$ = frameSource(srcConfig, { logger, metrics, stats, valve }).pipe(
    takeUntil(stop$),
    takeWhile((f) => o.duration === undefined || f.mediaTimeMs < o.duration * 1000),
  );
  const pipeline = createEmbeddedPipeline({
    cameraId: o.camera, detector, embedder, detectorConfig, model: model.current,
    classify: DEFAULT_CLASSIFY, aggregator: aggregatorConfig, queueMaxFrames: srcConfig.queueMaxFrames,
    logger, metrics, backend: rt.provider, stats, valve,
    onPersonCrop: o.thumbnails ? (cam, person, crop, score) => {
      const k = `${cam}/${person}`;
      if ((best.get(k)?.score ?? -1) < score) best.set(k, { crop: Uint8Array.from(crop), score });
    } : undefined,
    onEmotions: (m) => {
      // A camera's report is labelled in clock time: the wall clock at its media time 0.
      if (kind !== 'file') clockStartMs ??= m.frame.capturedAtMs - m.frame.mediaTimeMs;
      state.frames++; state.faces += m.faces.length; state.mediaTimeMs = m.frame.mediaTimeMs; modelVersion = m.modelVersion;
      state.drops = stats.framesDropped; state.reconnects = stats.reconnects;
      hooks.onProgress?.(state);
    },
  });
  try {
    await lastValueFrom(pipeline.run(frames$).pipe(
      tap((out) => {
        if (out.kind === 'timelines') { timelines = out.timelines; return; }
        events++;
        // The report's events table shows the first rows only: keep no more than those in memory.
        if (firstEvents.length < MAX_EVENT_ROWS) firstEvents.push(out.event);
        if (out.event.type === 'person.appeared') state.persons++;
        if (!eventsError) eventsFile.write(JSON.stringify(out.event) + '\n');
        live?.push(out.event);
        hooks.onEvent?.(out.event);
      }),
      defaultIfEmpty(undefined),
    ));
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    if (!eventsError) eventsFile.end();
    await eventsClosed;
    await server?.close();
    await api?.close();
    model.close();
    await disposeDetector();
  }
  const wallMs = Date.now() - t0;
  timelines ??= pipeline.aggregator.timelines();
  const failed: string[] = eventsError ? [`events.jsonl (${eventsError.message})`] : [];
  const write = (name: string, data: string) => fsp.writeFile(path.join(o.out, name), data).catch((e: Error) => { failed.push(`${name} (${e.message})`); });
  await write('timelines.json', JSON.stringify(timelines, null, 2) + '\n');
  const persons = Object.values(timelines.cameras).reduce((a, c) => a + Object.keys(c.persons).length, 0);
  const html = renderReport({
    title: `emostream: ${path.basename(redactText(shown, secrets))}`,
    run: {
      source: shown, frames: state.frames, durationMs: wallMs, faces: state.faces, persons, drops: stats.framesDropped,
      reconnects: stats.reconnects, modelVersion, backend: rt.provider, detector: detector.name, clockStartMs,
    },
    timelines,
    events: firstEvents, eventsTotal: events,
    thumbnails: o.thumbnails ? await thumbnails(best) : undefined,
  });
  await write('report.html', html);
  if (failed.length) throw new Error(`could not write ${failed.join(', ')} in ${o.out}: free some space or choose another --out`);
  return {
    frames: state.frames, faces: state.faces, persons, events, drops: stats.framesDropped, reconnects: stats.reconnects,
    wallMs, mediaMs: state.mediaTimeMs + (state.frames ? 1000 / o.fps : 0), backend: rt.provider, modelVersion, outDir: o.out,
  };
}
