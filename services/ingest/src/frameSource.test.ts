import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { TestScheduler } from 'rxjs/testing';
import type { Frame } from '@emostream/contracts';
import { createLogger, createMetrics } from '@emostream/runtime';
import { createIngestStats, frameSource, IngestError, mediaTimeOf, restartBaseMs } from './frameSource.js';
import type { FfmpegArgs } from './ffmpegArgs.js';
import type { FfmpegExit, FfmpegProcess } from './supervisor.js';
import type { ProbeResult } from './probe.js';

const PASSWORD = 'pw-7Hq9x';
const URL_WITH_PW = `rtsp://user:${PASSWORD}@cam.local/s`;

/** A fake ffmpeg driven in virtual time. */
class FakeProc extends EventEmitter implements FfmpegProcess {
  readonly stdout = Object.assign(new EventEmitter(), { pause() {}, resume() {} }) as unknown as Readable;
  exited = false;
  signals: string[] = [];
  constructor(readonly args: FfmpegArgs, readonly ignoreTerm = false) { super(); }
  kill(signal: NodeJS.Signals): void {
    this.signals.push(signal);
    if (signal === 'SIGTERM' && this.ignoreTerm) return;
    this.exit({ code: null, signal });
  }
  frame(): void { if (!this.exited) this.stdout.emit('data', Buffer.alloc(this.args.frameBytes, 7)); }
  stderr(line: string): void { this.emit('stderr', line); }
  exit(e: FfmpegExit): void {
    if (this.exited) return;
    this.exited = true;
    this.stdout.emit('end');
    this.emit('exit', e);
  }
}

const probe = (): ProbeResult => ({ hasVideo: true, width: 4, height: 2, fps: 25, durationMs: undefined, codec: 'h264' });

function harness(plans: Array<(p: FakeProc, at: (ms: number, fn: () => void) => void) => void>, opts: { ignoreTerm?: boolean } = {}) {
  const scheduler = new TestScheduler((a, b) => assert.deepEqual(a, b));
  const procs: FakeProc[] = [];
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', write: (l) => lines.push(l) });
  const metrics = createMetrics();
  const stats = createIngestStats();
  const deps = {
    logger, metrics, stats, probe, random: () => 0,
    clock: { now: () => scheduler.now() },
    spawn: (args: FfmpegArgs) => {
      const p = new FakeProc(args, opts.ignoreTerm);
      const plan = plans[Math.min(procs.length, plans.length - 1)];
      procs.push(p);
      plan(p, (ms, fn) => scheduler.schedule(fn, ms));
      return p;
    },
  };
  return { scheduler, procs, lines, metrics, stats, deps };
}

const counter = async (c: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, unknown> }> }> }, labels: Record<string, string>) =>
  (await c.get()).values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((s, v) => s + v.value, 0);

test('live: an exit with code 0 is a loss; restart with backoff; seq and mediaTimeMs keep rising', async () => {
  const h = harness([
    (p, at) => { at(100, () => p.frame()); at(200, () => p.frame()); at(300, () => p.frame()); at(350, () => { p.stderr(`${URL_WITH_PW}: Connection reset by peer`); p.exit({ code: 0, signal: null }); }); },
    (p, at) => { at(100, () => p.frame()); at(200, () => p.frame()); },
  ]);
  const frames: Frame[] = [];
  let completed = false;
  h.scheduler.run(() => {
    const sub = frameSource({ cameraId: 'c1', url: URL_WITH_PW, fpsLimit: 10, backoffInitialMs: 100, backoffMaxMs: 1000, stallTimeoutMs: 1000 }, h.deps)
      .subscribe({ next: (f) => frames.push(f), complete: () => { completed = true; } });
    h.scheduler.schedule(() => sub.unsubscribe(), 700);
  });
  assert.equal(completed, false, 'a live source never completes on its own');
  assert.deepEqual(frames.map((f) => f.seq), [0, 1, 2, 3, 4]);
  // fps = min(10, 25) = 10: 100 ms per frame. Run 2 starts at 400 (350 + backoff 50), i.e. 300 ms
  // of wall time after the first frame, which is also last + 100.
  assert.deepEqual(frames.map((f) => f.mediaTimeMs), [0, 100, 200, 300, 400]);
  assert.deepEqual(frames.map((f) => f.capturedAtMs), [100, 200, 300, 500, 600]);
  assert.ok(frames.every((f) => f.cameraId === 'c1' && f.width === 4 && f.height === 2 && f.pixels.data.length === 24 && f.schemaVersion === 1));
  assert.equal(h.procs.length, 2);
  assert.equal(h.stats.reconnects, 1);
  assert.equal(h.stats.framesDecoded, 5);
  assert.equal(await counter(h.metrics.ffmpegRestarts, { camera: 'c1', reason: 'exit' }), 1);
  assert.equal(await counter(h.metrics.framesDecoded, { camera: 'c1' }), 5);
  assert.deepEqual(h.procs[1].signals, ['SIGTERM'], 'unsubscribe stops ffmpeg');
  assert.ok(h.lines.some((l) => l.includes('Connection reset by peer')), 'ffmpeg stderr reaches the log');
  assert.ok(h.lines.every((l) => !l.includes(PASSWORD)), 'no password in any log line');
});

