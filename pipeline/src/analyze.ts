/**
 * The `analyze` run: the embedded pipeline on one source, writing events.jsonl, timelines.json
 * and report.html into a folder ({@link analyze}), or on several cameras at once, sharing one
 * detector and one classifier, each camera's outputs in a folder of its own
 * ({@link analyzeCameras}). The command line (progress, printing) is the CLI's.
 */
import path from 'node:path';
import type { EmotionEvent, EmotionsMessage } from '@emostream/contracts';
import type { DetectorConfigInput } from '@emostream/detector';
import type { AggregatorConfigInput } from '@emostream/aggregator';
import type { ClassifyStageInput } from '@emostream/classifier';
import { runCameras } from './analyzeRun.js';

/** What an analyze run is asked to do. */
export interface AnalyzeOptions {
  /** The output folder: the files themselves (one source), or one folder per camera in it (several). */
  out: string;
  /** The camera id of the one source ({@link analyze}); several cameras carry their own. */
  camera: string;
  fps: number;
  duration?: number;
  detector: string;
  model?: string;
  metricsPort?: number;
  rtspTransport: 'tcp' | 'udp';
  giveUpAfter: number;
  maxWidth: number;
  /** Degrees every frame is turned clockwise (0, 90, 180 or 270): a camera mounted sideways or upside down. A camera whose URL ends in `#rotate=<deg>` has its own. */
  rotate?: number;
  backend: string;
  /** Log errors only. */
  quiet: boolean;
  /** Put one face thumbnail per person in the report (off by default: faces are biometric data). */
  thumbnails: boolean;
  /** Detector settings beyond `detector` (the detector service's, see its settings table). */
  detectorSettings?: DetectorConfigInput;
  /** Aggregator settings (the aggregator service's). */
  aggregatorSettings?: AggregatorConfigInput;
  /** The classifier stage's batching and reuse settings (the classifier service's; defaults: DEFAULT_CLASSIFY). */
  classifierSettings?: ClassifyStageInput;
  /** Read files at their own frame rate, as a camera would send them (files only). */
  realtime?: boolean;
  /** Serve the live API (see ./api/server.ts) on this port while the run lasts (0: a free one). */
  http?: number;
  /** Address of the live API; 127.0.0.1 by default. */
  httpHost?: string;
}

/** The options of a run on several cameras: {@link AnalyzeOptions} but the one camera's id. */
export type CamerasOptions = Omit<AnalyzeOptions, 'camera'>;

/** Figures of a run in progress (all cameras together). */
export interface AnalyzeProgress {
  frames: number;
  faces: number;
  persons: number;
  drops: number;
  reconnects: number;
  /** Media time reached, ms (several files: their sum; a camera among them: the furthest). */
  mediaTimeMs: number;
  /** Media duration for files, ms (several files: their sum). */
  durationMs?: number;
}

/** What one camera of a run did. */
export interface CameraResult {
  cameraId: string;
  /** The source as it may be shown (credentials redacted). */
  source: string;
  /** Its folder of events.jsonl, timelines.json and report.html. */
  outDir: string;
  frames: number;
  faces: number;
  persons: number;
  events: number;
  /** Frames dropped: a live camera's frames skipped for newer ones while the detector was behind, and any frame that could not be queued. */
  drops: number;
  /** Of those, a live camera's frames skipped for a newer one while the detector was behind. */
  skipped: number;
  reconnects: number;
  /** Errors ffmpeg reported decoding a file (damaged data: the pictures it could not decode were skipped or patched); 0 for a clean one. */
  decodeErrors: number;
  /** Media time covered, ms. */
  mediaMs: number;
  /** From the start of the run to this camera's end, ms. */
  wallMs: number;
  /** Why the camera stopped, when it failed (redacted); its outputs hold what came before. */
  failed?: string;
}

/** Where a run reports as it goes (all optional). */
export interface AnalyzeHooks {
  onEvent?: (e: EmotionEvent) => void;
  onProgress?: (p: Readonly<AnalyzeProgress>) => void;
  /** Each frame's classified faces (benchmarks: frame → result latency). */
  onEmotions?: (m: EmotionsMessage) => void;
  /** A camera ended (its outputs are being written), or failed. */
  onCameraEnd?: (r: Readonly<CameraResult>) => void;
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
  /** Errors ffmpeg reported decoding the file (see {@link CameraResult.decodeErrors}). */
  decodeErrors: number;
  wallMs: number;
  mediaMs: number;
  backend: string;
  modelVersion: string;
  outDir: string;
}

/** What a run on several cameras produced: each camera's figures, in the order given. */
export interface CamerasResult {
  cameras: CameraResult[];
  /** The cameras that failed (their ids), in the order given. */
  failed: string[];
  wallMs: number;
  backend: string;
  modelVersion: string;
  outDir: string;
}

/**
 * Runs the embedded pipeline on one source and writes its outputs into `o.out`. A source that
 * fails (a file that does not decode, a camera given up) fails the run, after its outputs are written.
 */
export async function analyze(source: string, o: AnalyzeOptions, hooks: AnalyzeHooks = {}): Promise<AnalyzeResult> {
  const r = await runCameras([{ cameraId: o.camera, url: source, outDir: o.out }], o, hooks, { single: true });
  const c = r.cameras[0];
  if (c.failed) throw new Error(c.failed);
  return {
    frames: c.frames, faces: c.faces, persons: c.persons, events: c.events, drops: c.drops, reconnects: c.reconnects, decodeErrors: c.decodeErrors,
    wallMs: r.wallMs, mediaMs: c.mediaMs, backend: r.backend, modelVersion: r.modelVersion, outDir: o.out,
  };
}

/**
 * Runs the embedded pipeline on several cameras at once (one detector and one classifier shared
 * fairly, see ./cameras.ts) and writes each camera's outputs into `<out>/<cameraId>/`. A camera
 * that fails (a file that does not decode, a camera given up) ends with the reason in its
 * result; the others go on. Throws only when the run itself cannot go on (bad options, every
 * camera failed before the models were loaded, outputs that cannot be written).
 */
export async function analyzeCameras(sources: ReadonlyArray<{ cameraId: string; url: string; settings?: { rotate?: number } }>, o: CamerasOptions, hooks: AnalyzeHooks = {}): Promise<CamerasResult> {
  if (sources.length === 0) throw new Error('analyze: no camera given: give --source <id>=<url> or --cameras <file>');
  const r = await runCameras(sources.map((s) => ({ cameraId: s.cameraId, url: s.url, rotate: s.settings?.rotate, outDir: path.join(o.out, s.cameraId) })), o, hooks, { single: false });
  return { ...r, failed: r.cameras.filter((c) => c.failed).map((c) => c.cameraId), outDir: o.out };
}
