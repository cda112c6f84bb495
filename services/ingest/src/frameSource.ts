/**
 * frameSource: one camera or file as an Observable of decoded frames. Files end at EOF; live
 * sources are restarted with backoff whenever ffmpeg ends or stalls, until they give up.
 */
import {
  Observable, asyncScheduler, catchError, concatMap, defer, from, map, mergeMap, of, retry, throwError, timer, EMPTY,
  type SchedulerLike,
} from 'rxjs';
import { randomUUID } from 'node:crypto';
import { SCHEMA_VERSION, type Frame } from '@emostream/contracts';
import { backoffDelayMs, redactText, redactUrl, urlSecrets, type Logger, type PipelineMetrics } from '@emostream/runtime';
import { parseSourceConfig, type SourceConfig, type SourceConfigInput } from './config.js';
import { buildFfmpegArgs, classifyInput, outputFps, outputSize, rotationSwapsSides, type FfmpegArgs } from './ffmpegArgs.js';
import { probeSource, SourceProbeError, type ProbeFn, type ProbeResult } from './probe.js';
import { exitText, fileEnd } from './fileEnd.js';
import { runFfmpeg, StallError, type RunEvent, type SpawnFfmpeg } from './supervisor.js';
import type { Valve } from './valve.js';

/** Counters of one source, updated in place while it runs (read them for status pages and tests). */
export interface IngestStats {
  /** ffmpeg restarts of a live source (after an exit, a stall or a failed start). */
  reconnects: number;
  /** Runs killed because no frame came within stallTimeoutMs. */
  stalls: number;
  framesDecoded: number;
  /** Frames dropped by the bounded queue (see {@link dropCounter}). */
  framesDropped: number;
  /** ffmpeg processes started. */
  runs: number;
  /** Wall-clock time of the last frame, ms since the epoch. */
  lastFrameAtMs: number | undefined;
  /** Errors ffmpeg reported while decoding (damaged data: each skipped or concealed picture gives one or more). */
  decodeErrors: number;
}

/** Fresh, zeroed stats. */
export function createIngestStats(): IngestStats {
  return { reconnects: 0, stalls: 0, framesDecoded: 0, framesDropped: 0, runs: 0, lastFrameAtMs: undefined, decodeErrors: 0 };
}

/** What frameSource receives. */
export interface FrameSourceDeps {
  logger: Logger;
  metrics?: PipelineMetrics;
  /** Wall clock for capturedAtMs and give-up decisions (default Date.now). */
  clock?: { now(): number };
  /** Timers: backoff, stall detection, kill grace (default asyncScheduler). */
  scheduler?: SchedulerLike;
  spawn?: SpawnFfmpeg;
  probe?: ProbeFn;
  /** Jitter source in [0, 1). */
  random?: () => number;
  /** Filled in place; pass your own to read it. */
  stats?: IngestStats;
  /** Lossless backpressure for files (see boundedQueue's `valve`). */
  valve?: Valve;
}

/** The source failed for good; `retriable` says whether trying again later may help. */
export class IngestError extends Error {
  constructor(message: string, readonly cameraId: string, readonly retriable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IngestError';
  }
}

/** A run of a live source ended (any exit counts as lost); internal to the retry loop. */
class SourceLost extends Error {
  constructor(readonly reason: 'exit' | 'stall' | 'probe' | 'spawn' | 'auth', detail: string) {
    super(detail);
    this.name = 'SourceLost';
  }
}

/** What ffmpeg and ffprobe print when an RTSP server refuses the URL's credentials. */
const AUTH_REFUSED = /\b401\b|Unauthorized|authorization failed/i;

/** A lost run, as `auth` when the camera refused the credentials (any of `lines` says so). */
function lost(reason: SourceLost['reason'], detail: string, lines: readonly string[] = []): SourceLost {
  return new SourceLost([detail, ...lines].some((l) => AUTH_REFUSED.test(l)) ? 'auth' : reason, detail);
}

/**
 * Media time of frame `index` of a run whose first frame is at `runBaseMs`. The fps filter
 * outputs a constant-rate stream: frame i of a run has presentation time i/fps from the run's
 * start (ffmpeg rebases the first input timestamp to 0), so index arithmetic is exact and needs
 * no timestamp parsing. Rounded to µs to keep float noise out of the messages.
 */