test('live: a stall kills ffmpeg (SIGTERM, then SIGKILL after the grace) and restarts it', async () => {
  const h = harness([
    (p, at) => { at(100, () => p.frame()); },
    (p, at) => { at(100, () => p.frame()); at(200, () => p.frame()); },
  ], { ignoreTerm: true });
  const frames: Frame[] = [];
  let killAt: Record<string, number> = {};
  h.scheduler.run(() => {
    const sub = frameSource({ cameraId: 'c2', url: 'rtsp://h/s', fpsLimit: 10, stallTimeoutMs: 1000, killGraceMs: 200, backoffInitialMs: 100 }, h.deps)
      .subscribe((f) => frames.push(f));
    h.scheduler.schedule(() => { killAt = { n: h.procs[0].signals.length }; }, 1150);
    h.scheduler.schedule(() => sub.unsubscribe(), 1500);
  });
  assert.equal(killAt.n, 1, 'SIGTERM at the stall (1100), SIGKILL not yet at 1150');
  assert.deepEqual(h.procs[0].signals, ['SIGTERM', 'SIGKILL']);
  assert.equal(h.stats.stalls, 1);
  assert.equal(await counter(h.metrics.streamStalls, { camera: 'c2' }), 1);
  assert.equal(await counter(h.metrics.ffmpegRestarts, { camera: 'c2', reason: 'stall' }), 1);
  assert.deepEqual(frames.map((f) => f.seq), [0, 1, 2]);
  const t = frames.map((f) => f.mediaTimeMs);
  assert.ok(t[1] > t[0] && t[2] > t[1], `media time rises across the restart: ${t}`);
  // The restart at 1150 is 1050 ms of wall time after the first frame: the gap is kept.
  assert.equal(t[1], 1050);
});

test('live: an unreachable camera is retried with backoff, then given up with a redacted, actionable error', () => {
  const h = harness([(p, at) => { at(10, () => { p.stderr(`${URL_WITH_PW}: Connection refused`); p.exit({ code: 1, signal: null }); }); }]);
  h.deps.random = () => 1;
  let error: unknown;
  let errorAt = -1;
  h.scheduler.run(() => {
    frameSource({ cameraId: 'c3', url: URL_WITH_PW, backoffInitialMs: 100, backoffMaxMs: 400, giveUpAfterMs: 2000 }, h.deps)
      .subscribe({ error: (e) => { error = e; errorAt = h.scheduler.now(); } });
  });
  assert.ok(error instanceof IngestError, String(error));
  const msg = (error as Error).message;
  assert.match(msg, /camera "c3": no frame from rtsp:\/\/\*\*\*@cam\.local\/s for \d+ ms/);
  assert.match(msg, /Connection refused/);
  assert.match(msg, /raise giveUpAfterMs/);
  assert.ok(!msg.includes(PASSWORD));
  // Runs at 0, 110, 320, 730, 1140, 1550, 1960, and one last at 2000 (clamped): then give up.
  assert.ok(errorAt >= 2000 && errorAt <= 2100, `gave up at ${errorAt}`);
  assert.equal(h.procs.length, 8);
  assert.equal(h.stats.reconnects, 7);
  assert.ok(h.lines.every((l) => !l.includes(PASSWORD)));
});

test('file: a truncated file yields the frames before the cut, warns, and completes', () => {
  const h = harness([(p, at) => {
    at(1, () => p.frame()); at(2, () => p.frame());
    at(3, () => { p.stderr('[mov,mp4] stream 0, offset 0x49791: partial file'); p.exit({ code: 0, signal: null }); });
  }]);
  h.deps.probe = () => ({ ...probe(), durationMs: 10_000 });
  const frames: Frame[] = [];
  let completed = false;
  h.scheduler.run(() => {
    frameSource({ url: '/videos/cut.mp4', fpsLimit: 5 }, h.deps).subscribe({ next: (f) => frames.push(f), complete: () => { completed = true; } });
  });
  assert.ok(completed);
  assert.deepEqual(frames.map((f) => f.mediaTimeMs), [0, 200]);
  assert.equal(h.procs.length, 1, 'a file is never restarted');
  const warn = h.lines.map((l) => JSON.parse(l)).find((l) => l.level === 'warn' && /truncated/.test(l.msg));
  assert.ok(warn, 'warning logged');
  assert.equal(warn.expectedFrames, 50);
});

test('file: ffmpeg failing before any frame is an error naming the file', () => {
  const h = harness([(p, at) => { at(1, () => { p.stderr('Invalid data found when processing input'); p.exit({ code: 1, signal: null }); }); }]);
  let error: unknown;
  h.scheduler.run(() => { frameSource({ url: '/videos/bad.mp4' }, h.deps).subscribe({ error: (e) => { error = e; } }); });
  assert.ok(error instanceof IngestError);
  assert.match((error as Error).message, /cannot decode \/videos\/bad\.mp4: ffmpeg exited with code 1 \(Invalid data found/);
});

test('file: a clean EOF completes without a warning', () => {
  const h = harness([(p, at) => { at(1, () => p.frame()); at(2, () => p.exit({ code: 0, signal: null })); }]);
  let completed = false;
  h.scheduler.run(() => { frameSource({ url: '/videos/ok.mp4' }, h.deps).subscribe({ complete: () => { completed = true; } }); });
  assert.ok(completed);
  assert.ok(!h.lines.some((l) => JSON.parse(l).level === 'warn'));
});

test('bad config fails at subscription with the field and range', () => {
  const h = harness([() => {}]);
  let error: unknown;
  frameSource({ url: 'a.mp4', fpsLimit: 500 }, h.deps).subscribe({ error: (e) => { error = e; } });
  assert.match(String(error), /fpsLimit must be between 0.1 and 120/);
  assert.equal(h.procs.length, 0);
});

test('media time helpers', () => {
  assert.equal(mediaTimeOf(0, 3, 29.97), 100.1);
  assert.equal(restartBaseMs(undefined, 10, undefined, 5000), 0);
  assert.equal(restartBaseMs(900, 10, 1000, 1500), 1000, 'never before last + one frame');
  assert.equal(restartBaseMs(900, 10, 1000, 9000), 8000, 'keeps the wall-clock gap');
});
