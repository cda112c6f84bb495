/**
 * `emostream analyze <file|rtsp-url>` or `analyze --source <id>=<url>… --cameras <file>`: parses
 * the options, runs @emostream/pipeline's analyze (one source) or analyzeCameras (several),
 * prints events (or JSON lines) and the progress line, and the summary.
 */
import path from 'node:path';
import type { Command } from 'commander';
import type { EmotionEvent } from '@emostream/contracts';
import { DETECTORS } from '@emostream/detector';
import { analyze, analyzeCameras, OUTPUT_FILES, type AnalyzeHooks, type AnalyzeOptions, type AnalyzeProgress, type CamerasResult } from '@emostream/pipeline';
import { ProgressReporter } from './progress.js';
import { intOption, numberOption, rotateOption } from './options.js';
import { stageSettings } from './stageSettings.js';
import { analyzeTarget } from './analyzeSources.js';

/** Options of the command after parsing. */
interface AnalyzeCommandOptions extends Omit<AnalyzeOptions, 'source'> {
  json: boolean;
  progress: boolean;
  /** `--config FILE`: detector and aggregator settings as JSON. */
  config?: string;
  /** `--set section.key=value`, in order. */
  set: string[];
  /** `--source <id>=<url>`, in order. */
  source: string[];
  /** `--cameras <file|->`. */
  cameras?: string;
}

/** Exit code of a run on several cameras where some failed and the others' outputs were written. */
export const EXIT_SOME_CAMERAS_FAILED = 3;

function formatEvent(e: EmotionEvent): string {
  const t = (e.mediaTimeMs / 1000).toFixed(1).padStart(7);
  return `${t}s  ${e.cameraId} ${e.personId.padEnd(4)} ${e.type.padEnd(16)} ${e.emotion} (${e.confidence.toFixed(2)})`;
}

/** The figures of a run (or of one camera), as the summary line words them. */
export function figures(r: {
  frames: number; mediaMs: number; wallMs: number; faces: number; persons: number; events: number; drops: number; reconnects: number; decodeErrors?: number;
}): string {
  const fps = r.frames / (r.wallMs / 1000);
  return `${r.frames} frames (${(r.mediaMs / 1000).toFixed(1)} s of media) in ${(r.wallMs / 1000).toFixed(1)} s: ` +
    `${fps.toFixed(1)} fps, ${(r.mediaMs / r.wallMs).toFixed(2)}x real time; ${r.faces} faces, ${r.persons} persons, ${r.events} events` +
    `${r.drops ? `, ${r.drops} frames dropped` : ''}${r.reconnects ? `, ${r.reconnects} reconnects` : ''}` +
    (r.decodeErrors ? `, ${decodeErrorsText(r.decodeErrors)}` : '');
}

/** Decode errors as the summary words them (ffmpeg's own lines went to the log as it met them). */
export function decodeErrorsText(n: number): string {
  return `${n} decode error${n === 1 ? '' : 's'} (the file is damaged; ffmpeg skipped or patched the pictures it could not decode)`;
}

/** The summary of a run on several cameras: a line per camera, then what failed (stderr). */
export function camerasSummary(r: CamerasResult): string {
  const lines = [`analysed ${r.cameras.length} cameras in ${(r.wallMs / 1000).toFixed(1)} s [${r.backend}, model ${r.modelVersion}]:`];
  for (const c of r.cameras) {
    lines.push(`  ${c.cameraId}: ${c.failed ? `FAILED after ${c.frames} frames: ${c.failed}` : figures(c)}`);
  }
  lines.push(`wrote ${OUTPUT_FILES.join(', ')} into each of ${r.cameras.map((c) => c.outDir + path.sep).join(', ')}`);
  if (r.failed.length) lines.push(`${r.failed.length} of ${r.cameras.length} cameras failed: ${r.failed.join(', ')}`);
  return lines.join('\n') + '\n';
}

