/**
 * The one module that spawns ffmpeg (through fluent-ffmpeg): one process per run, its stdout cut
 * into frames, its stderr redacted into the logger, stall detection, and SIGTERM → grace →
 * SIGKILL when the run is unsubscribed.
 */
import { EventEmitter } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import { Observable, asyncScheduler, type SchedulerLike, type Subscription } from 'rxjs';
import { redactText, type Logger } from '@emostream/runtime';
import { toArgv, type FfmpegArgs } from './ffmpegArgs.js';
import { FrameSplitter } from './frameSplitter.js';
import type { Valve } from './valve.js';

/** How an ffmpeg process ended. */
export interface FfmpegExit {
  code: number | null;
  signal: string | null;
  /** Set when ffmpeg could not be started at all (not installed, bad option). */
  error?: Error;
}

/** A running ffmpeg as the supervisor sees it; tests inject a fake. */
export interface FfmpegProcess {
  /** Raw frames. Ends when ffmpeg closes it. */
  readonly stdout: Readable;
  /** True once the process has exited (or never started). */
  readonly exited: boolean;
  kill(signal: NodeJS.Signals): void;
  /** One stderr line (unredacted: may hold the URL's password). */
  on(event: 'stderr', cb: (line: string) => void): this;
  /** Emitted once, after the process is gone. */
  on(event: 'exit', cb: (exit: FfmpegExit) => void): this;
}

/** Starts ffmpeg with the given command line. */
export type SpawnFfmpeg = (args: FfmpegArgs) => FfmpegProcess;

class FluentFfmpegProcess extends EventEmitter implements FfmpegProcess {
  readonly stdout = new PassThrough();
  exited = false;
  private proc: import('node:child_process').ChildProcess | undefined;
  private pendingSignal: NodeJS.Signals | undefined;

  constructor(args: FfmpegArgs) {
    super();
    // An RTSP URL comes on stdin (args.stdin), never on the command line.
    const cmd = ffmpeg({ stdoutLines: 20 }).input(args.stdin === undefined ? args.input : Readable.from([args.stdin]));
    // Spread: fluent-ffmpeg splits a lone "-opt value" string on spaces; separate arguments are kept as-is.
    if (args.inputOptions.length > 0) cmd.inputOptions(...(args.inputOptions as [string, ...string[]]));
    if (args.outputOptions.length > 0) cmd.outputOptions(...(args.outputOptions as [string, ...string[]]));
    cmd.on('start', () => {
      this.proc = (cmd as unknown as { ffmpegProc?: import('node:child_process').ChildProcess }).ffmpegProc;
      this.proc?.once('exit', (code, signal) => this.finish({ code, signal }));
      if (this.pendingSignal) this.proc?.kill(this.pendingSignal);
    });
    cmd.on('stderr', (line: string) => this.emit('stderr', line));
    // fluent-ffmpeg reports a non-zero exit as 'error'; the process 'exit' above carries the
    // code. An 'error' without a process (ffmpeg missing, capability check) ends the run here.
    cmd.on('error', (err: Error) => { if (!this.proc) this.finish({ code: null, signal: null, error: err }); });
    cmd.on('end', () => { /* exit is reported by the process itself */ });
    cmd.output(this.stdout, { end: true });
    cmd.run();
  }

  kill(signal: NodeJS.Signals): void {
    if (this.exited) return;
    if (this.proc) this.proc.kill(signal);
    else this.pendingSignal = signal;
  }

  private finish(exit: FfmpegExit): void {
    if (this.exited) return;
    this.exited = true;
    if (exit.error) this.stdout.end();
    this.emit('exit', exit);
  }
}

/** The real spawner: ffmpeg through fluent-ffmpeg. */
export const spawnFfmpeg: SpawnFfmpeg = (args) => new FluentFfmpegProcess(args);

/** Sends SIGTERM, then SIGKILL after `graceMs` if the process is still there. */
export function stopFfmpeg(proc: FfmpegProcess, graceMs: number, scheduler: SchedulerLike = asyncScheduler): void {
  if (proc.exited) return;
  proc.kill('SIGTERM');
  // ffmpeg blocked in a network read ignores one SIGTERM (no -timeout, or a half-open socket).
  const t = scheduler.schedule(() => { if (!proc.exited) proc.kill('SIGKILL'); }, graceMs);
  proc.on('exit', () => t.unsubscribe());
}

/** Raised inside a run when no frame arrived for the stall timeout; the run's ffmpeg is stopped. */
export class StallError extends Error {
  constructor(readonly stallTimeoutMs: number) {
    super(`no frame for ${stallTimeoutMs} ms`);
    this.name = 'StallError';
  }
}

