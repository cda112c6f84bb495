import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { TestScheduler } from 'rxjs/testing';
import { createLogger, createMetrics } from '@emostream/runtime';
import { frameSource, IngestError } from './frameSource.js';
import type { FfmpegArgs } from './ffmpegArgs.js';
import { SourceProbeError, type ProbeResult } from './probe.js';
import type { FfmpegExit, FfmpegProcess } from './supervisor.js';

const PASSWORD = 'pw-Zq81x';
const URL_WITH_PW = `rtsp://viewer:${PASSWORD}@cam.local/s`;
const SETTINGS = { cameraId: 'door', url: URL_WITH_PW, backoffInitialMs: 100, backoffMaxMs: 400, giveUpAfterMs: 2000 };

/** An ffmpeg that prints `lines` to stderr and exits with code 1 after 10 ms. */
class FailingProc extends EventEmitter implements FfmpegProcess {
  readonly stdout = Object.assign(new EventEmitter(), { pause() {}, resume() {} }) as unknown as Readable;
  exited = false;
  constructor(lines: string[], scheduler: TestScheduler) {
    super();
    scheduler.schedule(() => {
      for (const l of lines) this.emit('stderr', l);
      this.exited = true;
      this.stdout.emit('end');
      this.emit('exit', { code: 1, signal: null } satisfies FfmpegExit);
    }, 10);
  }
  kill(): void {}
}

function harness(o: { probe: () => ProbeResult; stderr?: string[] }) {
  const scheduler = new TestScheduler((a, b) => assert.deepEqual(a, b));
  const lines: string[] = [];
  const metrics = createMetrics();
  let spawned = 0;
  const deps = {
    logger: createLogger({ level: 'debug', write: (l) => lines.push(l) }), metrics, random: () => 1, scheduler,
    clock: { now: () => scheduler.now() }, probe: o.probe,
    spawn: (_args: FfmpegArgs) => { spawned++; return new FailingProc(o.stderr ?? [], scheduler); },
  };
  let error: unknown;
  scheduler.run(() => { frameSource(SETTINGS, deps).subscribe({ error: (e) => { error = e; } }); });
  const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const restarts = async (reason: string) => (await metrics.ffmpegRestarts.get()).values.filter((v) => v.labels.reason === reason && v.labels.camera === 'door').reduce((s, v) => s + v.value, 0);
  return { error, lines, logged, restarts, spawned: () => spawned };
}

// What ffprobe says of a camera refusing the credentials (probe.ts words it, the URL redacted).
const refusedProbe = () => {
  throw new SourceProbeError('cannot open rtsp://***@cam.local/s (ffprobe: rtsp://***@cam.local/s: Server returned 401 Unauthorized (authorization failed)); check that the camera is reachable and the URL, credentials and rtspTransport are right', true);
};

test('a camera answering 401 at the probe: an error line per attempt naming the camera, a growing backoff, counted as auth, then a clear give-up', async () => {
  const h = harness({ probe: refusedProbe });
  const refusals = h.logged.filter((l) => l.msg === 'camera refused the credentials (401 Unauthorized); retrying: check the user name and password in its URL');
  assert.ok(refusals.length >= 5, `${refusals.length} attempts`);
  assert.ok(refusals.every((l) => l.level === 'error' && l.camera === 'door' && l.source === 'rtsp://***@cam.local/s'));
  // random = 1: each delay at its ceiling, doubling from 100 ms to the 400 ms cap (the last clamped to the give-up point).
  assert.deepEqual(refusals.slice(0, 4).map((l) => l.delayMs), [100, 200, 400, 400]);
  assert.equal(await h.restarts('auth'), refusals.length);
  assert.equal(await h.restarts('probe'), 0);
  assert.equal(h.spawned(), 0, 'no ffmpeg while the probe is refused');
  assert.ok(h.error instanceof IngestError);
  const msg = (h.error as Error).message;
  assert.match(msg, /^camera "door": rtsp:\/\/\*\*\*@cam\.local\/s refused its credentials \(401 Unauthorized\) \d+ time\(s\) in \d+ ms/);
  assert.match(msg, /Check the user name and password in the camera's URL/);
  for (const l of [msg, ...h.lines]) assert.ok(!l.includes(PASSWORD), `leak in: ${l}`);
});

test('ffmpeg refused with 401 after a good probe is an auth failure too; a refused connection is not', async () => {
  const probe = (): ProbeResult => ({ hasVideo: true, width: 4, height: 2, fps: 25, durationMs: undefined, codec: 'h264' });
  const auth = harness({ probe, stderr: [`[rtsp @ 0x1] method DESCRIBE failed: 401 Unauthorized`, `${URL_WITH_PW}: Server returned 401 Unauthorized (authorization failed)`] });
  assert.ok(await auth.restarts('auth') >= 5);
  assert.equal(await auth.restarts('exit'), 0);
  assert.match((auth.error as Error).message, /refused its credentials \(401 Unauthorized\)/);
  for (const l of [(auth.error as Error).message, ...auth.lines]) assert.ok(!l.includes(PASSWORD), `leak in: ${l}`);

  const down = harness({ probe, stderr: [`${URL_WITH_PW}: Connection refused`] });
  assert.equal(await down.restarts('auth'), 0);
  assert.ok(await down.restarts('exit') >= 5);
  assert.match((down.error as Error).message, /no frame from rtsp:\/\/\*\*\*@cam\.local\/s/);
});