export function mediaTimeOf(runBaseMs: number, index: number, fps: number): number {
  return Math.round((runBaseMs + (index * 1000) / fps) * 1000) / 1000;
}

/**
 * Where a restarted live run starts on the media timeline: the wall time elapsed since the
 * stream's first frame (a camera's clock runs with the wall clock; the gap while it was lost
 * stays a gap), but never at or before the last frame already emitted.
 */
export function restartBaseMs(lastMediaMs: number | undefined, fps: number, firstFrameWallMs: number | undefined, nowMs: number): number {
  if (lastMediaMs === undefined) return 0;
  const next = lastMediaMs + 1000 / fps;
  const wall = firstFrameWallMs === undefined ? 0 : nowMs - firstFrameWallMs;
  return Math.max(next, wall);
}

/**
 * Counts a dropped frame in metrics and stats; hand it to boundedQueue as `onDrop`.
 */
export function dropCounter(cameraId: string, deps: { metrics?: PipelineMetrics; stats?: IngestStats }): (frame: Frame) => void {
  return () => {
    deps.metrics?.framesDropped.inc({ camera: cameraId, reason: 'queue_full' });
    if (deps.stats) deps.stats.framesDropped++;
  };
}

/**
 * One source as a cold Observable of RGB frames: each subscription owns one ffmpeg at a time,
 * and unsubscribing stops it. `seq` and `mediaTimeMs` rise across restarts.
 * - File: completes at EOF; a truncated file yields the frames before the cut, a warning, and
 *   completion; a missing or non-video file errors with a message saying what to do.
 * - Live (rtsp): any ffmpeg exit (even code 0: that is how ffmpeg 5.1 reports a server that
 *   went away) or a stall restarts it after a capped, jittered backoff; after `giveUpAfterMs`
 *   without a frame it errors with an {@link IngestError} naming the redacted URL.
 *   A camera that refuses the URL's credentials (401) is retried the same way, each attempt an
 *   error line naming the camera (never the password) and counted as `ffmpeg_restarts_total{reason="auth"}`.
 * The config is parsed (and checked) at subscription.
 */
export function frameSource(input: SourceConfigInput | SourceConfig, deps: FrameSourceDeps): Observable<Frame> {
  return defer(() => {
    const config = parseSourceConfig(input);
    const kind = classifyInput(config.url).kind;
    return kind === 'file' ? fileFrames(config, deps) : liveFrames(config, deps);
  });
}

interface Ctx {
  config: SourceConfig;
  log: Logger;
  stats: IngestStats;
  now: () => number;
  scheduler: SchedulerLike;
  secrets: string[];
  shown: string;
  seq: number;
  /** This run's id (the frames' `run`): a new one for every frame source, i.e. every ingest start. */
  run: string;
  /** Capture times of the frames of the last 5 s, for the input-fps gauge. */
  recent: number[];
}

function context(config: SourceConfig, deps: FrameSourceDeps): Ctx {
  const shown = redactUrl(config.url);
  return {
    config,
    log: deps.logger.child({ camera: config.cameraId, source: shown }),
    stats: deps.stats ?? createIngestStats(),
    now: deps.clock ? () => deps.clock!.now() : Date.now,
    scheduler: deps.scheduler ?? asyncScheduler,
    secrets: urlSecrets(config.url),
    shown,
    seq: 0,
    run: randomUUID().slice(0, 13),
    recent: [],
  };
}

function argsFor(config: SourceConfig, p: ProbeResult): FfmpegArgs {
  // The frame is the picture after the camera's turn (rotate): a quarter turn swaps its sides.
  const quarter = rotationSwapsSides(config.rotate);
  const size = outputSize(quarter ? p.height : p.width, quarter ? p.width : p.height, config.maxWidth, config.maxHeight);
  return buildFfmpegArgs({
    url: config.url, fps: outputFps(config.fpsLimit, p.fps), width: size.width, height: size.height,
    rtspTransport: config.rtspTransport, realtime: config.realtime, readTimeoutMs: config.readTimeoutMs, still: p.still,
    orientation: p.orientation, rotate: config.rotate,
  });
}

