/**
 * `emostream analyze <file|rtsp-url>`: parses the options, runs @emostream/pipeline's analyze,
 * prints events (or JSON lines) and the progress line, and the summary.
 */
import path from 'node:path';
import type { Command } from 'commander';
import type { EmotionEvent } from '@emostream/contracts';
import { DETECTORS } from '@emostream/detector';
import { analyze, type AnalyzeOptions, type AnalyzeProgress } from '@emostream/pipeline';
import { ProgressReporter } from './progress.js';
import { intOption, numberOption } from './options.js';
import { stageSettings } from './stageSettings.js';

/** Options of the command after parsing. */
interface AnalyzeCommandOptions extends AnalyzeOptions {
  json: boolean;
  progress: boolean;
  /** `--config FILE`: detector and aggregator settings as JSON. */
  config?: string;
  /** `--set section.key=value`, in order. */
  set: string[];
}

function formatEvent(e: EmotionEvent): string {
  const t = (e.mediaTimeMs / 1000).toFixed(1).padStart(7);
  return `${t}s  ${e.cameraId} ${e.personId.padEnd(4)} ${e.type.padEnd(16)} ${e.emotion} (${e.confidence.toFixed(2)})`;
}

/** `analyze -`: the source is the first line of stdin (a URL with a password then appears in no command line). */
async function sourceFromStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  const first = text.split(/\r?\n/).find((l) => l.trim() !== '')?.trim();
  if (!first) throw new Error('analyze -: no source on stdin (give a file path or an rtsp:// URL on its first line)');
  return first;
}

/** Registers `analyze` on the program. */
export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description('find faces in a video file or RTSP camera, classify their emotions, and write per-person timelines')
    .argument('<source>', 'a video file or an rtsp:// / rtsps:// URL (credentials allowed; never printed), or - to read it from stdin (keeps a password out of the process list)')
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
    .option('--realtime', 'read a file at its own frame rate, as a camera would send it (files only)', false)
    .option('--http <port>', 'serve the live API and page on this port while the run lasts (0: a free one; the address goes to stderr)', intOption('--http', 0, 65535))
    .option('--http-host <host>', 'address of the live API (default 127.0.0.1: this machine only)')
    .option('--thumbnails', 'put one face thumbnail per person in report.html (off by default: faces are biometric data)', false)
    .option('--config <file>', 'detector and aggregator settings, JSON { "detector": {...}, "aggregator": {...} } (the fields of DETECTOR_* and AGGREGATOR_*)')
    .option('--set <section.key=value>', 'one detector or aggregator setting, e.g. detector.minScore=0.4 or aggregator.smoothingMs=300 (repeatable; over --config)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--no-progress', 'no progress line on stderr')
    .option('--quiet', 'print only errors and the final summary', false)
    .action(async (source: string, opts: AnalyzeCommandOptions, cmd: Command) => {
      if (source === '-') source = await sourceFromStdin();
      if (opts.httpHost !== undefined && opts.http === undefined) throw new Error('--http-host needs --http <port>');
      if (!['tcp', 'udp'].includes(opts.rtspTransport)) throw new Error(`--rtsp-transport must be tcp or udp, got '${opts.rtspTransport}'`);
      const { detectorSettings, aggregatorSettings } = stageSettings(opts);
      // detector.detector from --config/--set counts unless --detector is given too (then they must agree).
      if (detectorSettings.detector !== undefined) {
        if (cmd.getOptionValueSource('detector') === 'cli' && opts.detector !== detectorSettings.detector) {
          throw new Error(`--detector ${opts.detector} and detector.detector=${detectorSettings.detector} (--config/--set) disagree: give one`);
        }
        opts.detector = detectorSettings.detector;
      }
      if (!(DETECTORS as readonly string[]).includes(opts.detector)) throw new Error(`--detector must be one of ${DETECTORS.join(', ')}, got '${opts.detector}'`);
      Object.assign(opts, { detectorSettings, aggregatorSettings });
      const progress = new ProgressReporter(process.stderr, opts.progress);
      let last: AnalyzeProgress = { frames: 0, faces: 0, persons: 0, drops: 0, reconnects: 0, mediaTimeMs: 0 };
      let r;
      try {
        r = await analyze(source, opts, {
          log: (line) => { if (!opts.quiet) progress.log(line); },
          // Always shown: with --http 0 it is the only way to learn the port.
          onApi: (url) => progress.log(`live API on ${url}`),
          onProgress: (p) => { last = p; progress.update(p); },
          onEvent: (e) => {
            if (opts.json) process.stdout.write(JSON.stringify(e) + '\n');
            else if (!opts.quiet) progress.log(formatEvent(e));
          },
        });
      } finally {
        progress.done(last);
      }
      const fps = r.frames / (r.wallMs / 1000);
      process.stderr.write(
        `analysed ${r.frames} frames (${(r.mediaMs / 1000).toFixed(1)} s of media) in ${(r.wallMs / 1000).toFixed(1)} s: ` +
        `${fps.toFixed(1)} fps, ${(r.mediaMs / r.wallMs).toFixed(2)}x real time; ${r.faces} faces, ${r.persons} persons, ${r.events} events` +
        `${r.drops ? `, ${r.drops} frames dropped` : ''}${r.reconnects ? `, ${r.reconnects} reconnects` : ''} [${r.backend}, model ${r.modelVersion}]\n` +
        `wrote ${path.join(r.outDir, 'events.jsonl')}, ${path.join(r.outDir, 'timelines.json')}, ${path.join(r.outDir, 'report.html')}\n`);
    });
}