/** Registers `analyze` on the program. */
export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description('find faces in a video file or RTSP camera (or several at once), classify their emotions, and write per-person timelines')
    .argument('[source]', 'a video file or an rtsp:// / rtsps:// URL (credentials allowed; never printed), or - to read it from stdin (keeps a password out of the process list)')
    .option('--source <id=url>', 'one of several cameras: its id (1-64 of A-Z a-z 0-9 . _ -) and its file or rtsp:// URL; repeatable; each camera\'s outputs go to <out>/<id>/', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--cameras <file>', 'several cameras from a file of <id>=<url> lines (# comments), or - to read those lines from stdin (keeps passwords out of the process list)')
    .option('--out <dir>', 'output folder for events.jsonl, timelines.json and report.html (several cameras: a folder per camera in it)', 'emostream-out')
    .option('--json', 'print events to stdout as JSON lines (progress stays on stderr)', false)
    .option('--camera <id>', 'camera id put on every event (one source; 1-64 of A-Z a-z 0-9 . _ -)', 'cam0')
    .option('--fps <n>', 'frames per second analysed at most, per camera (0.1-60)', numberOption('--fps', 0.1, 60), 10)
    .option('--duration <s>', 'stop after this many seconds of media (a live stream stops cleanly)', numberOption('--duration', 0.1, 7 * 24 * 3600))
    .option('--detector <name>', 'blazeface (default) or haar (the paper\'s cascade)', 'blazeface')
    .option('--model <dir>', 'model directory (default: the shipped model), or `human` for Human\'s emotion model')
    .option('--metrics-port <port>', 'serve Prometheus /metrics, /healthz and /readyz on this port', intOption('--metrics-port', 0, 65535))
    .option('--rtsp-transport <t>', 'tcp (default) or udp', 'tcp')
    .option('--give-up-after <s>', 'a camera that sends no frame for this long is given up (0 = never)', numberOption('--give-up-after', 0, 7 * 24 * 3600), 60)
    .option('--max-width <px>', 'frames wider than this are scaled down first', intOption('--max-width', 64, 7680), 1280)
    .option('--rotate <deg>', 'turn every frame clockwise by 0, 90, 180 or 270 degrees: a camera mounted sideways or upside down (every camera of the run; one camera\'s own: #rotate=<deg> at the end of its URL)', rotateOption, 0)
    .option('--backend <name>', 'auto, tensorflow-gpu, tensorflow, wasm or cpu', 'auto')
    .option('--realtime', 'read files at their own frame rate, as a camera would send them (files only)', false)
    .option('--http <port>', 'serve the live API and page on this port while the run lasts (0: a free one; the address goes to stderr)', intOption('--http', 0, 65535))
    .option('--http-host <host>', 'address of the live API (default 127.0.0.1: this machine only)')
    .option('--thumbnails', 'put one face thumbnail per person in report.html (off by default: faces are biometric data)', false)
    .option('--config <file>', 'detector, classifier and aggregator settings, JSON { "detector": {...}, "classifier": {...}, "aggregator": {...} } (the fields of DETECTOR_*, CLASSIFIER_* batching and reuse, AGGREGATOR_*)')
    .option('--set <section.key=value>', 'one detector, classifier or aggregator setting, e.g. detector.minScore=0.4, classifier.reuseMaxMs=0 or aggregator.smoothingMs=300 (repeatable; over --config)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--no-progress', 'no progress line on stderr')
    .option('--quiet', 'print only errors and the final summary', false)
    .action(async (positional: string | undefined, opts: AnalyzeCommandOptions, cmd: Command) => {
      const target = await analyzeTarget({
        source: positional, sources: opts.source, cameras: opts.cameras, camera: opts.camera, cameraGiven: cmd.getOptionValueSource('camera') === 'cli',
      });
      if (opts.httpHost !== undefined && opts.http === undefined) throw new Error('--http-host needs --http <port>');
      if (!['tcp', 'udp'].includes(opts.rtspTransport)) throw new Error(`--rtsp-transport must be tcp or udp, got '${opts.rtspTransport}'`);
      const { detectorSettings, classifierSettings, aggregatorSettings } = stageSettings(opts);
      // detector.detector from --config/--set counts unless --detector is given too (then they must agree).
      if (detectorSettings.detector !== undefined) {
        if (cmd.getOptionValueSource('detector') === 'cli' && opts.detector !== detectorSettings.detector) {
          throw new Error(`--detector ${opts.detector} and detector.detector=${detectorSettings.detector} (--config/--set) disagree: give one`);
        }
        opts.detector = detectorSettings.detector;
      }
      if (!(DETECTORS as readonly string[]).includes(opts.detector)) throw new Error(`--detector must be one of ${DETECTORS.join(', ')}, got '${opts.detector}'`);
      const { source: _sources, cameras: _cameras, ...rest } = opts;
      const runOpts = { ...rest, detectorSettings, classifierSettings, aggregatorSettings };
      const progress = new ProgressReporter(process.stderr, opts.progress);
      let last: AnalyzeProgress = { frames: 0, faces: 0, persons: 0, drops: 0, reconnects: 0, mediaTimeMs: 0 };
      const hooks: AnalyzeHooks = {
        log: (line) => { if (!opts.quiet) progress.log(line); },
        // Always shown: with --http 0 it is the only way to learn the port.
        onApi: (url) => progress.log(`live API on ${url}`),
        onProgress: (p) => { last = p; progress.update(p); },
        onEvent: (e) => {
          if (opts.json) process.stdout.write(JSON.stringify(e) + '\n');
          else if (!opts.quiet) progress.log(formatEvent(e));
        },
      };
      if (target.kind === 'cameras') {
        // A camera's end is news while the others go on; a failure always is.
        hooks.onCameraEnd = (c) => {
          if (c.failed) progress.log(`camera ${c.cameraId} failed: ${c.failed}`);
          else if (!opts.quiet) progress.log(`camera ${c.cameraId} ended: ${c.frames} frames, ${c.persons} persons, ${c.events} events${c.decodeErrors ? `, ${decodeErrorsText(c.decodeErrors)}` : ''}`);
        };
        let r: CamerasResult;
        try {
          r = await analyzeCameras(target.sources, runOpts, hooks);
        } finally {
          progress.done(last);
        }
        process.stderr.write(camerasSummary(r));
        if (r.failed.length === r.cameras.length) throw new Error(`every camera failed: ${r.cameras.map((c) => c.failed).join('; ')}`);
        if (r.failed.length) {
          process.stderr.write(`emostream: ${r.failed.length} of ${r.cameras.length} cameras failed (${r.failed.join(', ')}); the others' outputs are written\n`);
          process.exit(EXIT_SOME_CAMERAS_FAILED);
        }
        return;
      }
      let r;
      try {
        r = await analyze(target.source, { ...runOpts, camera: target.camera }, hooks);
      } finally {
        progress.done(last);
      }
      process.stderr.write(
        `analysed ${figures(r)} [${r.backend}, model ${r.modelVersion}]\n` +
        `wrote ${OUTPUT_FILES.map((f) => path.join(r.outDir, f)).join(', ')}\n`);
    });
}