/** One event of a run: a whole frame, or the end of the process. */
export type RunEvent =
  | { type: 'frame'; data: Buffer; index: number }
  | {
    type: 'exit'; exit: FfmpegExit; framesEmitted: number; partialBytes: number;
    /** The first 20 stderr lines (redacted); `errorCount` counts them all (ffmpeg runs with `-loglevel error`). */
    errorLines: string[]; errorCount: number;
  };

/** What {@link runFfmpeg} needs. */
export interface RunDeps {
  logger: Logger;
  spawn?: SpawnFfmpeg;
  scheduler?: SchedulerLike;
  /** Strings to remove from everything ffmpeg writes (see `urlSecrets`). */
  secrets?: readonly string[];
  /** No frame for this long → {@link StallError}. */
  stallTimeoutMs: number;
  killGraceMs: number;
  /** When given, stdout is paused while the valve is closed (and the stall clock stops). */
  valve?: Valve;
  /** ffmpeg stderr lines logged per run; the rest are counted (a broken stream can print thousands). */
  maxLoggedStderrLines?: number;
}

/**
 * One ffmpeg run as an Observable: subscribing spawns ffmpeg, each whole frame is emitted, then
 * one `exit` event and completion once the process is gone and stdout is drained. Errors with
 * {@link StallError} when frames stop. Unsubscribing (or erroring) stops the process:
 * SIGTERM, then SIGKILL after `killGraceMs`.
 */
export function runFfmpeg(args: FfmpegArgs, deps: RunDeps): Observable<RunEvent> {
  return new Observable<RunEvent>((sub) => {
    const scheduler = deps.scheduler ?? asyncScheduler;
    const secrets = deps.secrets ?? [];
    const maxLines = deps.maxLoggedStderrLines ?? 50;
    const log = deps.logger;
    const splitter = new FrameSplitter(args.frameBytes);
    const errorLines: string[] = [];
    let suppressed = 0;
    let errorCount = 0;
    let index = 0;
    let exit: FfmpegExit | undefined;
    let stdoutEnded = false;
    let done = false;
    let stallTimer: Subscription | undefined;
    let paused = false;

    log.debug('starting ffmpeg', { argv: redactText(toArgv(args).join(' '), secrets) });
    const proc = (deps.spawn ?? spawnFfmpeg)(args);

    const armStall = () => {
      stallTimer?.unsubscribe();
      if (paused || done) return;
      stallTimer = scheduler.schedule(() => {
        if (!done) sub.error(new StallError(deps.stallTimeoutMs));
      }, deps.stallTimeoutMs);
    };
    const maybeFinish = () => {
      if (done || !exit || !stdoutEnded) return;
      done = true;
      stallTimer?.unsubscribe();
      if (suppressed > 0) log.warn('ffmpeg stderr lines not logged', { suppressed });
      sub.next({ type: 'exit', exit, framesEmitted: index, partialBytes: splitter.reset(), errorLines, errorCount });
      sub.complete();
    };

    proc.on('stderr', (raw: string) => {
      const line = redactText(raw, secrets).trim();
      if (!line) return;
      errorCount++;
      if (errorLines.length < 20) errorLines.push(line);
      if (errorLines.length + suppressed <= maxLines) log.warn('ffmpeg: ' + line);
      else suppressed++;
    });
    proc.on('exit', (e: FfmpegExit) => {
      exit = e.error ? { ...e, error: new Error(redactText(e.error.message, secrets)) } : e;
      maybeFinish();
    });
    proc.stdout.on('data', (chunk: Buffer) => {
      if (done) return;
      for (const data of splitter.push(chunk)) {
        armStall();
        sub.next({ type: 'frame', data, index: index++ });
        if (done) return;
      }
    });
    proc.stdout.once('end', () => { stdoutEnded = true; maybeFinish(); });
    proc.stdout.once('error', () => { stdoutEnded = true; maybeFinish(); });

    const valveSub = deps.valve?.paused$.subscribe((p) => {
      paused = p;
      if (p) { proc.stdout.pause(); stallTimer?.unsubscribe(); }
      else { proc.stdout.resume(); armStall(); }
    });
    armStall();

    return () => {
      done = true;
      stallTimer?.unsubscribe();
      valveSub?.unsubscribe();
      proc.stdout.removeAllListeners('data');
      // Keep draining so a paused pipe cannot block ffmpeg's exit.
      proc.stdout.resume();
      stopFfmpeg(proc, deps.killGraceMs, scheduler);
    };
  });
}