function toFrame(ctx: Ctx, args: FfmpegArgs, data: Buffer, mediaTimeMs: number, deps: FrameSourceDeps): Frame {
  const capturedAtMs = ctx.now();
  ctx.stats.framesDecoded++;
  ctx.stats.lastFrameAtMs = capturedAtMs;
  deps.metrics?.framesDecoded.inc({ camera: ctx.config.cameraId });
  if (deps.metrics) {
    // Input rate over the last 5 s of wall time (what the camera delivers, before any drop).
    ctx.recent.push(capturedAtMs);
    while (ctx.recent.length && ctx.recent[0] < capturedAtMs - 5000) ctx.recent.shift();
    const span = Math.max(1000, capturedAtMs - ctx.recent[0]);
    deps.metrics.inputFps.set({ camera: ctx.config.cameraId }, ctx.recent.length > 1 ? ((ctx.recent.length - 1) * 1000) / span : 0);
  }
  return {
    schemaVersion: SCHEMA_VERSION, cameraId: ctx.config.cameraId, seq: ctx.seq++, run: ctx.run, mediaTimeMs, capturedAtMs,
    width: args.width, height: args.height, pixels: { format: 'rgb', data },
  };
}

function fileFrames(config: SourceConfig, deps: FrameSourceDeps): Observable<Frame> {
  const ctx = context(config, deps);
  const probe = deps.probe ?? probeSource;
  return probeOnce(probe, config).pipe(
    concatMap((p) => {
      const args = argsFor(config, p);
      ctx.log.info('decoding file', {
        width: args.width, height: args.height, fps: args.fps, sourceFps: p.fps, durationMs: p.durationMs,
        codedWidth: p.codedWidth, codedHeight: p.codedHeight, rotation: p.rotation, sampleAspect: p.sampleAspect, still: p.still,
        orientation: p.orientation, rotate: config.rotate,
      });
      ctx.stats.runs++;
      return runFfmpeg(args, {
        logger: ctx.log, spawn: deps.spawn, scheduler: ctx.scheduler, secrets: ctx.secrets,
        stallTimeoutMs: config.stallTimeoutMs, killGraceMs: config.killGraceMs, valve: deps.valve,
      }).pipe(
        concatMap((ev): Observable<Frame> => {
          if (ev.type === 'frame') return of(toFrame(ctx, args, ev.data, mediaTimeOf(0, ev.index, args.fps), deps));
          ctx.stats.decodeErrors += ev.errorCount;
          const end = fileEnd(ev, p.durationMs, { fps: args.fps, shown: ctx.shown });
          if (end.error !== undefined) return throwError(() => new IngestError(`camera "${config.cameraId}": ${end.error}`, config.cameraId, false));
          ctx.log[end.level](end.msg, end.fields);
          return EMPTY;
        }),
      );
    }),
    // Probe and stall failures on a file are final; re-word them with the camera id.
    mapError((e) => {
      if (e instanceof StallError) {
        return new IngestError(`camera "${config.cameraId}": ${ctx.shown} delivered no frame for ${config.stallTimeoutMs} ms; the file may be on a hung mount, or raise stallTimeoutMs`, config.cameraId, true, { cause: e });
      }
      if (e instanceof SourceProbeError) return new IngestError(`camera "${config.cameraId}": ${e.message}`, config.cameraId, e.retriable, { cause: e });
      return e;
    }),
  );
}

