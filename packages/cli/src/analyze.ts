/**
 * `emostream analyze <file|rtsp-url>`: the embedded pipeline on one source, writing
 * events.jsonl, timelines.json and report.html; events on stdout with --json.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { Subject, takeUntil, takeWhile, lastValueFrom, tap, defaultIfEmpty } from 'rxjs';
import type { EmotionEvent, Timelines } from '@emostream/contracts';
import { SCHEMA_VERSION } from '@emostream/contracts';
import { createLogger, createMetrics, loadTf, redactUrl, redactText, startMetricsServer, urlSecrets, type BackendChoice } from '@emostream/runtime';
import { classifyInput, createIngestStats, createValve, frameSource, parseSourceConfig, probeSource } from '@emostream/ingest';
import { createDetector, parseDetectorConfig } from '@emostream/detector';
import { loadEmotionModel, watchModel } from '@emostream/classifier';
import { parseAggregatorConfig, renderReport, type Aggregator } from '@emostream/aggregator';
import { embeddedPipeline } from './pipeline.js';
import { ProgressReporter, type ProgressState } from './progress.js';
import { intOption, numberOption } from './options.js';

/** Options of `analyze` after parsing. */
export interface AnalyzeOptions {
  out: string;
  json: boolean;
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
  progress: boolean;
  quiet: boolean;
  /** Put one face thumbnail per person in the report (off by default: faces are biometric data). */
  thumbnails: boolean;
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

function formatEvent(e: EmotionEvent): string {
  const t = (e.mediaTimeMs / 1000).toFixed(1).padStart(7);
  return `${t}s  ${e.cameraId} ${e.personId.padEnd(4)} ${e.type.padEnd(16)} ${e.emotion} (${e.confidence.toFixed(2)})`;
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

/** Runs the embedded pipeline on one source. */
export async function analyze(source: string, o: AnalyzeOptions): Promise<AnalyzeResult> {
  const secrets = urlSecrets(source);
  const shown = redactUrl(source);
  const logger = createLogger({ secrets, level: o.quiet ? 'error' : 'warn' });
  const srcConfig = parseSourceConfig({ cameraId: o.camera, url: source, fpsLimit: o.fps, rtspTransport: o.rtspTransport, giveUpAfterMs: o.giveUpAfter * 1000, maxWidth: o.maxWidth, maxHeight: Math.round((o.maxWidth * 9) / 16) });
  const kind = classifyInput(source).kind;
  // Fail fast on a bad file before loading any model (a clear one-line reason).
  const probe = kind === 'file' ? await probeSource(source) : undefined;
  const detectorConfig = parseDetectorConfig({ detector: o.detector });
  const metrics = createMetrics({ defaults: true });
  const rt = await loadTf(o.backend as BackendChoice);
  const initial = await loadEmotionModel(rt.tf, { model: o.model });
  const modelHandle = o.model === 'human' ? { current: () => initial, close() {} } : watchModel({ tf: rt.tf, dir: initial.dir!, initial, logger, metrics, backend: rt, pollMs: kind === 'file' ? 0 : 5000 });
  const detector = await createDetector(detectorConfig, { tf: rt });
  await fsp.mkdir(o.out, { recursive: true });
  const eventsFile = fs.createWriteStream(path.join(o.out, 'events.jsonl'));
  const stats = createIngestStats();
  const progress = new ProgressReporter(process.stderr, o.progress);
  const state: ProgressState = { frames: 0, faces: 0, persons: 0, drops: 0, reconnects: 0, mediaTimeMs: 0, durationMs: probe?.durationMs };
  if (o.duration && state.durationMs) state.durationMs = Math.min(state.durationMs, o.duration * 1000);
  else if (o.duration) state.durationMs = o.duration * 1000;
  let aggregator: Aggregator | undefined;
  let events = 0;
  let timelines: Timelines | undefined;
  let modelVersion = initial.version;
  // Opt-in thumbnails: the best-scoring crop per person, kept in memory only for the report.
  const best = new Map<string, { crop: Uint8Array; score: number }>();
  const server = o.metricsPort !== undefined
    ? await startMetricsServer({ port: o.metricsPort, registry: metrics.registry, ready: () => ({ ok: stats.framesDecoded > 0, reasons: stats.framesDecoded > 0 ? [] : ['no frame decoded yet'] }) })
    : undefined;
  if (server && !o.quiet) progress.log(`metrics on http://127.0.0.1:${server.port}/metrics`);

  // Ctrl-C: stop reading, let the pipeline flush (person.left events, timelines), write outputs.
  const stop$ = new Subject<void>();
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    progress.log('stopping: flushing events and writing outputs (Ctrl-C again to quit at once)');
    stop$.next();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const t0 = Date.now();
  const valve = kind === 'file' ? createValve() : undefined;
  const frames$ = frameSource(srcConfig, { logger, metrics, stats, valve }).pipe(
    takeUntil(stop$),
    takeWhile((f) => o.duration === undefined || f.mediaTimeMs < o.duration * 1000),
  );
  try {
    await lastValueFrom(embeddedPipeline(frames$, {
      cameraId: o.camera, detector, detectorConfig, model: modelHandle.current,
      classify: { maxWaitMs: 20, maxBatchFrames: 16 }, aggregator: parseAggregatorConfig({}), queueMaxFrames: srcConfig.queueMaxFrames,
      logger, metrics, backend: rt.provider, stats, valve,
      onAggregator: (a) => { aggregator = a; },
      onPersonCrop: o.thumbnails ? (cam, person, crop, score) => {
        const k = `${cam}/${person}`;
        if ((best.get(k)?.score ?? -1) < score) best.set(k, { crop: Uint8Array.from(crop), score });
      } : undefined,
      onEmotions: (m) => {
        state.frames++; state.faces += m.faces.length; state.mediaTimeMs = m.frame.mediaTimeMs; modelVersion = m.modelVersion;
        state.drops = stats.framesDropped; state.reconnects = stats.reconnects;
        progress.update(state);
      },
    }).pipe(
      tap((out) => {
        if (out.kind === 'timelines') { timelines = out.timelines; return; }
        events++;
        if (out.event.type === 'person.appeared') state.persons++;
        const line = JSON.stringify(out.event);
        eventsFile.write(line + '\n');
        if (o.json) process.stdout.write(line + '\n');
        else if (!o.quiet) progress.log(formatEvent(out.event));
      }),
      defaultIfEmpty(undefined),
    ));
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    progress.done(state);
    await new Promise<void>((r) => eventsFile.end(r));
    await server?.close();
    modelHandle.close();
    await detector.dispose();
  }
  const wallMs = Date.now() - t0;
  timelines ??= aggregator?.timelines() ?? { schemaVersion: SCHEMA_VERSION, modelVersion, cameras: {} };
  await fsp.writeFile(path.join(o.out, 'timelines.json'), JSON.stringify(timelines, null, 2) + '\n');
  const persons = Object.values(timelines.cameras).reduce((a, c) => a + Object.keys(c.persons).length, 0);
  const html = renderReport({
    title: `emostream: ${path.basename(redactText(shown, secrets))}`,
    run: {
      source: shown, frames: state.frames, durationMs: wallMs, faces: state.faces, persons, drops: stats.framesDropped,
      reconnects: stats.reconnects, modelVersion, backend: rt.provider, detector: detector.name,
    },
    timelines,
    thumbnails: o.thumbnails ? await thumbnails(best) : undefined,
  });
  await fsp.writeFile(path.join(o.out, 'report.html'), html);
  return {
    frames: state.frames, faces: state.faces, persons, events, drops: stats.framesDropped, reconnects: stats.reconnects,
    wallMs, mediaMs: state.mediaTimeMs + (state.frames ? 1000 / o.fps : 0), backend: rt.provider, modelVersion, outDir: o.out,
  };
}

/** Registers `analyze` on the program. */
export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description('find faces in a video file or RTSP camera, classify their emotions, and write per-person timelines')
    .argument('<source>', 'a video file or an rtsp:// / rtsps:// URL (credentials allowed; never printed)')
    .option('--out <dir>', 'output folder for events.jsonl, timelines.json and report.html', 'emostream-out')
    .option('--json', 'print events to stdout as JSON lines (progress stays on stderr)', false)
    .option('--camera <id>', 'camera id put on every event', 'cam0')
    .option('--fps <n>', 'frames per second analysed at most (0.1-60)', numberOption('--fps', 0.1, 60), 10)
    .option('--duration <s>', 'stop after this many seconds of media (a live stream stops cleanly)', numberOption('--duration', 0.1, 7 * 24 * 3600))
    .option('--detector <name>', 'blazeface (default) or haar (the paper\'s cascade)', 'blazeface')
    .option('--model <dir>', 'model directory (default: the shipped model), or `human` for Human\'s emotion model')
    .option('--metrics-port <port>', 'serve Prometheus /metrics, /healthz and /readyz on this port', intOption('--metrics-port', 0, 65535))
    .option('--rtsp-transport <t>', 'tcp (default) or udp', 'tcp')
    .option('--give-up-after <s>', 'a camera that sends no frame for this long is given up (0 = never)', numberOption('--give-up-after', 0, 7 * 24 * 3600), 60)
    .option('--max-width <px>', 'frames wider than this are scaled down first', intOption('--max-width', 64, 7680), 1280)
    .option('--backend <name>', 'auto, tensorflow-gpu, tensorflow, wasm or cpu', 'auto')
    .option('--thumbnails', 'put one face thumbnail per person in report.html (off by default: faces are biometric data)', false)
    .option('--no-progress', 'no progress line on stderr')
    .option('--quiet', 'print only errors and the final summary', false)
    .action(async (source: string, opts) => {
      if (!['tcp', 'udp'].includes(opts.rtspTransport)) throw new Error(`--rtsp-transport must be tcp or udp, got '${opts.rtspTransport}'`);
      if (!['blazeface', 'haar'].includes(opts.detector)) throw new Error(`--detector must be blazeface or haar, got '${opts.detector}'`);
      const r = await analyze(source, opts as AnalyzeOptions);
      const fps = r.frames / (r.wallMs / 1000);
      process.stderr.write(
        `analysed ${r.frames} frames (${(r.mediaMs / 1000).toFixed(1)} s of media) in ${(r.wallMs / 1000).toFixed(1)} s: ` +
        `${fps.toFixed(1)} fps, ${(r.mediaMs / r.wallMs).toFixed(2)}x real time; ${r.faces} faces, ${r.persons} persons, ${r.events} events` +
        `${r.drops ? `, ${r.drops} frames dropped` : ''}${r.reconnects ? `, ${r.reconnects} reconnects` : ''} [${r.backend}, model ${r.modelVersion}]\n` +
        `wrote ${path.join(r.outDir, 'events.jsonl')}, ${path.join(r.outDir, 'timelines.json')}, ${path.join(r.outDir, 'report.html')}\n`);
    });
}