function liveFrames(config: SourceConfig, deps: FrameSourceDeps): Observable<Frame> {
  const ctx = context(config, deps);
  const probe = deps.probe ?? probeSource;
  let probed: ProbeResult | undefined;
  let attempt = 0;
  let lastMediaMs: number | undefined;
  let firstFrameWallMs: number | undefined;
  const startedAt = ctx.now();
  let lastProgressAt = startedAt;
  let lastFailure = '';
  /** Failed attempts since the last frame (a probe that fails starts no ffmpeg run). */
  let failures = 0;

  const oneRun = defer(() => {
    const probing = probed ? of(probed) : probeOnce(probe, config).pipe(
      mapError((e) => (e instanceof SourceProbeError && e.retriable ? lost('probe', e.message) : e)),
    );
    return probing.pipe(mergeMap((p) => {
      probed = p;
      const args = argsFor(config, p);
      const base = restartBaseMs(lastMediaMs, args.fps, firstFrameWallMs, ctx.now());
      ctx.stats.runs++;
      ctx.log.info('starting live source', { run: ctx.stats.runs, width: args.width, height: args.height, fps: args.fps, rotate: config.rotate, mediaBaseMs: base });
      return runFfmpeg(args, {
        logger: ctx.log, spawn: deps.spawn, scheduler: ctx.scheduler, secrets: ctx.secrets,
        stallTimeoutMs: config.stallTimeoutMs, killGraceMs: config.killGraceMs, valve: deps.valve,
      }).pipe(
        map((ev) => {
          if (ev.type === 'exit') {
            // ffmpeg 5.1 exits with code 0 and no error when the server goes away: always "lost".
            throw lost(ev.exit.error ? 'spawn' : 'exit', exitText(ev), ev.errorLines);
          }
          attempt = 0;
          failures = 0;
          const t = mediaTimeOf(base, ev.index, args.fps);
          lastMediaMs = t;
          const f = toFrame(ctx, args, ev.data, t, deps);
          lastProgressAt = f.capturedAtMs;
          firstFrameWallMs ??= f.capturedAtMs;
          return f;
        }),
        mapError((e) => {
          if (e instanceof StallError) {
            ctx.stats.stalls++;
            deps.metrics?.streamStalls.inc({ camera: config.cameraId });
            return new SourceLost('stall', e.message);
          }
          return e;
        }),
      );
    }));
  });

  return oneRun.pipe(
    retry({
      delay: (err: unknown) => {
        if (!(err instanceof SourceLost)) return throwError(() => err);
        lastFailure = redactText(err.message, ctx.secrets);
        const now = ctx.now();
        const silentMs = now - lastProgressAt;
        failures++;
        const auth = err.reason === 'auth';
        if (config.giveUpAfterMs > 0 && silentMs >= config.giveUpAfterMs) {
          const msg = auth
            ? `camera "${config.cameraId}": ${ctx.shown} refused its credentials (401 Unauthorized) ${failures} time(s) in ${silentMs} ms ` +
              `(last: ${lastFailure}); giving up. Check the user name and password in the camera's URL (the password is never shown), or raise giveUpAfterMs`
            : `camera "${config.cameraId}": no frame from ${ctx.shown} for ${silentMs} ms after ${ctx.stats.runs} ffmpeg run(s) ` +
            `(last: ${lastFailure}); giving up. Check that the camera is on and reachable, and that the URL, credentials and ` +
            `rtspTransport (${config.rtspTransport}) are right, or raise giveUpAfterMs`;
          ctx.log.error('giving up on live source', { silentMs, runs: ctx.stats.runs, failures, last: lastFailure });
          return throwError(() => new IngestError(msg, config.cameraId, true));
        }
        let delayMs = backoffDelayMs(attempt++, config, deps.random);
        // Do not sleep past the give-up point: one last try lands right on it.
        if (config.giveUpAfterMs > 0) delayMs = Math.max(0, Math.min(delayMs, config.giveUpAfterMs - silentMs));
        ctx.stats.reconnects++;
        deps.metrics?.ffmpegRestarts.inc({ camera: config.cameraId, reason: err.reason });
        if (auth) ctx.log.error('camera refused the credentials (401 Unauthorized); retrying: check the user name and password in its URL', { detail: lastFailure, delayMs, attempt });
        else ctx.log.warn('live source lost; restarting', { reason: err.reason, detail: lastFailure, delayMs, attempt });
        return timer(delayMs, ctx.scheduler);
      },
    }),
    mapError((e) => (e instanceof SourceProbeError ? new IngestError(`camera "${config.cameraId}": ${e.message}`, config.cameraId, e.retriable, { cause: e }) : e)),
  );
}

function probeOnce(probe: ProbeFn, config: SourceConfig): Observable<ProbeResult> {
  return defer(() => {
    const r = probe(config.url, { rtspTransport: config.rtspTransport, readTimeoutMs: config.readTimeoutMs });
    return r instanceof Promise ? from(r) : of(r);
  });
}

/** Maps an error without changing values. */
function mapError<T>(fn: (e: unknown) => unknown) {
  return catchError<T, Observable<T>>((e: unknown) => throwError(() => fn(e)));
}
